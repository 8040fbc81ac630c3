#include "agent/scanner.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/diff.h"
#include "tests/testing/fault_host.h"
#include "tests/testing/memory_stat_cache.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::agent {
namespace {

using testutil::FaultHost;
using testutil::MemoryStatCache;

using driftwatch::testutil::SetMtime;
using driftwatch::testutil::TempDir;
using driftwatch::testutil::WriteFile;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

rules::Policy AllPolicy() {
  auto p = rules::ParsePolicy(
      "version: 1\n"
      "rules:\n"
      "  - path: /**\n"
      "    check: [type, perm, uid, gid, size, hash, link, xattrs, rdev]\n"
      "    severity: high\n",
      "test.yaml",
      [](const std::string&) -> Result<std::string> { return Status::NotFound("no includes"); });
  EXPECT_TRUE(p.ok()) << p.status().message();
  return std::move(p).value();
}

// Every path in a scanned tree with its type, for whole-tree assertions.
std::vector<std::string> Listing(MemoryTreeStore& store, const Hash128& root) {
  std::vector<std::string> out;
  MemoryTreeStore empty;
  std::string bytes = SerializeTree(Tree{});
  EXPECT_TRUE(empty.Put(TreeHash(bytes), bytes).ok());
  EXPECT_TRUE(DiffTrees(empty, TreeHash(bytes), store, root, [&](Change c) {
                out.push_back((c.new_entry ? std::string(EntryTypeName(c.new_entry->type)) : "?") +
                              " " + c.path);
                return Status::Ok();
              }).ok());
  std::sort(out.begin(), out.end());
  return out;
}

Result<ScanResult> Scan(Host& host, const std::string& root, MemoryTreeStore& store, int jobs = 2,
                        StatCache* cache = nullptr) {
  ScanOptions o;
  o.root = root;
  o.jobs = jobs;
  o.cache = cache;
  o.racy_window_ns = 0;
  static rules::Policy policy = AllPolicy();
  return ScanTree(host, policy, o, store);
}

TEST(ScannerTest, RecordsEveryTypeWithoutOpeningSpecialFiles) {
  TempDir dir;
  WriteFile(dir / "etc/passwd", "root:x:0:0\n");
  ASSERT_EQ(::mkfifo((dir / "etc/fifo").c_str(), 0600), 0);
  ASSERT_EQ(::symlink("passwd", (dir / "etc/link").c_str()), 0);
  ASSERT_EQ(::symlink("loop", (dir / "etc/loop").c_str()), 0);  // points at itself
  int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::string sock_path = dir / "etc/sock";
  std::strncpy(addr.sun_path, sock_path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  if (geteuid() == 0) {
    ASSERT_EQ(::mknod((dir / "etc/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  }
  MemoryTreeStore store;
  auto r = Scan(DefaultHost(), dir.path(), store);
  ::close(sock);
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::vector<std::string> expected = {"dir /etc",          "fifo /etc/fifo",
                                       "file /etc/passwd",  "socket /etc/sock",
                                       "symlink /etc/link", "symlink /etc/loop"};
  if (geteuid() == 0) expected.push_back("chardev /etc/null");
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(Listing(store, r->root), expected);
  EXPECT_TRUE(r->warnings.empty()) << r->warnings[0];
  EXPECT_EQ(r->stats.files, 1u);
  EXPECT_EQ(r->stats.files_hashed, 1u);
}

TEST(ScannerTest, SameResultForOneAndManyThreads) {
  TempDir dir;
  for (int d = 0; d < 20; ++d) {
    for (int f = 0; f < 30; ++f) {
      WriteFile(
          dir / ("d" + std::to_string(d) + "/s" + std::to_string(f % 3) + "/f" + std::to_string(f)),
          std::string(static_cast<size_t>(f * 37 + d), static_cast<char>('a' + f % 26)));
    }
  }
  MemoryTreeStore s1, s4;
  auto one = Scan(DefaultHost(), dir.path(), s1, 1);
  auto four = Scan(DefaultHost(), dir.path(), s4, 4);
  ASSERT_TRUE(one.ok() && four.ok());
  EXPECT_EQ(one->root, four->root);
  EXPECT_EQ(one->stats.files, 600u);
  EXPECT_EQ(s1.size(), s4.size());
}

TEST(ScannerTest, SurvivesDeepChainsAndOddNames) {
  TempDir dir;
  std::string deep = dir.path();
  int fd = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY);
  for (int i = 0; i < 1000; ++i) {  // deeper than PATH_MAX allows by path
    ASSERT_EQ(::mkdirat(fd, "d", 0755), 0) << i;
    int next = ::openat(fd, "d", O_RDONLY | O_DIRECTORY);
    ::close(fd);
    fd = next;
  }
  ::close(fd);
  WriteFile(dir / "names/new\nline", "x");
  WriteFile(dir / "names/bad\xff\xfe", "y");
  WriteFile(dir / ("names/" + std::string(255, 'n')), "z");
  MemoryTreeStore store;
  auto r = Scan(DefaultHost(), dir.path(), store);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->stats.dirs, 1001u);
  EXPECT_EQ(r->stats.files, 3u);
  EXPECT_TRUE(r->warnings.empty());
}

TEST(ScannerTest, VanishingAndFailingFilesBecomeWarnings) {
  TempDir dir;
  WriteFile(dir / "a/gone", "1");
  WriteFile(dir / "a/eio", "2");
  WriteFile(dir / "a/ok", "3");
  WriteFile(dir / "a/grows", "4");
  FaultHost host(DefaultHost());
  // Listed, then gone before its open (files without a cache row are
  // opened before they are stat'ed).
  host.BeforeOnce(FaultHost::Op::kOpen, "gone", [&] { std::filesystem::remove(dir / "a/gone"); });
  host.FailOn(FaultHost::Op::kRead, "eio", EIO);
  host.BeforeOnce(FaultHost::Op::kRead, "grows",
                  [&] { driftwatch::testutil::AppendFile(dir / "a/grows", "more"); });
  MemoryTreeStore store;
  auto r = Scan(host, dir.path(), store);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_THAT(r->warnings,
              ElementsAre(HasSubstr("/a/eio: read eio: Input/output error"),
                          "/a/gone: vanished during scan", "/a/grows: changed during scan"));
  EXPECT_THAT(Listing(store, r->root),
              ElementsAre("dir /a", "file /a/eio", "file /a/grows", "file /a/ok"));
}

TEST(ScannerTest, StatCacheSkipsUnchangedFilesAndCatchesRestoredMtime) {
  TempDir dir;
  WriteFile(dir / "etc/a", "alpha");
  WriteFile(dir / "etc/b", "bravo");
  SetMtime(dir / "etc/a", 1'600'000'000);
  SetMtime(dir / "etc/b", 1'600'000'000);
  MemoryStatCache cache;
  MemoryTreeStore store;
  auto first = Scan(DefaultHost(), dir.path(), store, 2, &cache);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->stats.files_hashed, 2u);
  auto second = Scan(DefaultHost(), dir.path(), store, 2, &cache);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->stats.files_hashed, 0u);
  EXPECT_EQ(second->root, first->root);
  // Same size, mtime put back: only ctime tells, and it is enough.
  WriteFile(dir / "etc/a", "ALPHA");
  SetMtime(dir / "etc/a", 1'600'000'000);
  auto third = Scan(DefaultHost(), dir.path(), store, 2, &cache);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->stats.files_hashed, 1u);
  EXPECT_NE(third->root, first->root);
}

// A rewrite within the same timestamp tick leaves the stat tuple as it was.
// Simulates it for DIR/etc/a, the one file of the tree: changes the content,
// then makes its cached row match the new stat while keeping the old digest.
// `scanned` (when given) gets the row as the scan left it.
void RewriteWithinTheSameTick(MemoryStatCache& cache, const TempDir& dir, CachedStat* scanned) {
  WriteFile(dir / "etc/a", "ALPHA");
  struct stat st;
  ASSERT_EQ(::stat((dir / "etc/a").c_str(), &st), 0);
  auto rows = cache.LoadDir(dir / "etc");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  CachedStat row = (*rows)[0];
  if (scanned != nullptr) *scanned = row;
  row.ino = st.st_ino;
  row.size = static_cast<uint64_t>(st.st_size);
  row.mtime_ns = st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec;
  row.ctime_ns = st.st_ctim.tv_sec * 1'000'000'000LL + st.st_ctim.tv_nsec;
  ASSERT_TRUE(cache.StoreDir(dir / "etc", {row}).ok());
}

TEST(ScannerTest, RacyFilesAreAlwaysReRead) {
  TempDir dir;
  WriteFile(dir / "etc/a", "alpha");  // mtime is now: within the racy window
  MemoryStatCache cache;
  MemoryTreeStore store;
  ScanOptions o;
  o.root = dir.path();
  o.cache = &cache;  // default 2 s window
  rules::Policy policy = AllPolicy();
  auto first = ScanTree(DefaultHost(), policy, o, store);
  ASSERT_TRUE(first.ok());
  ASSERT_NO_FATAL_FAILURE(RewriteWithinTheSameTick(cache, dir, nullptr));
  auto second = ScanTree(DefaultHost(), policy, o, store);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->stats.files_hashed, 1u);
  EXPECT_NE(second->root, first->root);
}

// The clock is set back an hour during the scan: the file (written at the
// real time) is read after the jump. Its cache row must still count as racy,
// so a same-tick rewrite is re-read by the next scan.
TEST(ScannerTest, ClockSetBackDuringAScanKeepsFreshFilesRacy) {
  TempDir dir;
  WriteFile(dir / "etc/a", "alpha");
  FaultHost host(DefaultHost());
  const int64_t real = DefaultHost().NowNs();
  bool started = false;
  host.SetClock([&]() -> int64_t {
    if (!started) {
      started = true;
      return real + int64_t{3600} * 1'000'000'000;  // the scan starts an hour ahead
    }
    return DefaultHost().NowNs();  // then the clock is set back to the real time
  });
  MemoryStatCache cache;
  MemoryTreeStore store;
  ScanOptions o;
  o.root = dir.path();
  o.cache = &cache;  // default 2 s window
  o.jobs = 1;
  rules::Policy policy = AllPolicy();
  auto first = ScanTree(host, policy, o, store);
  ASSERT_TRUE(first.ok());
  CachedStat scanned;
  ASSERT_NO_FATAL_FAILURE(RewriteWithinTheSameTick(cache, dir, &scanned));
  EXPECT_LT(scanned.scan_ns, real + int64_t{60} * 1'000'000'000);
  auto second = ScanTree(DefaultHost(), policy, o, store);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->stats.files_hashed, 1u);
  EXPECT_NE(second->root, first->root);
}

TEST(ScannerTest, ScanRootMissingIsAnError) {
  MemoryTreeStore store;
  auto r = Scan(DefaultHost(), "/nonexistent/driftwatch-root", store);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("scan root"));
}

}  // namespace
}  // namespace driftwatch::agent
