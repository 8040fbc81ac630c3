// Agent store faults against the real driftwatch binary: a full disk under
// the agent database (ENOSPC on a 1 MiB tmpfs) and `kill -9` in the middle
// of a baseline. Afterwards the database must pass SQLite's integrity check,
// the commands must keep working, and the next run must complete.
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/sqlite.h"
#include "tests/hostile/agent_runner.h"
#include "tests/testing/full_disk.h"
#include "tests/testing/temp_tree.h"

// After gtest: cpprestsdk defines a U() macro that breaks gtest templates.
#include <cpprest/json.h>

extern char** environ;

namespace driftwatch {
namespace {

namespace fs = std::filesystem;
namespace tu = driftwatch::testutil;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class StoreFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "root";
    db_dir_ = dir_ / "db";
    fs::create_directories(root_);
    fs::create_directories(db_dir_);
    // The agent refuses a store in a directory others may enter.
    fs::permissions(db_dir_, fs::perms::owner_all, fs::perm_options::replace);
  }
  void TearDown() override {
    if (mounted_) ::umount2(db_dir_.c_str(), MNT_DETACH);
  }

  // `count` files of `size` bytes with long names (they fill trees and the
  // stat cache quickly) in directories of 500.
  void MakeTree(int count, size_t size) {
    const std::string pad(150, 'p');
    for (int i = 0; i < count; ++i) {
      tu::WriteFile(root_ + "/d" + std::to_string(i / 500) + "/" + pad + std::to_string(i),
                    std::string(size, static_cast<char>('a' + i % 26)));
    }
  }

