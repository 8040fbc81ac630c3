#include "container/state.h"

#include "container/proc_stat.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace driftwatch::container {
namespace {

TEST(StateTest, ParsesVolumes) {
  auto v = ParseVolume("/srv/data:/data:ro");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, (VolumeSpec{"/srv/data", "/data", true}));
  v = ParseVolume("/srv/data:/var/lib/db");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, (VolumeSpec{"/srv/data", "/var/lib/db", false}));
  for (const char* bad : {"/a", "rel:/b", "/a:rel", "/a:/b/../c", "/a:/b:rw:x", "/a:/b:xx", "/a:/",
                          "/a:/b/", "/a,b:/c", "/a:/b/./c"}) {
    EXPECT_EQ(ParseVolume(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(StateTest, ParsesSizes) {
  EXPECT_EQ(*ParseByteSize("256M"), 256ull << 20);
  EXPECT_EQ(*ParseByteSize("1g"), 1ull << 30);
  EXPECT_EQ(*ParseByteSize("512k"), 512ull << 10);
  EXPECT_EQ(*ParseByteSize("512"), 512ull);
  for (const char* bad : {"", "M", "0", "-1", "1.5G", "99999999999999999999", "20000000000G"}) {
    EXPECT_FALSE(ParseByteSize(bad).ok()) << bad;
  }
}

TEST(StateTest, ValidatesNames) {
  EXPECT_TRUE(ValidateName("container", "web-1.a_b").ok());
  const std::string too_long(65, 'a');
  for (const std::string& bad :
       std::vector<std::string>{"", ".x", "-x", "a/b", "a b", "..", too_long}) {
    EXPECT_EQ(ValidateName("container", bad).code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(StateTest, ContainerRecordRoundTrips) {
  ContainerRecord r;
  r.name = "web";
  r.id = "0123456789abcdef";
  r.image = "bb";
  r.image_digest = HashBytes("x");
  r.command = {"/bin/sh", "-c", "echo \"hi\""};
  r.env = {"A=1"};
  r.volumes = {{"/srv", "/data", true}};
  r.net = "none";
  r.memory_bytes = 1 << 20;
  r.pids_max = 64;
  r.service = "web";
  r.slot = "b";
  r.pid = 4242;
  r.start_ticks = 99;
  r.monitor_pid = 4241;
  r.created_ns = 1;
  r.started_ns = 2;
  r.finished_ns = 3;
  r.status = "exited";
  r.exit_code = 143;
  auto back = ContainerRecordFromJson(ContainerRecordToJson(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(ContainerRecordToJson(*back), ContainerRecordToJson(r));
  EXPECT_EQ(back->volumes, r.volumes);
  EXPECT_EQ(back->image_digest, r.image_digest);
}

TEST(StateTest, RefusesUnknownVersionsAndGarbage) {
  auto r = ContainerRecordFromJson(R"({"version": 2, "name": "x"})");
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(r.status().message().find("version 2"), std::string::npos);
  EXPECT_EQ(ContainerRecordFromJson("{").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(ContainerRecordFromJson("[]").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(ContainerRecordFromJson(R"({"version": 1, "pid": "x"})").status().code(),
            StatusCode::kCorruption);
  EXPECT_EQ(ImageRecordFromJson(R"({"version": 1, "digest": "zz"})").status().code(),
            StatusCode::kCorruption);
  EXPECT_EQ(ServiceRecordFromJson(std::string(100, '[')).status().code(), StatusCode::kCorruption);
}

TEST(StateTest, ServiceRecordRoundTrips) {
  ServiceRecord s{"web", "b", "a", "test -f /ok"};
  auto back = ServiceRecordFromJson(ServiceRecordToJson(s));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->active, "b");
  EXPECT_EQ(back->previous, "a");
  EXPECT_EQ(back->health, "test -f /ok");
}

TEST(StateTest, ProcessStartTicksOfSelf) {
  EXPECT_NE(ProcessStartTicks(DefaultHost(), getpid()), 0u);
  EXPECT_TRUE(ProcessMatches(DefaultHost(), getpid(), ProcessStartTicks(DefaultHost(), getpid())));
  EXPECT_FALSE(
      ProcessMatches(DefaultHost(), getpid(), ProcessStartTicks(DefaultHost(), getpid()) + 1));
  EXPECT_EQ(ProcessStartTicks(DefaultHost(), 0), 0u);
}

TEST(ProcStatField, ReadsFieldsAfterTheCommandName) {
  const std::string line =
      "4242 (a b) (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 50\n";
  EXPECT_EQ(ProcStatField(line, 3), std::nullopt);  // "S" is no number
  EXPECT_EQ(ProcStatField(line, 4), 1u);
  EXPECT_EQ(ProcStatField(line, 9), 4194560u);
  EXPECT_EQ(ProcStatField(line, 22), 987654u);
  EXPECT_EQ(ProcStatField(line, 24), 50u);  // last field, before the newline
  EXPECT_EQ(ProcStatField(line, 25), std::nullopt);
  EXPECT_EQ(ProcStatField(line, 2), std::nullopt);
  EXPECT_EQ(ProcStatField("no parenthesis 1 2 3", 4), std::nullopt);
  EXPECT_EQ(ProcStatField("1 (x)", 3), std::nullopt);
  // kdevtmpfs: PF_KTHREAD (0x00200000) set in the flags.
  EXPECT_NE(*ProcStatField("25 (kdevtmpfs) S 2 0 0 0 -1 2129984 0", 9) & 0x00200000u, 0u);
}

}  // namespace
}  // namespace driftwatch::container
