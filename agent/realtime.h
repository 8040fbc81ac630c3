// Watcher: realtime drift (docs/realtime.md). Reads filesystem events from
// an FsEventSource, keeps those on paths the rules watch (or that lead to
// one), examines each changed path at most every 100 ms against the latest
// revision of the baseline, and hands the drift events to a sink as
// CheckResults with source "realtime", at most every 250 ms. With a Journal
// it also records every dirty logical path for the next check
// (agent/journal.h) and invalidates it on every gap.
//
// Per path, events are coalesced until the path is examined: the entry is
// read now (agent/live_entry.h) and classified like a check would
// (agent::ClassifyChange). A path already reported in the same state is not
// reported again; a path that comes back to its baseline entry, or whose
// events arrived but whose entry equals the baseline (written and undone
// before it was examined), is reported `transient`.
//
// Memory is bounded: at most max_pending paths wait to be examined (more is
// a gap), at most kMaxReported paths are remembered as reported, and the
// baseline trees read are cached up to a bound.
//
// Thread-safety: Run is called on one thread (the sink is called from it);
// Stop and Sync may be called from any thread.
#ifndef DRIFTWATCH_AGENT_REALTIME_H_
#define DRIFTWATCH_AGENT_REALTIME_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/journal.h"
#include "agent/store.h"
#include "core/drift.h"
#include "core/fs_events.h"
#include "core/host.h"
#include "core/status.h"
#include "rules/policy.h"

namespace driftwatch::agent {

struct WatcherOptions {
  std::string root = "/";  // rule paths are relative to this host directory
  std::string db_path;     // the agent store (its baseline; its files are not watched)
  std::string baseline = "default";
  std::vector<std::string> rule_files;  // a change to one invalidates the journal
  // Receives batches of realtime events (source "realtime"); called on the
  // thread of Run.
  std::function<void(CheckResult)> sink;
  // The container a process ran in, from its cgroup ("" on the host);
  // optional.
  std::function<std::string(const std::string& cgroup)> container_of;
  Journal* journal = nullptr;  // optional; borrowed
  size_t max_pending = 65536;  // paths waiting to be examined
  int64_t examine_ns = 100'000'000;
  int64_t deliver_ns = 250'000'000;
};

class Watcher {
 public:
  // All borrowed; they must outlive the Watcher.
  Watcher(Host& host, const rules::Policy& policy, FsEventSource& source, WatcherOptions options);
  ~Watcher();

  // Marks the filesystems of the watched paths and of the store, opens the
  // store and begins a journal epoch. Fails when the store or the baseline
  // cannot be read or no path can be watched.
  Status Start();
  // Reads and examines events until Stop. Errors of the source end it.
  Status Run();
  // One round of Run: waits up to timeout_ns for events, then examines and
  // delivers what is due.
  Status Poll(int64_t timeout_ns);
  void Stop();
  // Waits (up to timeout_ns) until every event read from the kernel before
  // the call is recorded in the journal. kUnavailable when the watcher was
  // not started or has stopped, or Run did not answer in time.
  Status Sync(int64_t timeout_ns = 2'000'000'000);

  // Gaps seen so far (for status and tests).
  std::vector<std::string> gaps() const;
  // Paths waiting to be examined (Run's thread only).
  size_t pending_paths() const { return pending_.size(); }

 private:
  struct Pending {
    uint32_t mask = 0;
    bool is_dir = false;
    bool direct = false;  // an event on the path itself, not only on a child
    int64_t time_ns = 0;  // first event
    Actor first;          // who made the first change
    Actor last;           // who made the last one
  };

  bool Keep(std::string_view path, bool is_dir) const;
  void Accept(FsEvent ev);
  void Gap(const std::string& reason);
  Status Examine();
  void ExaminePath(const std::string& path, const Pending& p);
  // Queues the children of a directory that came (`live`: as listed now)
  // or went (`base`: its baseline entry) for the next round.
  void ExpandChildren(const std::string& path, const Pending& p, const Entry* base, bool live);
  Status LoadBaseline();
  Result<std::optional<Entry>> BaselineEntry(const std::string& logical);
  Result<Tree> GetTree(const Hash128& id);
  Status FlushJournal();
  void Deliver(bool force);
  void Emit(DriftEvent ev);
  void AnswerSyncs();
  std::string Logical(std::string_view host_path) const;

  Host& host_;
  const rules::Policy& policy_;
  FsEventSource& source_;
  WatcherOptions options_;
  std::string root_;  // options_.root without a trailing slash ("" for "/")
  std::unique_ptr<Store> store_;

  // Run's thread only.
  std::unordered_map<std::string, Pending> pending_;
  std::unordered_map<std::string, Pending> retry_;  // changing while examined
  int64_t cookie_ = 0;                              // the newest sync cookie seen
  std::map<std::string, DirtyPath> dirty_;          // for the journal
  bool overflowed_ = false;  // pending_ or dirty_ hit its bound since the last round
  std::unordered_map<std::string, DriftEvent> reported_;  // paths reported different
  std::map<Hash128, Tree> trees_;                         // baseline trees read
  int64_t baseline_snapshot_ = 0;
  Hash128 baseline_root_;
  int64_t baseline_revision_ = 0;
  std::vector<DriftEvent> batch_;
  int64_t next_examine_ = 0;
  int64_t last_delivery_ = 0;
  int64_t next_heartbeat_ = 0;
  int64_t next_baseline_check_ = 0;

  mutable std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  bool stop_ = false;
  bool running_ = false;
  int64_t sync_requested_ = 0;
  int64_t sync_done_ = 0;
  std::vector<std::string> gaps_;
};

constexpr size_t kMaxReported = 65536;

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_REALTIME_H_
