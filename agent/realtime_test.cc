// The realtime watcher on a real directory and a real store, fed by a
// scripted event source (the kernel's is tested in tests/realtime/).
#include "agent/realtime.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <thread>

#include "agent/check.h"
#include "rules/policy.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::agent {
namespace {

using driftwatch::testutil::TempDir;
using driftwatch::testutil::WriteFile;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kRules = R"(version: 1
rules:
  - path: /etc/app/**
    check: content
    severity: high
  - path: /etc/app/cache/**
    ignore: true
)";

// Events as a test writes them; Read hands out what `keep` accepts.
class ScriptedSource final : public FsEventSource {
 public:
  Status Watch(const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    watched_.push_back(path);
    return Status::Ok();
  }
  Result<size_t> Read(const FsEventFilter& keep, int64_t timeout_ns, size_t max,
                      std::vector<FsEvent>* out) override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::nanoseconds(timeout_ns),
                 [&] { return !queue_.empty() || woken_; });
    woken_ = false;
    size_t n = 0;
    while (!queue_.empty() && n < max) {
      FsEvent ev = std::move(queue_.front());
      queue_.pop_front();
      ++n;
      if (ev.kind == FsEvent::Kind::kGap || keep(ev.path, ev.is_dir)) out->push_back(std::move(ev));
    }
    return n;
  }
  void Wake() override {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
    cv_.notify_all();
  }
  void Push(FsEvent ev) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(ev));
    cv_.notify_all();
  }
  std::vector<std::string> watched() {
    std::lock_guard<std::mutex> lock(mu_);
    return watched_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<FsEvent> queue_;
  std::vector<std::string> watched_;
  bool woken_ = false;
};

Actor Proc(int64_t pid, const std::string& exe) {
  Actor a;
  a.pid = pid;
  a.exe = exe;
  a.uid = 1000;
  return a;
}

// One event as a line: kind, path, transient, actor pid, reverted_by pid.
std::string Line(const DriftEvent& e) {
  std::string line = std::string(DriftKindName(e.kind)) + " " + e.path;
  if (e.transient) line += " transient";
  if (e.actor) line += " by " + std::to_string(e.actor->pid);
  if (e.reverted_by) line += " undone by " + std::to_string(e.reverted_by->pid);
  return line;
}

class WatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "root";
    WriteFile(root_ + "/etc/app/app.conf", "port = 80\n");
    WriteFile(root_ + "/etc/app/keep.conf", "x\n");
    WriteFile(root_ + "/etc/app/cache/state", "1");
    WriteFile(root_ + "/etc/other", "not watched");
    WriteFile(dir_ / "rules.yaml", kRules);
    ::chmod(dir_.path().c_str(), 0700);
    db_ = dir_ / "db/agent.db";
    CheckOptions o;
    o.host = &DefaultHost();
    o.db_path = db_;
    o.rules_path = dir_ / "rules.yaml";
    o.root = root_;
    o.jobs = 1;
    ASSERT_TRUE(CreateBaseline(o, "test", "").ok());
    auto policy = rules::LoadPolicyFile(DefaultHost(), dir_ / "rules.yaml");
    ASSERT_TRUE(policy.ok()) << policy.status().message();
    policy_ = std::make_unique<rules::Policy>(std::move(*policy));
    auto j = Journal::Open(DefaultHost(), db_);
    ASSERT_TRUE(j.ok());
    journal_ = std::move(*j);
  }

  void MakeWatcher(size_t max_pending = 65536) {
    WatcherOptions o;
    o.root = root_;
    o.db_path = db_;
    o.rule_files = {dir_ / "rules.yaml"};
    o.journal = journal_.get();
    o.max_pending = max_pending;
    o.examine_ns = 0;
    o.deliver_ns = 0;
    o.sink = [this](CheckResult r) { results_.push_back(std::move(r)); };
    o.container_of = [](const std::string& cgroup) {
      return cgroup == "/system.slice/docker-abc.scope" ? std::string("docker:web-1")
                                                        : std::string();
    };
    watcher_ = std::make_unique<Watcher>(DefaultHost(), *policy_, source_, std::move(o));
    ASSERT_TRUE(watcher_->Start().ok());
  }

  void Event(const std::string& logical, uint32_t mask, const Actor& actor, bool is_dir = false) {
    FsEvent ev;
    ev.mask = mask;
    ev.is_dir = is_dir;
    ev.path = root_ + logical;
    ev.time_ns = DefaultHost().NowNs();
    ev.actor = actor;
    source_.Push(std::move(ev));
  }

  // Polls until the source is drained; returns the event lines delivered.
  std::vector<std::string> Poll() {
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(watcher_->Poll(0).ok());
    std::vector<std::string> lines;
    for (const CheckResult& r : results_) {
      EXPECT_EQ(r.source, "realtime");
      EXPECT_EQ(r.baseline, "default");
      for (const DriftEvent& e : r.events) lines.push_back(Line(e));
    }
    results_.clear();
    return lines;
  }

  TempDir dir_;
  std::string root_;
  std::string db_;
  std::unique_ptr<rules::Policy> policy_;
  std::unique_ptr<Journal> journal_;
  ScriptedSource source_;
  std::unique_ptr<Watcher> watcher_;
  std::vector<CheckResult> results_;
};

TEST_F(WatcherTest, MarksTheFilesystemsOfWatchedPathsStoreAndRules) {
  MakeWatcher();
  EXPECT_THAT(source_.watched(), ElementsAre(root_ + "/etc/app", dir_ / "db", dir_ / "rules.yaml"));
  EXPECT_THAT(journal_->State()->reason, HasSubstr("the watcher started at"));
}

TEST_F(WatcherTest, ChangeIsReportedOnceWithItsActorThenItsRevertIsTransient) {
  MakeWatcher();
  WriteFile(root_ + "/etc/app/app.conf", "port = 81\n");
  Event("/etc/app/app.conf", kFsModify | kFsCloseWrite, Proc(100, "/usr/bin/vim"));
  results_.clear();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(watcher_->Poll(0).ok());
  ASSERT_EQ(results_.size(), 1u);
  const DriftEvent& e = results_[0].events.at(0);
  EXPECT_EQ(e.kind, DriftKind::kModified);
  EXPECT_EQ(e.severity, Severity::kHigh);
  EXPECT_EQ(e.changed, kAttrHash);
  EXPECT_GT(e.time_ns, 0);
  EXPECT_EQ(e.actor->exe, "/usr/bin/vim");
  EXPECT_EQ(results_[0].baseline_revision, 1);
  results_.clear();
  // Touched again without a change of state: nothing new.
  Event("/etc/app/app.conf", kFsAttrib, Proc(101, "/usr/bin/touch"));
  EXPECT_THAT(Poll(), ElementsAre());
  WriteFile(root_ + "/etc/app/app.conf", "port = 80\n");
  Event("/etc/app/app.conf", kFsModify, Proc(102, "/usr/bin/ed"));
  EXPECT_THAT(Poll(), ElementsAre("modified /etc/app/app.conf transient by 100 undone by 102"));
}

TEST_F(WatcherTest, ChangeUndoneBeforeItWasExaminedIsTransient) {
  MakeWatcher();
  Event("/etc/app/keep.conf", kFsModify, Proc(7, "/bin/sh"));
  Event("/etc/app/keep.conf", kFsModify, Proc(8, "/bin/restore"));
  Event("/etc/app/new.conf", kFsCreate, Proc(9, "/bin/touch"));
  Event("/etc/app/new.conf", kFsDelete, Proc(10, "/bin/rm"));
  EXPECT_THAT(Poll(), ElementsAre("modified /etc/app/keep.conf transient by 7 undone by 8",
                                  "added /etc/app/new.conf transient by 9 undone by 10"));
}

TEST_F(WatcherTest, AddedRemovedAndContainerOfTheActor) {
  MakeWatcher();
  WriteFile(root_ + "/etc/app/new.conf", "x");
  std::filesystem::remove(root_ + "/etc/app/keep.conf");
  Actor in_container = Proc(5, "/usr/sbin/nginx");
  in_container.cgroup = "/system.slice/docker-abc.scope";
  Event("/etc/app/new.conf", kFsCreate | kFsCloseWrite, in_container);
  Event("/etc/app/keep.conf", kFsDelete, Proc(6, "/bin/rm"));
  results_.clear();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(watcher_->Poll(0).ok());
  std::vector<std::string> lines;
  std::string container;
  for (const CheckResult& r : results_) {
    for (const DriftEvent& e : r.events) {
      lines.push_back(Line(e));
      if (e.path == "/etc/app/new.conf") container = e.actor->container;
    }
  }
  EXPECT_THAT(lines, ::testing::UnorderedElementsAre("added /etc/app/new.conf by 5",
                                                     "removed /etc/app/keep.conf by 6"));
  EXPECT_EQ(container, "docker:web-1");
}

TEST_F(WatcherTest, DirectoryMovedInOrRemovedBringsWhatIsUnderIt) {
  WriteFile(dir_ / "outside/conf.d/sub/x.conf", "x");
  WriteFile(dir_ / "outside/conf.d/y.conf", "y");
  WriteFile(root_ + "/etc/app/cache/ignored", "z");
  MakeWatcher();
  std::filesystem::rename(dir_ / "outside/conf.d", root_ + "/etc/app/conf.d");
  Event("/etc/app/conf.d", kFsMovedTo, Proc(4, "/bin/mv"), /*is_dir=*/true);
  EXPECT_THAT(Poll(), ElementsAre("added /etc/app/conf.d by 4", "added /etc/app/conf.d/sub by 4",
                                  "added /etc/app/conf.d/y.conf by 4",
                                  "added /etc/app/conf.d/sub/x.conf by 4"));
  std::filesystem::remove_all(root_ + "/etc/app/cache");
  Event("/etc/app/cache", kFsDelete, Proc(5, "/bin/rm"), /*is_dir=*/true);
  // The cache is ignored: its removal and what was in it are not drift.
  EXPECT_THAT(Poll(), ElementsAre());
}

