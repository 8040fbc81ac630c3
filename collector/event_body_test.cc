#include "collector/event_body.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <string>

#include "core/base64.h"
#include "core/drift_json.h"
#include "core/hash.h"

namespace driftwatch::collector {
namespace {

Entry FileEntry(int64_t size, std::string_view content) {
  Entry e;
  e.mask = kAttrType | kAttrPerm | kAttrUid | kAttrGid | kAttrSize | kAttrMtime | kAttrHash;
  e.mode = 0644;
  e.size = size;
  e.mtime_ns = 1793491200123456789LL;
  e.content = *Digest::Parse("xxh128:" + HashBytes(content).Hex());
  return e;
}

// The wire JSON of a check's modification of a config file.
std::string ModifiedJson(const std::string& path) {
  DriftEvent e;
  e.path = path;
  e.kind = DriftKind::kModified;
  e.severity = Severity::kMedium;
  e.rule = "/etc/** (default.yaml:3)";
  e.old_entry = FileEntry(1834, "before " + path);
  e.new_entry = FileEntry(1902, "after " + path);
  e.changed = kAttrSize | kAttrMtime | kAttrHash;
  return DriftEventToJson(e).serialize();
}

TEST(EventBodyTest, PacksATypicalBodyToUnderTwoFifthsAndBack) {
  const std::string json = ModifiedJson("/etc/nginx/nginx.conf");
  const std::string packed = PackEventBody(json);
  EXPECT_EQ(packed.substr(0, 3), "z1:");
  EXPECT_LT(packed.size() * 5, json.size() * 2) << json.size() << " -> " << packed.size();
  auto back = UnpackEventBody(packed);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, json);
  EXPECT_EQ(StoredEventJson(packed), json);
}

TEST(EventBodyTest, EveryKindOfBodyComesBackByteForByte) {
  DriftEvent e;
  e.path = "/etc/caf\xc3\xa9/\"quoted\" name";
  e.kind = DriftKind::kAdded;
  e.severity = Severity::kCritical;
  e.new_entry = FileEntry(7, "x");
  Actor a;
  a.pid = 4242;
  a.uid = 1000;
  a.exe = "/usr/bin/vim.basic";
  a.cmdline = "vim /etc/hosts";
  e.actor = a;
  e.time_ns = 1793491200123456789LL;
  e.diff = std::string(20000, 'a') + "\n+changed line\n";
  const std::string big = DriftEventToJson(e).serialize();
  for (const std::string& json : {big, ModifiedJson("/usr/lib/x"), std::string("{}"),
                                  std::string(R"({"path":"/a","kind":"removed"})")}) {
    auto back = UnpackEventBody(PackEventBody(json));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, json);
  }
  EXPECT_LT(PackEventBody(big).size(), big.size() / 10);
}

TEST(EventBodyTest, ShortAndPlainBodiesAreKeptAsTheyAre) {
  const std::string small = R"({"path":"/a","kind":"removed"})";
  EXPECT_EQ(PackEventBody(small), small);
  // Bodies stored before packing existed are plain JSON, read as they are.
  const std::string plain = ModifiedJson("/etc/hosts");
  auto back = UnpackEventBody(plain);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, plain);
}

TEST(EventBodyTest, DamagedPackedBodiesAreRefused) {
  const std::string packed = PackEventBody(ModifiedJson("/etc/hosts"));
  auto frame = Base64Decode(packed.substr(3));
  ASSERT_TRUE(frame.ok());
  std::string flipped = *frame;
  flipped[flipped.size() / 2] ^= 0x55;
  // A frame header (single segment, 8-byte content size) claiming 2^40
  // bytes: refused before any allocation.
  const std::string claims_huge = std::string("\x28\xb5\x2f\xfd\xe0", 5) +
                                  std::string("\x00\x00\x00\x00\x00\x01\x00\x00", 8) +
                                  frame->substr(6);
  EXPECT_EQ(ZSTD_getFrameContentSize(claims_huge.data(), claims_huge.size()), 1ull << 40);
  for (const std::string& bad :
       {std::string("z1:not base64!"), std::string("z1:"), packed.substr(0, packed.size() - 8),
        "z1:" + Base64Encode(flipped), "z1:" + Base64Encode(frame->substr(0, frame->size() / 2)),
        "z1:" + Base64Encode(claims_huge), "z1:" + Base64Encode(std::string(40, '\0'))}) {
    auto r = UnpackEventBody(bad);
    EXPECT_FALSE(r.ok()) << bad;
    // Readers that show what is stored get it back unchanged.
    EXPECT_EQ(StoredEventJson(bad), bad);
  }
}

}  // namespace
}  // namespace driftwatch::collector