  std::string Db() const { return db_dir_ + "/agent.db"; }
  std::string Flags() const {
    return " --root " + tu::Quote(root_) + " --rules " +
           tu::Quote(tu::SourceDir() + "/tests/hostile/rules.yaml") + " --db " + tu::Quote(Db());
  }
  tu::AgentRun Dw(const std::string& command) {
    tu::AgentRun r = tu::RunAgent(command + Flags(), dir_ / "stderr.txt");
    EXPECT_NE(r.exit_code, 124) << command << " did not finish";
    return r;
  }
  // The events of `check --format json`, as "kind path".
  std::vector<std::string> CheckEvents(int* exit_code) {
    tu::AgentRun r = Dw("check --format json");
    *exit_code = r.exit_code;
    std::vector<std::string> out;
    try {
      web::json::value v = web::json::value::parse(r.out);
      for (const auto& e : v.at("events").as_array()) {
        out.push_back(e.at("kind").as_string() + " " + e.at("path").as_string());
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << "check output is not JSON: " << e.what() << ": " << r.out << r.err;
    }
    return out;
  }
  std::string IntegrityCheck() {
    return tu::Run("sqlite3 " + tu::Quote(Db()) + " 'PRAGMA integrity_check' 2>&1").out;
  }
  // Revisions listed by `baseline list --format json`.
  std::vector<int64_t> Revisions() {
    tu::AgentRun r =
        tu::RunAgent("baseline list --format json --db " + tu::Quote(Db()), dir_ / "stderr.txt");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<int64_t> out;
    try {
      const web::json::value v = web::json::value::parse(r.out);
      for (const auto& b : v.as_array()) {
        out.push_back(b.at("revision").as_number().to_int64());
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << "baseline list output is not JSON: " << e.what() << ": " << r.out;
    }
    return out;
  }

  tu::TempDir dir_;
  std::string root_;
  std::string db_dir_;
  bool mounted_ = false;
};

TEST_F(StoreFaults, FullDiskIsAClearErrorAndTheNextRunCompletes) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: mount -t tmpfs";
  ASSERT_TRUE(tu::EnterPrivateMountNamespace()) << "unshare(CLONE_NEWNS): " << std::strerror(errno);
  ASSERT_EQ(::mount("tmpfs", db_dir_.c_str(), "tmpfs", 0, "size=1m,mode=0700"), 0)
      << std::strerror(errno);
  mounted_ = true;
  MakeTree(8000, 16);

  tu::AgentRun full = Dw("baseline create");
  EXPECT_EQ(full.exit_code, 2) << full.out << full.err;
  EXPECT_THAT(full.err, HasSubstr(Db()));
  EXPECT_THAT(full.err, AnyOf(HasSubstr("full"), HasSubstr("No space")));
  std::cout << "[ message  ] " << full.err;
  EXPECT_EQ(IntegrityCheck(), "ok\n");

  // Room again: the next baseline completes and a check is quiet.
  ASSERT_EQ(::mount("tmpfs", db_dir_.c_str(), "tmpfs", MS_REMOUNT, "size=64m,mode=0700"), 0)
      << std::strerror(errno);
  tu::AgentRun ok = Dw("baseline create");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  int rc = -1;
  EXPECT_THAT(CheckEvents(&rc), IsEmpty());
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(IntegrityCheck(), "ok\n");
}

// A check that finds drift but cannot record it (the disk under the agent
// database is full) still prints the drift, in text and JSON, says that the
// result was not recorded and whether its report was queued, and exits 2.
TEST_F(StoreFaults, CheckOnAFullDiskPrintsItsDriftAndSaysItWasNotRecorded) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: mount -t tmpfs";
  ASSERT_TRUE(tu::EnterPrivateMountNamespace()) << "unshare(CLONE_NEWNS): " << std::strerror(errno);
  ASSERT_EQ(::mount("tmpfs", db_dir_.c_str(), "tmpfs", 0, "size=4m,mode=0700"), 0)
      << std::strerror(errno);
  mounted_ = true;
  MakeTree(300, 16);
  tu::AgentRun base = Dw("baseline create");
  ASSERT_EQ(base.exit_code, 0) << base.err;
  tu::WriteFile(root_ + "/d0/planted", "new\n");
  tu::WriteFile(root_ + "/d0/" + std::string(150, 'p') + "7", "changed\n");
  const std::vector<std::string> drift = {"modified /d0/" + std::string(150, 'p') + "7",
                                          "added /d0/planted"};
  // The sqlite3 shell closes the database last: it checkpoints and removes
  // the -wal and -shm files, which a full disk then cannot recreate.
  ASSERT_EQ(IntegrityCheck(), "ok\n");
  ASSERT_FALSE(fs::exists(Db() + "-shm"));
  ASSERT_GT(tu::FillDisk(db_dir_ + "/filler"), 0);

  int rc = -1;
  std::vector<std::string> events = CheckEvents(&rc);
  std::sort(events.begin(), events.end());
  EXPECT_EQ(events, (std::vector<std::string>{drift[1], drift[0]}));
  EXPECT_EQ(rc, 2);
  std::string err = tu::ReadText(dir_ / "stderr.txt");
  EXPECT_THAT(err, HasSubstr("the check's result was not recorded in " + Db()));
  EXPECT_THAT(err, AnyOf(HasSubstr("full"), HasSubstr("No space")));
  std::cout << "[ message  ] " << err;

  tu::AgentRun text = Dw("check");
  EXPECT_EQ(text.exit_code, 2) << text.err;
  EXPECT_THAT(text.out, HasSubstr("A /d0/planted"));
  EXPECT_THAT(text.out, HasSubstr("M /d0/" + std::string(150, 'p') + "7"));
  EXPECT_THAT(text.out, HasSubstr("1 added, 1 modified"));
  EXPECT_THAT(text.err, HasSubstr("the check's result was not recorded in " + Db()));

  tu::AgentRun report = Dw("check --report");
  EXPECT_EQ(report.exit_code, 2) << report.err;
  EXPECT_THAT(report.out, HasSubstr("/d0/planted"));
  EXPECT_THAT(report.err, HasSubstr("the check's result was not recorded in " + Db()));
  EXPECT_THAT(report.err, HasSubstr("the report was not queued"));
  std::cout << "[ message  ] " << report.err;

