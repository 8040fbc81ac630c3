// The verification cache read and written in pieces (what `packages verify`
// and `check --verify-packages` use): the same blob as the in-memory writer,
// the same rows as the in-memory reader across buffer refills, and a damaged
// file never trusted.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/hash.h"
#include "packages/test_util.h"
#include "packages/verify_cache.h"

namespace driftwatch::packages {
namespace {

using testing::TempRoot;

// Rows of many sizes: short paths, and a path of 60,000 bytes now and then
// so that rows straddle the reader's buffer.
std::vector<std::pair<std::string, std::string>> Rows() {
  std::vector<std::pair<std::string, std::string>> rows;
  for (int i = 0; i < 20000; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "/usr/share/f%06d", i);
    std::string path = name;
    if (i % 5000 == 17) path += "/" + std::string(60000, 'a' + static_cast<char>(i % 26));
    rows.emplace_back(path, std::string(16, static_cast<char>(i)));
  }
  return rows;
}

CacheRow Row(const std::pair<std::string, std::string>& r, uint64_t i) {
  CacheRow row;
  row.path = r.first;
  row.dev = 2049;
  row.ino = 1000 + i;
  row.size = i * 7;
  row.mtime_ns = 1700000000000000000 + static_cast<int64_t>(i);
  row.ctime_ns = 1700000000000000001 + static_cast<int64_t>(i);
  row.algo = DigestAlgo::kMd5;
  row.digest = r.second;
  return row;
}

std::string Describe(const CacheRow& r) {
  return std::string(r.path) + " " + std::to_string(r.ino) + " " + std::to_string(r.size) + " " +
         std::to_string(r.mtime_ns) + " " + std::to_string(r.ctime_ns) + " " + HexEncode(r.digest);
}

// Reads `blob` as a file through OpenFile: the rows, and the final status.
std::vector<std::string> ReadFile(const TempRoot& dir, const std::string& blob, Status* status) {
  dir.Write("cache", blob);
  auto fd = DefaultHost().OpenAt(AT_FDCWD, dir.Abs("cache"), O_RDONLY);
  EXPECT_TRUE(fd.ok());
  std::vector<std::string> out;
  auto reader = CacheReader::OpenFile(DefaultHost(), fd->get(), blob.size(), "/");
  if (!reader.ok()) {
    *status = reader.status();
    return out;
  }
  CacheRow r;
  while (reader->Next(&r)) out.push_back(Describe(r));
  *status = reader->status();
  return out;
}

TEST(VerifyCacheStreamTest, StreamedBlobAndRowsEqualTheInMemoryOnes) {
  const auto rows = Rows();
  CacheWriter whole("/", rows.size());
  std::string streamed;
  size_t pieces = 0;
  CacheWriter parts("/", [&](std::string_view piece) {
    streamed.append(piece);
    ++pieces;
    return Status::Ok();
  });
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSERT_TRUE(whole.Add(Row(rows[i], i)).ok());
    ASSERT_TRUE(parts.Add(Row(rows[i], i)).ok());
  }
  const std::string blob = whole.Finish();
  EXPECT_EQ(parts.Finish(), "");
  EXPECT_TRUE(parts.sink_status().ok());
  EXPECT_GT(pieces, 10u);
  ASSERT_EQ(streamed, blob);

  std::vector<std::string> want;
  auto reader = CacheReader::Open(blob, "/");
  ASSERT_TRUE(reader.ok());
  CacheRow r;
  while (reader->Next(&r)) want.push_back(Describe(r));
  ASSERT_EQ(want.size(), rows.size());

  TempRoot dir;
  Status status;
  EXPECT_EQ(ReadFile(dir, blob, &status), want);
  EXPECT_TRUE(status.ok()) << status.message();
}

TEST(VerifyCacheStreamTest, DamagedFilesAreNeverTrusted) {
  const auto rows = Rows();
  CacheWriter w("/");
  for (size_t i = 0; i < rows.size(); ++i) ASSERT_TRUE(w.Add(Row(rows[i], i)).ok());
  const std::string blob = w.Finish();
  TempRoot dir;
  Status status;

  // The last digest byte changed: every row parses, the checksum does not
  // match, and the reader says so once the rows are read.
  std::string flipped = blob;
  flipped[flipped.size() - 17] ^= 1;
  EXPECT_EQ(ReadFile(dir, flipped, &status).size(), rows.size());
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_EQ(status.message(), "verification cache checksum mismatch");

  // A byte of the checksum itself.
  std::string bad_sum = blob;
  bad_sum.back() ^= 1;
  ReadFile(dir, bad_sum, &status);
  EXPECT_EQ(status.code(), StatusCode::kCorruption);

  // Cut short: the file's size says where the rows end, so a cut is a
  // damaged row or a wrong checksum, never a clean end.
  ReadFile(dir, blob.substr(0, blob.size() / 2), &status);
  EXPECT_EQ(status.code(), StatusCode::kCorruption);

  // Another root, another format: refused before any row.
  CacheWriter other("/srv/root");
  ASSERT_TRUE(other.Add(Row(rows[0], 0)).ok());
  EXPECT_EQ(ReadFile(dir, other.Finish(), &status), std::vector<std::string>{});
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadFile(dir, "DWPKGVC9" + std::string(40, '\0'), &status), std::vector<std::string>{});
  EXPECT_EQ(status.code(), StatusCode::kUnsupported);
  ReadFile(dir, "DWPK", &status);
  EXPECT_EQ(status.code(), StatusCode::kUnsupported);
}

}  // namespace
}  // namespace driftwatch::packages
