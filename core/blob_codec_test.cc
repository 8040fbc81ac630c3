#include "core/blob_codec.h"

#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "tests/testing/run.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch {
namespace {

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

TEST(BlobCodecTest, RoundTrips) {
  std::string config;
  for (int i = 0; i < 500; ++i) config += "option_" + std::to_string(i % 20) + " = yes\n";
  for (const std::string& raw : {std::string(), std::string("x"), config, RandomBytes(200000, 1),
                                 std::string("\0\0binary\0", 9)}) {
    Result<std::string> frame = CompressBlob(raw);
    ASSERT_TRUE(frame.ok()) << frame.status().message();
    Result<std::string> back = DecompressBlob(*frame, raw.size());
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(*back, raw);
  }
  Result<std::string> frame = CompressBlob(config);
  ASSERT_TRUE(frame.ok());
  EXPECT_LT(frame->size(), config.size() / 10);
}

TEST(BlobCodecTest, FrameIsReadableByZstdTool) {
  testutil::TempDir dir;
  std::string raw = "root:x:0:0:root:/root:/bin/bash\n";
  Result<std::string> frame = CompressBlob(raw);
  ASSERT_TRUE(frame.ok());
  testutil::WriteFile(dir / "blob.zst", *frame);
  testutil::RunResult r = testutil::Run("zstd -dc " + testutil::Quote(dir / "blob.zst"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, raw);
}

TEST(BlobCodecTest, SizeCapIsCheckedFromTheHeader) {
  std::string raw(1 << 20, 'a');
  Result<std::string> frame = CompressBlob(raw);
  ASSERT_TRUE(frame.ok());
  Result<std::string> capped = DecompressBlob(*frame, raw.size() - 1);
  ASSERT_FALSE(capped.ok());
  EXPECT_EQ(capped.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(capped.status().message().find("1048576"), std::string::npos)
      << capped.status().message();
  EXPECT_TRUE(DecompressBlob(*frame, raw.size()).ok());
}

TEST(BlobCodecTest, FrameWithoutRecordedSizeIsCappedWhileDecoding) {
  // zstd(1) reading a pipe writes no content size; such a frame is decoded in
  // steps and refused as soon as it passes the cap.
  testutil::TempDir dir;
  testutil::RunResult r =
      testutil::Run("head -c 3000000 /dev/zero | zstd -q -c > " + testutil::Quote(dir / "z"));
  ASSERT_EQ(r.exit_code, 0);
  std::ifstream in(dir / "z", std::ios::binary);
  std::string frame((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Result<std::string> capped = DecompressBlob(frame, 1 << 20);
  ASSERT_FALSE(capped.ok());
  EXPECT_EQ(capped.status().code(), StatusCode::kResourceExhausted);
  Result<std::string> whole = DecompressBlob(frame, 3000000);
  ASSERT_TRUE(whole.ok()) << whole.status().message();
  EXPECT_EQ(*whole, std::string(3000000, '\0'));
}

TEST(BlobCodecTest, CorruptFramesAreRefused) {
  std::string raw = RandomBytes(5000, 2) + std::string(5000, 'z');
  Result<std::string> frame = CompressBlob(raw);
  ASSERT_TRUE(frame.ok());
  auto expect_corrupt = [](const std::string& bytes, const std::string& what) {
    Result<std::string> r = DecompressBlob(bytes, 1 << 20);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << what;
    EXPECT_FALSE(r.status().message().empty()) << what;
  };
  expect_corrupt("", "empty");
  expect_corrupt("not zstd at all", "text");
  expect_corrupt(frame->substr(0, frame->size() / 2), "cut in half");
  expect_corrupt(frame->substr(0, frame->size() - 1), "last byte missing");
  expect_corrupt(*frame + "x", "trailing byte");
  expect_corrupt(*frame + *frame, "two frames");
  // A flipped byte inside the compressed data: the checksum catches what the
  // decoder does not.
  for (size_t pos : {size_t{20}, frame->size() / 2, frame->size() - 2}) {
    std::string bad = *frame;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x40);
    Result<std::string> r = DecompressBlob(bad, 1 << 20);
    ASSERT_FALSE(r.ok()) << "flip at " << pos;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << "flip at " << pos;
  }
  // A skippable frame holds no content.
  std::string skippable(
      "\x50\x2a\x4d\x18\x04\x00\x00\x00"
      "abcd",
      12);
  expect_corrupt(skippable, "skippable frame");
}

}  // namespace
}  // namespace driftwatch
