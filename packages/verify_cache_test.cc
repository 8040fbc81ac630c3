#include "packages/verify_cache.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>

#include "packages/installed.h"
#include "packages/test_util.h"
#include "packages/verify.h"
#include "tests/testing/fault_host.h"

namespace driftwatch::packages {
namespace {

using testing::BuildDpkgRoot;
using testutil::FaultHost;

CacheRow Row(std::string_view path, uint64_t ino, const std::string& digest) {
  CacheRow r;
  r.path = path;
  r.dev = 2049;
  r.ino = ino;
  r.size = 1234;
  r.mtime_ns = 1700000000123456789;
  r.ctime_ns = -5;  // before the epoch: zig-zag keeps it
  r.algo = DigestAlgo::kMd5;
  r.digest = digest;
  return r;
}

std::string Describe(const CacheRow& r) {
  return std::string(r.path) + " " + std::to_string(r.dev) + " " + std::to_string(r.ino) + " " +
         std::to_string(r.size) + " " + std::to_string(r.mtime_ns) + " " +
         std::to_string(r.ctime_ns) + " " + std::string(DigestAlgoName(r.algo)) + ":" +
         HexEncode(r.digest);
}

std::vector<std::string> ReadAll(std::string_view blob, std::string_view root) {
  auto reader = CacheReader::Open(blob, root);
  EXPECT_TRUE(reader.ok()) << reader.status().message();
  std::vector<std::string> out;
  if (!reader.ok()) return out;
  CacheRow r;
  while (reader->Next(&r)) out.push_back(Describe(r));
  EXPECT_TRUE(reader->status().ok()) << reader->status().message();
  return out;
}

TEST(VerifyCacheCodecTest, RoundTripsRowsWithSharedPrefixes) {
  const std::string d1(16, '\x01'), d2(16, '\xfe');
  CacheWriter w("/");
  ASSERT_TRUE(w.Add(Row("/usr/bin/a", 1, d1)).ok());
  ASSERT_TRUE(w.Add(Row("/usr/bin/ab", 2, d2)).ok());
  ASSERT_TRUE(w.Add(Row("/usr/lib/\xff", 3, d1)).ok());
  EXPECT_EQ(w.rows(), 3u);
  std::string blob = w.Finish();
  EXPECT_EQ(ReadAll(blob, "/"),
            (std::vector<std::string>{
                "/usr/bin/a 2049 1 1234 1700000000123456789 -5 md5:" + HexEncode(d1),
                "/usr/bin/ab 2049 2 1234 1700000000123456789 -5 md5:" + HexEncode(d2),
                "/usr/lib/\xff 2049 3 1234 1700000000123456789 -5 md5:" + HexEncode(d1)}));
}

TEST(VerifyCacheCodecTest, WriterRefusesDisorderAndBadDigests) {
  CacheWriter w("/");
  ASSERT_TRUE(w.Add(Row("/b", 1, std::string(16, 'x'))).ok());
  EXPECT_EQ(w.Add(Row("/a", 2, std::string(16, 'x'))).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.Add(Row("/b", 2, std::string(16, 'x'))).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.Add(Row("/c", 2, std::string(15, 'x'))).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.rows(), 1u);
}

TEST(VerifyCacheCodecTest, DamagedForeignAndUnknownBlobsAreRefused) {
  CacheWriter w("/");
  ASSERT_TRUE(w.Add(Row("/a", 1, std::string(16, 'x'))).ok());
  const std::string blob = w.Finish();

  std::string flipped = blob;
  flipped[12] ^= 1;
  EXPECT_EQ(CacheReader::Open(flipped, "/").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(CacheReader::Open(blob.substr(0, blob.size() - 1), "/").status().code(),
            StatusCode::kCorruption);
  EXPECT_EQ(CacheReader::Open("DWPKGVC1", "/").status().code(), StatusCode::kCorruption);
  auto other = CacheReader::Open(blob, "/srv/rootfs");
  EXPECT_EQ(other.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(other.status().message(), "verification cache belongs to root '/', not '/srv/rootfs'");
  std::string v2 = blob;
  v2[7] = '2';
  EXPECT_EQ(CacheReader::Open(v2, "/").status().message(),
            "verification cache version '2' is not supported (this build reads version 1)");
  EXPECT_EQ(CacheReader::Open("SQLite format 3", "/").status().code(), StatusCode::kUnsupported);
}

TEST(VerifyCacheCodecTest, RowsOutOfOrderWithAValidChecksumAreCorruption) {
  // Hand-built: two rows with the same path, sealed with a correct checksum.
  CacheWriter a("/");
  ASSERT_TRUE(a.Add(Row("/a", 1, std::string(16, 'x'))).ok());
  std::string one = a.Finish();
  std::string body = one.substr(0, one.size() - 16);
  std::string row = body.substr(std::string("DWPKGVC1").size() + 2);  // after root "/"
  std::string twice = body + row;
  twice += HashBytes(twice).Bytes();
  auto reader = CacheReader::Open(twice, "/");
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  CacheRow r;
  EXPECT_TRUE(reader->Next(&r));
  EXPECT_FALSE(reader->Next(&r));
  EXPECT_EQ(reader->status().code(), StatusCode::kCorruption);
}

// Verification with the cache, on a small dpkg root. The host's clock runs a
// minute ahead so that files written by the test count as settled.
class CachedVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BuildDpkgRoot(root_);
    host_.SetClock([] {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count() +
             60'000'000'000;
    });
  }

  // One run: the findings as "path problem" lines; the new cache in cache_.
  std::vector<std::string> Verify(Host& host, bool full = false) {
    auto db = ReadPackageDb(host, root_.path(), true);
    EXPECT_TRUE(db.ok()) << db.status().message();
    VerifyOptions o;
    o.jobs = 2;
    o.full = full;
    o.cache = &cache_;
    auto report = VerifyOwnedFiles(host, root_.path(), db->files, o);
    EXPECT_TRUE(report.ok()) << report.status().message();
    last_ = *report;
    std::vector<std::string> out;
    for (const FileFinding& f : report->findings) {
      out.push_back(db->files[f.file].path + " " + std::string(FileProblemName(f.problem)));
    }
    return out;
  }
  std::vector<std::string> Verify(bool full = false) { return Verify(host_, full); }

  // A host that fails every read of a package-owned file and every open of
  // one ("tool" is also a directory, opened to resolve README: reads only),
  // and records each attempt.
  std::unique_ptr<FaultHost> NoReadsHost() {
    auto h = std::make_unique<FaultHost>(static_cast<Host&>(host_));
    for (const char* name : {"tool", "tool.conf", "README", "libz.so.1.3"}) {
      h->FailOn(FaultHost::Op::kRead, name, EIO);
    }
    for (const char* name : {"tool.conf", "README", "libz.so.1.3"}) {
      h->FailOn(FaultHost::Op::kOpen, name, EACCES);
    }
    return h;
  }

  struct stat Stat(const std::string& rel) {
    struct stat st {};
    EXPECT_EQ(::lstat(root_.Abs(rel).c_str(), &st), 0);
    return st;
  }
  void SetMtime(const std::string& rel, const timespec& mtime) {
    timespec times[2] = {mtime, mtime};
    ASSERT_EQ(::utimensat(AT_FDCWD, root_.Abs(rel).c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
  }

  testing::TempRoot root_;
  FaultHost host_{DefaultHost()};
  std::string cache_;
  VerifyReport last_;
};

TEST_F(CachedVerifyTest, UnchangedRootReadsNoPackageFile) {
  EXPECT_EQ(Verify(), std::vector<std::string>{});
  EXPECT_EQ(last_.files_hashed, 4u);
  EXPECT_EQ(last_.files_cached, 0u);
  EXPECT_EQ(ReadAll(cache_, root_.path()).size(), 4u);

  auto strict = NoReadsHost();
  EXPECT_EQ(Verify(*strict), std::vector<std::string>{});
  EXPECT_EQ(strict->fired(), std::vector<std::string>{});  // no open, no read
  EXPECT_EQ(last_.warnings, std::vector<std::string>{});
  EXPECT_EQ(last_.files_hashed, 0u);
  EXPECT_EQ(last_.bytes_hashed, 0u);
  EXPECT_EQ(last_.files_cached, 4u);

  // The same host with --full: every file is opened again (and fails here).
  EXPECT_EQ(Verify(*strict, /*full=*/true), std::vector<std::string>{});
  EXPECT_EQ(strict->fired().size(), 4u);
  EXPECT_EQ(last_.warnings.size(), 4u);
}

TEST_F(CachedVerifyTest, SameSecondSameSizeRewriteIsFound) {
  ASSERT_EQ(Verify(), std::vector<std::string>{});
  struct stat before = Stat("usr/bin/tool");
  root_.Write("usr/bin/tool", "#!/bin/sh\necho TOOL\n");  // same size
  ASSERT_EQ(Stat("usr/bin/tool").st_size, before.st_size);
  EXPECT_EQ(Verify(), std::vector<std::string>{"/usr/bin/tool content"});
  EXPECT_EQ(last_.files_hashed, 1u);
  EXPECT_EQ(last_.files_cached, 3u);
}

TEST_F(CachedVerifyTest, MtimeRestoredWithTouchIsFound) {
  ASSERT_EQ(Verify(), std::vector<std::string>{});
  struct stat before = Stat("etc/tool.conf");
  root_.Write("etc/tool.conf", "setting = 9\n");
  SetMtime("etc/tool.conf", before.st_mtim);  // as `touch -d` would
  struct stat after = Stat("etc/tool.conf");
  ASSERT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  ASSERT_EQ(after.st_size, before.st_size);
  EXPECT_EQ(Verify(), std::vector<std::string>{"/etc/tool.conf content"});
  // And it stays found on the next run (the new row holds the new digest).
  EXPECT_EQ(Verify(), std::vector<std::string>{"/etc/tool.conf content"});
  EXPECT_EQ(last_.files_cached, 4u);
}

TEST_F(CachedVerifyTest, FileReplacedByRenameIsFound) {
  ASSERT_EQ(Verify(), std::vector<std::string>{});
  struct stat before = Stat("usr/share/doc/tool/README");
  root_.Write("usr/share/doc/tool/README.new", "read ME\n");
  SetMtime("usr/share/doc/tool/README.new", before.st_mtim);
  ASSERT_EQ(::rename(root_.Abs("usr/share/doc/tool/README.new").c_str(),
                     root_.Abs("usr/share/doc/tool/README").c_str()),
            0);
  EXPECT_EQ(Verify(), std::vector<std::string>{"/usr/share/doc/tool/README content"});
}

TEST_F(CachedVerifyTest, RacyFilesGetNoRow) {
  // On the real clock every file here was written within the racy window.
  EXPECT_EQ(Verify(DefaultHost()), std::vector<std::string>{});
  EXPECT_EQ(ReadAll(cache_, root_.path()), std::vector<std::string>{});
  // A minute later they have settled.
  EXPECT_EQ(Verify(), std::vector<std::string>{});
  EXPECT_EQ(last_.files_cached, 0u);
  EXPECT_EQ(ReadAll(cache_, root_.path()).size(), 4u);
}

TEST_F(CachedVerifyTest, FullIgnoresAForgedRow) {
  ASSERT_EQ(Verify(), std::vector<std::string>{});
  // A row whose tuple matches the file but whose digest lies: trusted by a
  // cached run (that is what a stat cache is), ignored by --full.
  auto reader = CacheReader::Open(cache_, root_.path());
  ASSERT_TRUE(reader.ok());
  CacheWriter forged(root_.path());
  CacheRow r;
  const std::string bad(16, '\0');
  while (reader->Next(&r)) {
    if (r.path == "/usr/bin/tool") r.digest = bad;
    ASSERT_TRUE(forged.Add(r).ok());
  }
  cache_ = forged.Finish();
  std::string forged_blob = cache_;
  EXPECT_EQ(Verify(), std::vector<std::string>{"/usr/bin/tool content"});
  cache_ = forged_blob;
  EXPECT_EQ(Verify(/*full=*/true), std::vector<std::string>{});
  EXPECT_EQ(last_.files_hashed, 4u);
  EXPECT_EQ(last_.files_cached, 0u);
}

TEST_F(CachedVerifyTest, CorruptOrForeignCacheIsIgnoredWithAWarning) {
  ASSERT_EQ(Verify(), std::vector<std::string>{});
  root_.Write("usr/bin/tool", "#!/bin/sh\necho TOOL\n");
  std::string good = cache_;
  cache_[cache_.size() / 2] ^= 0x40;
  EXPECT_EQ(Verify(), std::vector<std::string>{"/usr/bin/tool content"});
  EXPECT_EQ(last_.warnings,
            std::vector<std::string>{"verification cache: verification cache checksum mismatch; "
                                     "every file is read"});
  EXPECT_EQ(last_.files_hashed, 4u);

  CacheWriter other("/elsewhere");
  cache_ = other.Finish();
  EXPECT_EQ(Verify(), std::vector<std::string>{"/usr/bin/tool content"});
  EXPECT_EQ(last_.warnings,
            std::vector<std::string>{"verification cache: verification cache belongs to root "
                                     "'/elsewhere', not '" +
                                     root_.path() + "'; every file is read"});
  cache_ = "garbage";
  EXPECT_EQ(Verify(), std::vector<std::string>{"/usr/bin/tool content"});
  EXPECT_EQ(last_.warnings,
            std::vector<std::string>{"verification cache: not a driftwatch verification cache; "
                                     "every file is read"});
  // Each of those runs wrote a good cache again.
  EXPECT_EQ(ReadAll(cache_, root_.path()).size(), 4u);
}

TEST(VerifyProgressTest, LastReportCoversEveryPath) {
  testing::TempRoot root;
  BuildDpkgRoot(root);
  auto db = ReadPackageDb(DefaultHost(), root.path(), true);
  ASSERT_TRUE(db.ok()) << db.status().message();
  std::vector<VerifyProgress> seen;
  VerifyOptions o;
  o.jobs = 2;
  o.progress = [&](const VerifyProgress& p) { seen.push_back(p); };
  auto report = VerifyOwnedFiles(DefaultHost(), root.path(), db->files, o);
  ASSERT_TRUE(report.ok()) << report.status().message();
  ASSERT_FALSE(seen.empty());
  const VerifyProgress& last = seen.back();
  EXPECT_EQ(last.paths_total, report->paths_checked);
  EXPECT_EQ(last.paths_done, last.paths_total);
  EXPECT_EQ(last.files_hashed, 4u);
  EXPECT_EQ(last.bytes_hashed, report->bytes_hashed);
  EXPECT_EQ(last.files_cached, 0u);
}

}  // namespace
}  // namespace driftwatch::packages
