#include "core/hash.h"

#include <gtest/gtest.h>

namespace driftwatch {
namespace {

TEST(HashTest, KnownVectors) {
  // sha256("abc") from FIPS 180-2.
  EXPECT_EQ(Hasher::Of(HashAlgo::kSha256, "abc").Hex(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // XXH3-128 of the empty input, as printed by `xxhsum -H2 /dev/null`.
  EXPECT_EQ(Hasher::Of(HashAlgo::kXxh128, "").Hex(), "xxh128:99aa06d3014798d86001c324468d497f");
  EXPECT_EQ(HashBytes("").Hex(), "99aa06d3014798d86001c324468d497f");
}

TEST(HashTest, StreamingEqualsOneShot) {
  std::string data(100000, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  for (HashAlgo algo : {HashAlgo::kXxh128, HashAlgo::kSha256}) {
    Hasher h(algo);
    for (size_t i = 0; i < data.size(); i += 997) h.Update(data.substr(i, 997));
    EXPECT_EQ(h.Finish(), Hasher::Of(algo, data));
  }
}

TEST(HashTest, DigestRoundTripsAndRejectsGarbage) {
  Digest d = Hasher::Of(HashAlgo::kSha256, "x");
  auto parsed = Digest::Parse(d.Hex());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, d);
  for (const char* bad : {"sha256:zz", "md5:00", "xxh128:00", "nocolon"}) {
    EXPECT_FALSE(Digest::Parse(bad).ok()) << bad;
  }
  Hash128 h = HashBytes("tree");
  EXPECT_EQ(Hash128::FromHex(h.Hex()).value(), h);
}

}  // namespace
}  // namespace driftwatch
