#include "agent/scanner.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <set>
#include <thread>

#include "agent/scan_walk.h"

namespace driftwatch::agent {
namespace {

void RaiseFdLimit() {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace

namespace scan_internal {

void Scan::Warn(std::string message) {
  std::lock_guard<std::mutex> lock(mu_);
  if (warnings_.size() < options_.max_warnings) {
    warnings_.push_back(std::move(message));
  } else {
    ++warnings_dropped_;
  }
}

void Scan::Fatal(Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (fatal_.ok()) fatal_ = std::move(status);
  done_ = true;
  stack_.clear();
  cv_.notify_all();
}

void Scan::Push(std::vector<Task> tasks) {
  if (tasks.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (done_) return;
  // Last pushed is taken first; push in reverse so names are walked in order.
  for (auto it = tasks.rbegin(); it != tasks.rend(); ++it) stack_.push_back(std::move(*it));
  cv_.notify_all();
}

void Scan::Worker() {
  for (;;) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return done_ || !stack_.empty(); });
      if (done_) return;
      task = std::move(stack_.back());
      stack_.pop_back();
      ++active_;
    }
    ProcessDir(std::move(task));
    {
      std::lock_guard<std::mutex> lock(mu_);
      --active_;
      if (active_ == 0 && stack_.empty()) {
        done_ = true;
        cv_.notify_all();
      }
    }
  }
}

void Scan::MaybeReportProgress() {
  if (!options_.progress) return;
  int64_t now = host_.NowNs();
  int64_t last = last_progress_ns_.load(std::memory_order_relaxed);
  if (now - last < 200'000'000) return;
  if (!last_progress_ns_.compare_exchange_strong(last, now)) return;
  std::lock_guard<std::mutex> lock(progress_mu_);
  ScanProgress p;
  p.entries = counts_.Total();
  p.files_hashed = files_hashed_;
  p.bytes_hashed = bytes_hashed_;
  options_.progress(p);
}

void Scan::ProcessDir(Task task) {
  std::shared_ptr<DirNode> node = std::move(task.node);
  std::vector<Task> children;
  if (node->descend) {
    const int parent = task.parent_fd ? task.parent_fd->get() : AT_FDCWD;
    const int flags = O_RDONLY | O_DIRECTORY | (task.parent_fd ? O_NOFOLLOW : 0);
    auto fd = host_.OpenAt(parent, task.name, flags);
    task.parent_fd.reset();  // let the parent's fd close as early as possible
    struct stat st;
    if (!fd.ok() && !node->parent) {
      // Without the root there is no scan: an empty tree would read as
      // "everything removed".
      Fatal(fd.status().WithContext("scan root"));
      return;
    }
    if (!fd.ok()) {
      Warn(EscapePath(node->path) + ": " +
           (fd.status().code() == StatusCode::kNotFound ? std::string("vanished during scan")
                                                        : fd.status().message()));
    } else if (!host_.Fstat(fd->get(), &st).ok() ||
               (node->parent && (st.st_ino != node->ino || st.st_dev != node->dev))) {
      Warn(EscapePath(node->path) + ": replaced during scan");
    } else {
      node->dev = st.st_dev;
      auto self_fd = std::make_shared<UniqueFd>(std::move(*fd));
      ListDir(*node, self_fd->get(), &children, self_fd, node);
    }
  }
  if (node->reuse && !node->base_counted) {
    // Not listed (it could not be opened): recorded empty, as in a full scan.
    if (Status s = reuse_->SubtractBelow(node->base); !s.ok()) {
      Fatal(s.WithContext("journal base " + EscapePath(node->path)));
      return;
    }
  }
  node->pending.fetch_add(children.size(), std::memory_order_relaxed);
  Push(std::move(children));
  if (node->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) Finish(std::move(node));
}

void Scan::Finish(std::shared_ptr<DirNode> node) {
  while (node) {
    Tree tree{std::move(node->entries)};
    std::string bytes = SerializeTree(tree);
    Hash128 id = TreeHash(bytes);
    Status s = sink_.Put(id, std::move(bytes));
    if (!s.ok()) {
      Fatal(s);
      return;
    }
    if (roots_.count(node->path)) {
      std::lock_guard<std::mutex> lock(mu_);
      subtrees_.emplace_back(node->path, id);
    }
    std::shared_ptr<DirNode> parent = std::move(node->parent);
    if (!parent) {
      std::lock_guard<std::mutex> lock(mu_);
      root_hash_ = id;
      return;
    }
    parent->entries[node->index].subtree = id;
    node.reset();
    if (parent->pending.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    node = std::move(parent);
  }
}

Result<ScanResult> Scan::Run() {
  RaiseFdLimit();
  started_ns_ = host_.NowNs();
  std::string empty = SerializeTree(Tree{});
  empty_tree_ = TreeHash(empty);
  DW_RETURN_IF_ERROR(sink_.Put(empty_tree_, std::move(empty)));

  struct stat st;
  DW_RETURN_IF_ERROR(host_.StatAt(AT_FDCWD, options_.root, &st).WithContext("scan root"));
  if (reuse_ != nullptr && !reuse_->Leads("/")) return Unchanged();
  auto root = std::make_shared<DirNode>();
  root->path = "/";
  root->host_path = options_.root;
  root->dev = st.st_dev;
  root->ino = st.st_ino;
  if (reuse_ != nullptr && !reuse_->IsTree("/")) {
    root->reuse = true;
    root->base = reuse_->reuse().root;
  }
  // The root itself may be a symlink the user named on purpose; open it plainly.
  Push({Task{root, nullptr, options_.root}});
  root.reset();

  int jobs = options_.jobs > 0
                 ? options_.jobs
                 : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;
  for (int i = 1; i < jobs; ++i) threads.emplace_back([this] { Worker(); });
  Worker();
  for (std::thread& t : threads) t.join();

  if (!fatal_.ok()) return fatal_;
  ScanResult result;
  result.root = root_hash_;
  result.started_ns = started_ns_;
  result.stats.files = counts_.files;
  result.stats.dirs = counts_.dirs;
  result.stats.others = counts_.others;
  if (reuse_ != nullptr && !reuse_->IsTree("/")) {
    ScanStats totals = reuse_->Totals(counts_);
    result.stats.files = totals.files;
    result.stats.dirs = totals.dirs;
    result.stats.others = totals.others;
  }
  result.dirs_listed = dirs_listed_;
  if (reuse_ != nullptr) {
    for (std::string& w : reuse_->CarriedWarnings(listed_)) warnings_.push_back(std::move(w));
  }
  result.stats.files_hashed = files_hashed_;
  result.stats.bytes_hashed = bytes_hashed_;
  result.stats.duration_ns = host_.NowNs() - started_ns_;
  std::sort(warnings_.begin(), warnings_.end());  // threads finish in any order
  result.warnings = std::move(warnings_);
  if (warnings_dropped_ > 0) {
    result.warnings.push_back(std::to_string(warnings_dropped_) + " more warnings not listed");
  }
  std::sort(subtrees_.begin(), subtrees_.end());
  result.subtrees = std::move(subtrees_);
  return result;
}

ScanResult Scan::Unchanged() {
  const ScanReuse& base = reuse_->reuse();
  ScanResult result;
  result.root = base.root;
  result.started_ns = started_ns_;
  result.stats.files = base.stats.files;
  result.stats.dirs = base.stats.dirs;
  result.stats.others = base.stats.others;
  result.stats.duration_ns = host_.NowNs() - started_ns_;
  result.subtrees = base.subtrees;
  result.warnings = reuse_->CarriedWarnings({});
  return result;
}

}  // namespace scan_internal

Result<ScanResult> ScanTree(Host& host, const rules::Policy& policy, const ScanOptions& options,
                            TreeSink& sink) {
  scan_internal::Scan scan(host, policy, options, sink);
  return scan.Run();
}

std::string HostPath(const std::string& root, std::string_view logical) {
  std::string base = root;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  if (base == "/") return std::string(logical);
  if (logical == "/") return base;
  return base + std::string(logical);
}

}  // namespace driftwatch::agent
