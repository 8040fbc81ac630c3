// The scanner's walk (agent/scanner.h), shared by its two source files:
// scanner.cc runs the workers and assembles the trees, scan_dir.cc lists a
// directory and examines its entries. Not part of the agent's interface.
#ifndef DRIFTWATCH_AGENT_SCAN_WALK_H_
#define DRIFTWATCH_AGENT_SCAN_WALK_H_

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "agent/entry_counts.h"
#include "agent/scan_content.h"
#include "agent/scanner.h"

namespace driftwatch::agent::scan_internal {

struct DirNode {
  std::shared_ptr<DirNode> parent;
  size_t index = 0;       // this directory's entry in parent->entries
  std::string path;       // logical path, "/" for the root
  std::string host_path;  // where it is on the host (stat cache key)
  uint64_t dev = 0;
  uint64_t ino = 0;
  int depth = 0;
  bool descend = true;        // false: mount point or too deep, recorded empty
  bool reuse = false;         // journal-driven: `base` is this directory in the base scan
  bool base_counted = false;  // its base entries were subtracted (it was listed)
  Hash128 base;
  std::vector<Entry> entries;
  std::atomic<size_t> pending{1};  // own listing + unfinished child dirs
};

struct Task {
  std::shared_ptr<DirNode> node;
  std::shared_ptr<UniqueFd> parent_fd;  // null for the root
  std::string name;                     // component in parent_fd, or the root's host path
};

class Scan {
 public:
  Scan(Host& host, const rules::Policy& policy, const ScanOptions& options, TreeSink& sink)
      : host_(host),
        policy_(policy),
        options_(options),
        sink_(sink),
        content_(policy, options.content) {
    for (const std::string& r : policy_.Roots()) roots_.insert(r);
    if (options_.reuse != nullptr) reuse_ = std::make_unique<ReuseState>(*options_.reuse);
  }

  Result<ScanResult> Run();
  // Journal-driven with nothing dirty: the base scan as it was.
  ScanResult Unchanged();

 private:
  void Worker();
  void ProcessDir(Task task);
  void ListDir(DirNode& node, int fd, std::vector<Task>* children,
               const std::shared_ptr<UniqueFd>& self_fd, const std::shared_ptr<DirNode>& self);
  // Journal-driven: takes the base entry of the clean directory `name` (its
  // stat cache row carried over); false when it has to be examined.
  bool Reuse(DirNode& node, const Tree& base, const DirEntryName& de, const std::string& path,
             const std::vector<CachedStat>& cached, std::vector<CachedStat>* fresh);
  // Journal-driven: the base tree of `node`, its entries subtracted.
  Result<Tree> LoadBase(DirNode& node);
  void Finish(std::shared_ptr<DirNode> node);
  void Push(std::vector<Task> tasks);
  void Warn(std::string message);
  void Fatal(Status status);
  void MaybeReportProgress();
  // The time a stat cache row counts as read at, for the racy check: the
  // scan's start, or now when the clock was set back since (a file written
  // after the jump has an older time than the start, and would look settled).
  int64_t ReadTimeNs() { return std::min(started_ns_, host_.NowNs()); }

  Host& host_;
  const rules::Policy& policy_;
  const ScanOptions& options_;
  TreeSink& sink_;
  ContentKeeper content_;
  std::set<std::string> roots_;
  std::unique_ptr<ReuseState> reuse_;  // journal-driven scans only
  Hash128 empty_tree_;
  int64_t started_ns_ = 0;

  EntryCounts counts_;
  std::atomic<uint64_t> files_hashed_{0}, bytes_hashed_{0}, dirs_listed_{0};
  std::atomic<int64_t> last_progress_ns_{0};

  std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::vector<Task> stack_;
  int active_ = 0;
  bool done_ = false;
  Status fatal_;
  std::vector<std::string> warnings_;
  uint64_t warnings_dropped_ = 0;
  std::vector<std::pair<std::string, Hash128>> subtrees_;
  std::vector<std::string> listed_;  // journal-driven: the directories listed
  Hash128 root_hash_;
  std::mutex progress_mu_;  // serializes the progress callback
};

}  // namespace driftwatch::agent::scan_internal

#endif  // DRIFTWATCH_AGENT_SCAN_WALK_H_
