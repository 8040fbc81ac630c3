// The agent store's file on real files: modes of what is created, stores
// open to others refused, and the reason of each failed open in words.
#include "agent/store_file.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sched.h>
#include <cstring>
#include <functional>
#include <string>

#include "agent/store.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::agent {
namespace {

using driftwatch::testutil::TempDir;
using ::testing::HasSubstr;

constexpr uid_t kNobody = 65534;

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 07777;
  return st.st_mode & 07777;
}

// Runs `fn` in a child process and returns what it wrote; "" when it died.
std::string InChild(const std::function<std::string()>& fn) {
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    const std::string out = fn();
    (void)!::write(fds[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return out;
}

std::string OpenError(const std::string& path) {
  auto store = Store::Open(DefaultHost(), path);
  return store.ok() ? "opened" : store.status().message();
}

// A store made the way driftwatch made it before: by SQLite, 0644.
void MakeOldStore(const std::string& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  ::chmod(path.c_str(), 0644);
}

TEST(StoreFileTest, NewStoreAndItsWalAre0600InA0700Directory) {
  TempDir dir;
  const std::string path = dir / "state/agent.db";
  {
    auto store = Store::Open(DefaultHost(), path);
    ASSERT_TRUE(store.ok()) << store.status().message();
    SnapshotRow snap;
    snap.kind = "baseline";
    snap.target = "web-1";
    ASSERT_TRUE((*store)->AddSnapshot(snap).ok());
    EXPECT_EQ(ModeOf(path + "-wal"), 0600);
    EXPECT_EQ(ModeOf(path + "-shm"), 0600);
  }
  EXPECT_EQ(ModeOf(dir / "state"), 0700);
  EXPECT_EQ(ModeOf(path), 0600);
  if (::geteuid() != 0) GTEST_SKIP() << "reading as user nobody needs root";
  // Even with the directory opened up, nobody cannot read the file itself.
  ::chmod((dir / "state").c_str(), 0755);
  ::chmod(dir.path().c_str(), 0755);
  const std::string seen = InChild([&] {
    if (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) return std::string("setuid failed");
    const int fd = ::open(path.c_str(), O_RDONLY);
    return fd < 0 ? std::string(std::strerror(errno)) : std::string("read the store");
  });
  EXPECT_EQ(seen, std::strerror(EACCES));
}

TEST(StoreFileTest, RefusesAStoreInADirectoryOpenToOthersNamingTheFix) {
  TempDir dir;
  const std::string old_dir = dir / "old";
  ASSERT_EQ(::mkdir(old_dir.c_str(), 0755), 0);
  ::chmod(old_dir.c_str(), 0755);
  const std::string path = old_dir + "/agent.db";
  MakeOldStore(path);
  EXPECT_EQ(OpenError(path), old_dir +
                                 ": the store's directory is open to group or others (mode 0755) "
                                 "and the agent store holds the agent's token: chmod 700 " +
                                 old_dir + " (or pass --db FILE in a directory of its own)");
  ::chmod(old_dir.c_str(), 0700);
  EXPECT_EQ(OpenError(path), path +
                                 ": the store is open to group or others (mode 0644) and the agent "
                                 "store holds the agent's token: chmod 600 " +
                                 path);
  ::chmod(path.c_str(), 0600);
  testutil::WriteFile(path + "-wal", "");
  ::chmod((path + "-wal").c_str(), 0640);
  EXPECT_THAT(OpenError(path), HasSubstr(": chmod 600 " + path + "-wal"));
  ::unlink((path + "-wal").c_str());
  EXPECT_EQ(OpenError(path), "opened");
  EXPECT_EQ(ModeOf(path), 0600);
}

TEST(StoreFileTest, IsADirectoryAndNotADirectory) {
  TempDir dir;
  ASSERT_EQ(::mkdir((dir / "db").c_str(), 0700), 0);
  EXPECT_EQ(OpenError(dir / "db"), dir / "db" +
                                       ": is a directory (--db names the store's file, e.g. " +
                                       (dir / "db") + "/agent.db)");
  testutil::WriteFile(dir / "file", "x");
  EXPECT_EQ(OpenError(dir / "file/agent.db"),
            dir / "file/agent.db" + ": not a directory: " + (dir / "file") + " is a file");
  EXPECT_EQ(OpenError(dir / "file/sub/agent.db"),
            dir / "file/sub/agent.db" + ": not a directory: " + (dir / "file") + " is a file");
}

TEST(StoreFileTest, PermissionDeniedSaysRunAsRootOrPassDb) {
  TempDir dir;
  const std::string state = dir / "state";
  ASSERT_TRUE(Store::Open(DefaultHost(), state + "/agent.db").ok());
  const std::string want = state + "/agent.db: permission denied: run as root or pass --db FILE";
  if (::geteuid() == 0) {
    ::chmod(dir.path().c_str(), 0755);  // nobody may reach state/, not enter it
    EXPECT_EQ(InChild([&] {
                if (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) return std::string("setuid");
                return OpenError(state + "/agent.db");
              }),
              want);
    // A new store whose directory nobody may not make.
    EXPECT_EQ(InChild([&] {
                if (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) return std::string("setuid");
                return OpenError(dir / "new/agent.db");
              }),
              dir / "new/agent.db" + ": permission denied: run as root or pass --db FILE");
  } else {
    ::chmod(state.c_str(), 0);
    EXPECT_EQ(OpenError(state + "/agent.db"), want);
    ::chmod(state.c_str(), 0700);
  }
}

TEST(StoreFileTest, ReadOnlyFileSystem) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "a read-only mount in a private mount namespace needs root";
  }
  TempDir dir;
  const std::string mnt = dir / "ro";
  ASSERT_EQ(::mkdir(mnt.c_str(), 0700), 0);
  const std::string out = InChild([&]() -> std::string {
    if (::unshare(CLONE_NEWNS) != 0) return std::string("unshare: ") + std::strerror(errno);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return "private";
    if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=4m,mode=0700") != 0) return "tmpfs";
    const std::string state = mnt + "/state";
    if (!Store::Open(DefaultHost(), state + "/agent.db").ok()) return "first open failed";
    if (::mount(nullptr, mnt.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
      return std::string("remount: ") + std::strerror(errno);
    }
    ::unlink((state + "/agent.db-wal").c_str());
    return OpenError(state + "/agent.db") + "\n" + OpenError(mnt + "/new/agent.db") + "\n" +
           OpenError(state + "/other.db");
  });
  if (out.rfind("unshare", 0) == 0) GTEST_SKIP() << out;
  const std::string why =
      ": read-only file system (the store is written by every check: pass --db FILE on a "
      "writable one)";
  EXPECT_EQ(out, mnt + "/state/agent.db" + why + "\n" + mnt + "/new/agent.db" + why + "\n" + mnt +
                     "/state/other.db" + why);
}

TEST(StoreFileTest, CheckStoreFileCreatesNothing) {
  TempDir dir;
  Status s = CheckStoreFile(DefaultHost(), dir / "none/agent.db");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("no agent store here"));
  EXPECT_EQ(ModeOf(dir / "none"), 07777);
  EXPECT_EQ(StoreDir("agent.db"), ".");
  EXPECT_EQ(StoreDir("/agent.db"), "/");
  EXPECT_EQ(StoreDir("/var/lib/driftwatch/agent.db"), "/var/lib/driftwatch");
}

}  // namespace
}  // namespace driftwatch::agent
