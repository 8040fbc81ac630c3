#include "packages/digest.h"

#include <gtest/gtest.h>

#include "core/hash.h"

namespace driftwatch::packages {
namespace {

TEST(DigestTest, KnownVectors) {
  struct Case {
    DigestAlgo algo;
    std::string_view data;
    std::string_view hex;
  };
  const Case kCases[] = {
      {DigestAlgo::kMd5, "", "d41d8cd98f00b204e9800998ecf8427e"},
      {DigestAlgo::kMd5, "abc", "900150983cd24fb0d6963f7d28e17f72"},
      {DigestAlgo::kSha1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
      {DigestAlgo::kSha256, "abc",
       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
  };
  for (const Case& c : kCases) {
    FileDigest d = DigestHasher::Of(c.algo, c.data);
    EXPECT_EQ(d.algo, c.algo);
    EXPECT_EQ(HexEncode(d.bytes), c.hex) << DigestAlgoName(c.algo) << " of '" << c.data << "'";
    auto parsed = FileDigest::FromHex(c.algo, c.hex);
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    EXPECT_EQ(*parsed, d);
  }
}

TEST(DigestTest, StreamingEqualsOneShotAndResets) {
  DigestHasher h(DigestAlgo::kSha1);
  h.Update("a", 1);
  h.Update("bc", 2);
  EXPECT_EQ(h.Finish(), DigestHasher::Of(DigestAlgo::kSha1, "abc"));
  h.Update("abc", 3);
  EXPECT_EQ(h.Finish(), DigestHasher::Of(DigestAlgo::kSha1, "abc"));
}

TEST(DigestTest, HexForm) {
  EXPECT_EQ(DigestHasher::Of(DigestAlgo::kMd5, "abc").Hex(),
            "md5:900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(FileDigest().Hex(), "");
}

TEST(DigestTest, FromHexRejects) {
  auto short_hex = FileDigest::FromHex(DigestAlgo::kMd5, "abcd");
  EXPECT_EQ(short_hex.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(short_hex.status().message(), "expected 32 hex digits for md5, got 'abcd'");
  auto bad = FileDigest::FromHex(DigestAlgo::kMd5, "zz0150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(bad.status().message(), "bad hex digest 'zz0150983cd24fb0d6963f7d28e17f72'");
}

TEST(DigestTest, RpmAlgorithms) {
  EXPECT_EQ(*DigestAlgoFromRpm(1), DigestAlgo::kMd5);
  EXPECT_EQ(*DigestAlgoFromRpm(2), DigestAlgo::kSha1);
  EXPECT_EQ(*DigestAlgoFromRpm(8), DigestAlgo::kSha256);
  EXPECT_EQ(*DigestAlgoFromRpm(9), DigestAlgo::kSha384);
  EXPECT_EQ(*DigestAlgoFromRpm(10), DigestAlgo::kSha512);
  EXPECT_EQ(*DigestAlgoFromRpm(11), DigestAlgo::kSha224);
  auto bad = DigestAlgoFromRpm(3);
  EXPECT_EQ(bad.status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(bad.status().message(), "unknown rpm file digest algorithm 3");
}

}  // namespace
}  // namespace driftwatch::packages
