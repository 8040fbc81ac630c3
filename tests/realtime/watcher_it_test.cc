// The realtime watcher and its journal on the real kernel (root only): a
// tmpfs of its own in a private mount namespace holds the watched tree and
// the agent store; changes are made by child processes (the source drops
// the events of its own process).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "agent/check.h"
#include "agent/journal.h"
#include "agent/realtime.h"
#include "core/fs_events.h"
#include "rules/policy.h"
#include "tests/realtime/realtime_testing.h"

namespace driftwatch {
namespace {

namespace fs = std::filesystem;
using agent::CheckOptions;
using agent::Journal;
using agent::Watcher;

constexpr const char* kRules = R"(version: 1
rules:
  - path: /etc/app/**
    check: content
    severity: high
)";

void Write(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

std::string Line(const DriftEvent& e) {
  std::string s = std::string(DriftKindName(e.kind)) + " " + e.path;
  for (std::string_view a : AttrNames(e.changed)) s += " " + std::string(a);
  return s;
}

class WatcherItTest : public testutil::PrivateTmpfsTest {
 protected:
  void SetUp() override {
    MountTmpfs("watcher", "0700");
    if (Stopped()) return;
    top_ = tmpfs_;
    root_ = top_ + "/root";
    fs::create_directories(root_ + "/etc/app/conf.d");
    fs::create_directories(top_ + "/db");
    ::chmod((top_ + "/db").c_str(), 0700);
    Write(root_ + "/etc/app/app.conf", "port = 80\n");
    Write(root_ + "/etc/app/conf.d/a.conf", "a\n");
    Write(top_ + "/rules.yaml", kRules);
    db_ = top_ + "/db/agent.db";
    ASSERT_TRUE(agent::CreateBaseline(Options(db_), "test", "").ok());
    auto policy = rules::LoadPolicyFile(DefaultHost(), top_ + "/rules.yaml");
    ASSERT_TRUE(policy.ok());
    policy_ = std::make_unique<rules::Policy>(std::move(*policy));
    auto source = OpenFanotifySource();
    ASSERT_TRUE(source.ok()) << source.status().message();
    source_ = std::move(*source);
    auto journal = Journal::Open(DefaultHost(), db_);
    ASSERT_TRUE(journal.ok());
    journal_ = std::move(*journal);
  }

  void TearDown() override {
    StopRun();
    watcher_.reset();
    source_.reset();
    journal_.reset();
    UnmountTmpfs();
  }

  CheckOptions Options(const std::string& db) {
    CheckOptions o;
    o.host = &DefaultHost();
    o.db_path = db;
    o.rules_path = top_ + "/rules.yaml";
    o.root = root_;
    o.jobs = 1;
    return o;
  }

  void MakeWatcher(bool journal) {
    agent::WatcherOptions o;
    o.root = root_;
    o.db_path = db_;
    o.rule_files = {top_ + "/rules.yaml"};
    o.journal = journal ? journal_.get() : nullptr;
    o.sink = [this](CheckResult r) {
      std::lock_guard<std::mutex> lock(mu_);
      for (DriftEvent& e : r.events) {
        events_.push_back(std::move(e));
        seen_at_.push_back(std::chrono::steady_clock::now());
      }
    };
    watcher_ = std::make_unique<Watcher>(DefaultHost(), *policy_, *source_, std::move(o));
    ASSERT_TRUE(watcher_->Start().ok());
  }

  void StartRun() {
    run_ = std::thread([this] { EXPECT_TRUE(watcher_->Run().ok()); });
  }
  void StopRun() {
    if (!run_.joinable()) return;
    watcher_->Stop();
    run_.join();
  }

  // Waits up to `seconds` for an event that `match` accepts.
  std::optional<DriftEvent> WaitEvent(const std::function<bool(const DriftEvent&)>& match,
                                      double seconds,
                                      std::chrono::steady_clock::time_point* at = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(static_cast<int>(seconds * 1000));
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (size_t i = 0; i < events_.size(); ++i) {
          if (match(events_[i])) {
            if (at != nullptr) *at = seen_at_[i];
            return events_[i];
          }
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return std::nullopt;
  }

  // For Journal::Consult while the test polls the watcher itself.
  std::function<Status()> PollSync() {
    return [this]() -> Status {
      for (int i = 0; i < 8; ++i) DW_RETURN_IF_ERROR(watcher_->Poll(0));
      return Status::Ok();
    };
  }

  std::string top_, root_, db_;
  std::unique_ptr<rules::Policy> policy_;
  std::unique_ptr<FsEventSource> source_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<Watcher> watcher_;
  std::thread run_;
  std::mutex mu_;
  std::vector<DriftEvent> events_;
  std::vector<std::chrono::steady_clock::time_point> seen_at_;
};

TEST_F(WatcherItTest, ChangeIsAnEventWithinASecondWithItsWriter) {
  const char* writer = std::getenv("DRIFTWATCH_FANOTIFY_WRITER");
  ASSERT_NE(writer, nullptr) << "DRIFTWATCH_FANOTIFY_WRITER is not set";
  const std::string exe = fs::canonical(writer).string();
  MakeWatcher(false);
  StartRun();
  const std::string target = root_ + "/etc/app/app.conf";
  const auto written = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(exe.c_str(), exe.c_str(), target.c_str(), nullptr);
    ::_exit(6);
  }
  std::chrono::steady_clock::time_point at;
  auto ev = WaitEvent([](const DriftEvent& e) { return e.path == "/etc/app/app.conf"; }, 2, &at);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ASSERT_TRUE(ev);
  EXPECT_LT(at - written, std::chrono::seconds(1));
  EXPECT_EQ(Line(*ev), "modified /etc/app/app.conf size hash");
  EXPECT_EQ(ev->severity, Severity::kHigh);
  EXPECT_FALSE(ev->transient);
  EXPECT_GT(ev->time_ns, 0);
  ASSERT_TRUE(ev->actor);
  EXPECT_EQ(ev->actor->pid, pid);
  EXPECT_EQ(ev->actor->exe, exe);
  EXPECT_EQ(ev->actor->uid, 0);
}

TEST_F(WatcherItTest, ChangeRevertedWithin100MsIsTransient) {
  MakeWatcher(false);
  StartRun();
  const std::string target = root_ + "/etc/app/conf.d/a.conf";
  const pid_t pid = testutil::InChild([&] {
    Write(target, "changed\n");
    ::usleep(30'000);
    Write(target, "a\n");
  });
  auto ev = WaitEvent([](const DriftEvent& e) { return e.transient; }, 2);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->path, "/etc/app/conf.d/a.conf");
  EXPECT_EQ(ev->kind, DriftKind::kModified);
  ASSERT_TRUE(ev->actor);
  ASSERT_TRUE(ev->reverted_by);
  EXPECT_EQ(ev->actor->pid, pid);
  EXPECT_EQ(ev->reverted_by->pid, pid);
}

TEST_F(WatcherItTest, OverflowDuringAStormMakesTheNextCheckWalkEverything) {
  MakeWatcher(true);
  // A full check with the watcher running makes the journal valid.
  auto first = agent::RunJournaledCheck(Options(db_), PollSync());
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_NE(first->walk.full_reason.find("the watcher started at"), std::string::npos)
      << first->walk.full_reason;
  ASSERT_TRUE(journal_->State()->valid) << journal_->State()->reason;
  // The watcher does not read while a storm fills the kernel's queue.
  testutil::InChild([&] {
    const std::string dir = root_ + "/etc/app/storm";
    ::mkdir(dir.c_str(), 0755);
    for (int i = 0; i < 20000; ++i) {
      int fd = ::open((dir + "/f" + std::to_string(i)).c_str(), O_WRONLY | O_CREAT, 0644);
      if (fd >= 0) ::close(fd);
      if (i == 10000) Write(root_ + "/etc/app/app.conf", "port = 8080\n");
    }
    fs::remove_all(dir);
  });
  auto second = agent::RunJournaledCheck(Options(db_), PollSync());
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_FALSE(second->walk.journal);
  EXPECT_NE(second->walk.full_reason, "");
  std::vector<std::string> lines;
  for (const DriftEvent& e : second->events) lines.push_back(Line(e));
  EXPECT_EQ(lines, std::vector<std::string>{"modified /etc/app/app.conf size hash"});
  EXPECT_FALSE(watcher_->gaps().empty());
}

// One random change by a child process in the watched tree.
void Mutate(std::mt19937& rng, const std::string& app) {
  const int op = std::uniform_int_distribution<int>(0, 6)(rng);
  const int n = std::uniform_int_distribution<int>(0, 7)(rng);
  const std::string dirs[] = {app, app + "/conf.d", app + "/d" + std::to_string(n % 3)};
  const std::string dir = dirs[n % 3];
  const std::string file = dir + "/f" + std::to_string(n);
  const std::string data = "v" + std::to_string(rng() % 4) + "\n";
  testutil::InChild([&] {
    std::error_code ec;
    switch (op) {
      case 0:
      case 1:
        fs::create_directories(dir, ec);
        Write(file, data);
        break;
      case 2:
        fs::remove(file, ec);
        break;
      case 3:
        ::chmod(file.c_str(), (n % 2) ? 0600 : 0644);
        break;
      case 4:
        fs::rename(file, dir + "/f" + std::to_string((n + 1) % 8), ec);
        break;
      case 5:
        fs::remove_all(app + "/d" + std::to_string(n % 3), ec);
        break;
      default: {
        // A directory with content moved in from outside the tree.
        const std::string outside = app + "/../../moved";
        fs::create_directories(outside + "/sub", ec);
        Write(outside + "/sub/x", data);
        fs::remove_all(app + "/m", ec);
        fs::rename(outside, app + "/m", ec);
        break;
      }
    }
  });
}

TEST_F(WatcherItTest, JournalDrivenChecksEqualFullChecksOverRandomSteps) {
  // The full checks go to a store of their own with the same baseline.
  const std::string full_db = top_ + "/db/full.db";
  ASSERT_TRUE(agent::CreateBaseline(Options(full_db), "test", "").ok());
  MakeWatcher(true);
  ASSERT_TRUE(agent::RunJournaledCheck(Options(db_), PollSync()).ok());
  ASSERT_TRUE(journal_->State()->valid);
  std::mt19937 rng(17);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int steps = 0, journaled = 0;
  for (; steps < 200 && std::chrono::steady_clock::now() < deadline; ++steps) {
    Mutate(rng, root_ + "/etc/app");
    auto incr = agent::RunJournaledCheck(Options(db_), PollSync());
    ASSERT_TRUE(incr.ok()) << incr.status().message();
    auto full = agent::RunCheck(Options(full_db));
    ASSERT_TRUE(full.ok()) << full.status().message();
    std::vector<std::string> a, b;
    for (const DriftEvent& e : incr->events) a.push_back(Line(e));
    for (const DriftEvent& e : full->events) b.push_back(Line(e));
    ASSERT_EQ(a, b) << "step " << steps;
    ASSERT_EQ(incr->root, full->root) << "step " << steps;
    EXPECT_EQ(incr->walk.full_reason, "") << "step " << steps;
    if (incr->walk.journal) ++journaled;
  }
  EXPECT_GE(steps, 50);
  // Every step after a valid journal examines only the dirty paths.
  EXPECT_EQ(journaled, steps);
}

}  // namespace
}  // namespace driftwatch