  // Room again: the same check is recorded and exits 1 for its drift.
  fs::remove(db_dir_ + "/filler");
  EXPECT_EQ(IntegrityCheck(), "ok\n");
  events = CheckEvents(&rc);
  std::sort(events.begin(), events.end());
  EXPECT_EQ(events, (std::vector<std::string>{drift[1], drift[0]}));
  EXPECT_EQ(rc, 1) << tu::ReadText(dir_ / "stderr.txt");

  // Full again while the store's -wal and -shm files exist (a connection
  // that stays open, as the daemon's does, keeps them; the last connection
  // to close removes them): a new file is found and printed, the failure to
  // record it is reported.
  auto held = sqlite::Db::Open(Db());
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  ASSERT_TRUE((*held)->Exec("SELECT count(*) FROM sqlite_master").ok());
  ASSERT_TRUE(fs::exists(Db() + "-shm"));
  tu::WriteFile(root_ + "/d0/second", "later\n");
  ASSERT_GT(tu::FillDisk(db_dir_ + "/filler"), 0);
  events = CheckEvents(&rc);
  std::sort(events.begin(), events.end());
  EXPECT_EQ(events, (std::vector<std::string>{drift[1], "added /d0/second", drift[0]}));
  EXPECT_EQ(rc, 2);
  EXPECT_THAT(tu::ReadText(dir_ / "stderr.txt"),
              HasSubstr("the check's result was not recorded in " + Db()));
  fs::remove(db_dir_ + "/filler");
  tu::AgentRun history = tu::RunAgent("history --db " + tu::Quote(Db()), dir_ / "stderr.txt");
  EXPECT_THAT(history.out, HasSubstr("/d0/planted")) << history.err;
  EXPECT_THAT(history.out, ::testing::Not(HasSubstr("/d0/second")));  // never recorded
  EXPECT_EQ(IntegrityCheck(), "ok\n");
}

TEST_F(StoreFaults, KillDashNineDuringBaselineLeavesAWorkingStore) {
  MakeTree(20000, 512);
  const auto t0 = std::chrono::steady_clock::now();
  tu::AgentRun first = Dw("baseline create");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto took = std::chrono::steady_clock::now() - t0;
  tu::WriteFile(root_ + "/d0/changed", "new\n");

  // Second revision, killed part way: at ~200 ms, or half the time the first
  // baseline took on a fast machine.
  const auto kill_after =
      std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(200), took / 2);
  std::vector<std::string> args = {tu::DriftwatchBin(),
                                   "baseline",
                                   "create",
                                   "--root",
                                   root_,
                                   "--rules",
                                   tu::SourceDir() + "/tests/hostile/rules.yaml",
                                   "--db",
                                   Db()};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  ASSERT_EQ(::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ), 0);
  std::this_thread::sleep_for(kill_after);
  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "baseline finished before the kill after "
      << std::chrono::duration<double>(kill_after).count() << " s; grow the tree";
  std::cout << "[ figures  ] first baseline " << first.seconds << " s, killed after "
            << std::chrono::duration<double>(kill_after).count() << " s\n";

  EXPECT_EQ(IntegrityCheck(), "ok\n");
  EXPECT_EQ(Revisions(), std::vector<int64_t>{1});
  int rc = -1;
  EXPECT_EQ(CheckEvents(&rc), std::vector<std::string>{"added /d0/changed"});
  EXPECT_EQ(rc, 1);

  tu::AgentRun again = Dw("baseline create");
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Revisions(), std::vector<int64_t>{2});  // the latest revision of each baseline
  EXPECT_THAT(CheckEvents(&rc), IsEmpty());
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(IntegrityCheck(), "ok\n");
}

}  // namespace
}  // namespace driftwatch