TEST_F(WatcherTest, IgnoredUnwatchedAndStorePathsAreDropped) {
  MakeWatcher();
  WriteFile(root_ + "/etc/app/cache/state", "2");
  WriteFile(root_ + "/etc/other", "changed");
  Event("/etc/app/cache/state", kFsModify, Proc(1, "/a"));
  Event("/etc/other", kFsModify, Proc(1, "/a"));
  FsEvent wal;
  wal.mask = kFsModify;
  wal.path = db_ + "-wal";
  source_.Push(wal);
  EXPECT_THAT(Poll(), ElementsAre());
  EXPECT_EQ(journal_->State()->dirty_paths, 0);
}

TEST_F(WatcherTest, JournalRecordsDirtyPathsAndTreesAndAnswersCookies) {
  MakeWatcher();
  // A full check makes the journal valid.
  auto c = journal_->Consult(policy_->Fingerprint().Hex(), [] { return Status::Ok(); });
  ASSERT_TRUE(c.ok());
  CheckOptions o;
  o.host = &DefaultHost();
  o.db_path = db_;
  o.rules_path = dir_ / "rules.yaml";
  o.root = root_;
  o.jobs = 1;
  ASSERT_TRUE(RunCheck(o).ok());
  ASSERT_TRUE(journal_->Commit(*c, "default", true).ok());
  ASSERT_TRUE(journal_->State()->valid);

  std::filesystem::create_directories(root_ + "/etc/app/conf.d");
  Event("/etc/app/conf.d", kFsCreate, Proc(1, "/bin/mkdir"), /*is_dir=*/true);
  Event("/etc/app/app.conf", kFsModify, Proc(1, "/bin/ed"));
  FsEvent cookie;
  cookie.mask = kFsCreate;
  cookie.path = JournalCookiePath(db_, 1234);
  source_.Push(cookie);
  Poll();
  JournalState s = *journal_->State();
  EXPECT_TRUE(s.valid) << s.reason;
  EXPECT_EQ(s.synced_cookie, 1234);
  auto next = journal_->Consult(policy_->Fingerprint().Hex(), [] { return Status::Ok(); });
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(next->dirty) << next->full_reason;
  EXPECT_THAT(next->dirty->paths, ElementsAre("/etc/app/app.conf", "/etc/app/conf.d"));
  EXPECT_THAT(next->dirty->trees, ElementsAre("/etc/app/conf.d"));

  // A change of the rule file invalidates it.
  FsEvent rules;
  rules.mask = kFsModify;
  rules.path = dir_ / "rules.yaml";
  source_.Push(rules);
  Poll();
  EXPECT_THAT(journal_->State()->reason,
              HasSubstr("rules.yaml changed; the next check walks everything"));
}

