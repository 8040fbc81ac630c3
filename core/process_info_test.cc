#include "core/process_info.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace driftwatch {
namespace {

TEST(ParseProcStatTest, ReadsCommStatePpidAndStartTime) {
  auto st = ParseProcStat(
      "4242 (my (odd) name) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
      "987654 1000 100 18446744073709551615\n");
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->comm, "my (odd) name");
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->ppid, 17);
  EXPECT_EQ(st->start_time, 987654u);
}

TEST(ParseProcStatTest, RefusesTruncatedAndGarbage) {
  EXPECT_FALSE(ParseProcStat("").has_value());
  EXPECT_FALSE(ParseProcStat("12 (sh").has_value());
  EXPECT_FALSE(ParseProcStat("12 (sh) S 1 2 3").has_value());
  EXPECT_FALSE(
      ParseProcStat("12 (sh) SS 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19").has_value());
  EXPECT_FALSE(ParseProcStat(")( S 1").has_value());
}

TEST(ParseProcStatusTest, ReadsRealAndEffectiveUidAndPpid) {
  ProcStatus s = ParseProcStatus(
      "Name:\tpasswd\nUmask:\t0022\nState:\tS (sleeping)\nPPid:\t311\n"
      "Uid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\n");
  EXPECT_EQ(s.uid, 1000);
  EXPECT_EQ(s.euid, 0);
  EXPECT_EQ(s.ppid, 311);
}

TEST(ParseProcStatusTest, UnknownWhenMissingOrMalformed) {
  ProcStatus s = ParseProcStatus("Name:\tx\nUid:\tabc\t0\nPPid:\n");
  EXPECT_EQ(s.uid, -1);
  EXPECT_EQ(s.euid, -1);
  EXPECT_EQ(s.ppid, -1);
}

TEST(ParseCgroupV2Test, TakesTheUnifiedLine) {
  EXPECT_EQ(ParseCgroupV2("0::/system.slice/nginx.service\n"), "/system.slice/nginx.service");
  EXPECT_EQ(ParseCgroupV2("12:cpu,cpuacct:/x\n0::/user.slice/a b\n"), "/user.slice/a b");
  EXPECT_EQ(ParseCgroupV2("12:cpu:/x\n"), "");
  EXPECT_EQ(ParseCgroupV2(""), "");
}

TEST(JoinCmdlineTest, JoinsArgumentsBySpacesAndBounds) {
  EXPECT_EQ(JoinCmdline(std::string("sh\0-c\0echo x >> f\0", 19)), "sh -c echo x >> f");
  EXPECT_EQ(JoinCmdline(""), "");
  std::string long_arg(3 * kMaxActorCmdline, 'a');
  EXPECT_EQ(JoinCmdline(long_arg).size(), kMaxActorCmdline);
}

TEST(ParseAuditIdTest, UnsetIsMinusOne) {
  EXPECT_EQ(ParseAuditId("1000"), 1000);
  EXPECT_EQ(ParseAuditId("3\n"), 3);
  EXPECT_EQ(ParseAuditId("4294967295"), -1);
  EXPECT_EQ(ParseAuditId("-5"), -1);
  EXPECT_EQ(ParseAuditId(""), -1);
  EXPECT_EQ(ParseAuditId("12x"), -1);
}

TEST(ActorReaderTest, ReadsThisProcessOnceAndGoneProcessAsExited) {
  ActorReader reader;
  Actor a = reader.Read(::getpid(), -1, 1'000);
  EXPECT_EQ(a.pid, ::getpid());
  EXPECT_FALSE(a.exe.empty());
  EXPECT_EQ(a.uid, static_cast<int64_t>(::getuid()));
  EXPECT_EQ(a.euid, static_cast<int64_t>(::geteuid()));
  EXPECT_EQ(a.ppid, ::getppid());
  EXPECT_FALSE(a.exited);
  Actor again = reader.Read(::getpid(), -1, 2'000);
  EXPECT_EQ(again, a);
  EXPECT_EQ(reader.proc_reads(), 1u);
  // No such pid: pid only, exited.
  Actor gone = reader.Read(0x7ffffff0, -1, 3'000);
  Actor expected;
  expected.pid = 0x7ffffff0;
  expected.exited = true;
  EXPECT_EQ(gone, expected);
}

}  // namespace
}  // namespace driftwatch