TEST_F(WatcherTest, GapInvalidatesTheJournal) {
  MakeWatcher();
  FsEvent gap;
  gap.kind = FsEvent::Kind::kGap;
  gap.gap = "the event queue overflowed";
  source_.Push(gap);
  Poll();
  EXPECT_EQ(journal_->State()->reason,
            "the event queue overflowed; the next check walks everything");
  EXPECT_THAT(watcher_->gaps(), ElementsAre("the event queue overflowed"));
}

TEST_F(WatcherTest, StormOfAMillionEventsStaysBoundedAndIsAGap) {
  MakeWatcher(/*max_pending=*/1000);
  Actor a = Proc(3, "/bin/storm");
  // Pushed and read in chunks, as a kernel queue would hand them out.
  for (int chunk = 0; chunk < 100; ++chunk) {
    for (int i = 0; i < 10000; ++i) {
      Event("/etc/app/f" + std::to_string((chunk * 10000 + i) % 50000), kFsCreate, a);
    }
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(watcher_->Poll(0).ok());
    ASSERT_LE(watcher_->pending_paths(), 1000u);
  }
  EXPECT_EQ(journal_->State()->reason,
            "more than 1000 paths changed before they could be examined; the next check walks "
            "everything");
}

TEST_F(WatcherTest, SyncReturnsOnceEarlierEventsAreJournaled) {
  MakeWatcher();
  std::thread run([&] { EXPECT_TRUE(watcher_->Run().ok()); });
  // A sync right after the thread started is answered by Run.
  Status s = watcher_->Sync();
  EXPECT_TRUE(s.ok()) << s.message();
  auto reader = Journal::Open(DefaultHost(), db_);
  ASSERT_TRUE(reader.ok());
  Event("/etc/app/app.conf", kFsModify, Proc(1, "/bin/ed"));
  Event("/etc/app/keep.conf", kFsModify, Proc(1, "/bin/ed"));
  ASSERT_TRUE(watcher_->Sync().ok());
  EXPECT_EQ((*reader)->State()->dirty_paths, 2);
  watcher_->Stop();
  run.join();
  EXPECT_EQ((*reader)->State()->reason, "the realtime watcher stopped");
  EXPECT_EQ(watcher_->Sync().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace driftwatch::agent
