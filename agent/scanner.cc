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

#include "agent/scan_content.h"

namespace driftwatch::agent {
namespace {

void RaiseFdLimit() {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

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

  std::atomic<uint64_t> files_{0}, dirs_{0}, others_{0}, files_hashed_{0}, bytes_hashed_{0},
      dirs_listed_{0};
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
  p.entries = files_ + dirs_ + others_;
  p.files_hashed = files_hashed_;
  p.bytes_hashed = bytes_hashed_;
  options_.progress(p);
}

void Scan::ListDir(DirNode& node, int fd, std::vector<Task>* children,
                   const std::shared_ptr<UniqueFd>& self_fd, const std::shared_ptr<DirNode>& self) {
  auto names = host_.ReadDir(fd);
  if (!names.ok()) {
    Warn(EscapePath(node.path) + ": " + names.status().message());
    return;
  }
  std::sort(names->begin(), names->end(),
            [](const DirEntryName& a, const DirEntryName& b) { return a.name < b.name; });
  ++dirs_listed_;
  if (reuse_ != nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    listed_.push_back(node.path);
  }
  bool cache_loaded = false;
  std::vector<CachedStat> cached;
  std::vector<CachedStat> fresh;
  bool cache_dirty = false;
  const std::string prefix = node.path == "/" ? "" : node.path;
  Tree base;
  // Base directories whose counts are not left to their own listing.
  std::vector<bool> base_below_counted;
  if (node.reuse) {
    auto loaded = LoadBase(node);
    if (!loaded.ok()) {
      Fatal(loaded.status().WithContext("journal base " + EscapePath(node.path)));
      return;
    }
    base = std::move(*loaded);
    base_below_counted.assign(base.entries.size(), false);
    if (options_.cache != nullptr) {
      cache_loaded = true;  // reused directories keep their rows
      auto rows = options_.cache->LoadDir(node.host_path);
      if (rows.ok()) cached = std::move(*rows);
    }
  }
  auto base_entry = [&](const std::string& name) -> const Entry* {
    auto it = std::lower_bound(base.entries.begin(), base.entries.end(), name,
                               [](const Entry& e, const std::string& n) { return e.name < n; });
    return it != base.entries.end() && it->name == name ? &*it : nullptr;
  };

  for (const DirEntryName& de : *names) {
    std::string path = prefix + "/" + de.name;
    const rules::Rule* rule = policy_.Match(path);
    const bool watched = rule != nullptr && !rule->ignore;
    // Whether something beneath may be watched matters only for unwatched entries.
    const bool below = !watched && policy_.CouldMatchBelow(path);
    if (!watched && !below) continue;
    if (!watched && de.d_type != DT_DIR && de.d_type != DT_UNKNOWN) continue;
    if (node.reuse && Reuse(node, base, de, path, cached, &fresh)) {
      base_below_counted[base_entry(de.name) - base.entries.data()] = true;
      continue;
    }

    struct stat st;
    Status s = host_.StatAt(fd, de.name, &st);
    if (!s.ok()) {
      Warn(EscapePath(path) +
           (s.code() == StatusCode::kNotFound ? ": vanished during scan" : ": " + s.message()));
      continue;
    }
    Entry e;
    if (!EntryFromStat(de.name, st, rule, &e)) continue;
    if (!watched && e.type != EntryType::kDir) continue;

    if (watched && e.type == EntryType::kSymlink && (e.mask & kAttrLink)) {
      auto target = host_.ReadLinkAt(fd, de.name);
      if (!target.ok()) {
        Warn(EscapePath(path) + ": " + target.status().message());
        continue;
      }
      e.link_target = std::move(*target);
    }
    const bool want_hash = watched && e.type == EntryType::kFile && (e.mask & kAttrHash);
    const bool want_xattrs = watched && (e.mask & kAttrXattrs);
    if (want_hash || want_xattrs) {
      if (options_.cache != nullptr && !cache_loaded) {
        cache_loaded = true;
        auto rows = options_.cache->LoadDir(node.host_path);
        if (rows.ok()) cached = std::move(*rows);
      }
      const CachedStat* hit = nullptr;
      auto it =
          std::lower_bound(cached.begin(), cached.end(), de.name,
                           [](const CachedStat& c, const std::string& n) { return c.name < n; });
      if (it != cached.end() && it->name == de.name) hit = &*it;
      // An unchanged stat tuple (ctime included: writes, chmod, chown and
      // setxattr all move it) means unchanged content and xattrs, unless the
      // file was racy when it was read.
      const bool unchanged = !options_.full && hit != nullptr && hit->dev == st.st_dev &&
                             hit->ino == st.st_ino && hit->size == e.size &&
                             hit->mtime_ns == e.mtime_ns && hit->ctime_ns == e.ctime_ns &&
                             e.mtime_ns < hit->scan_ns - options_.racy_window_ns &&
                             e.ctime_ns < hit->scan_ns - options_.racy_window_ns;
      CachedStat row{de.name,
                     st.st_dev,
                     st.st_ino,
                     e.size,
                     e.mtime_ns,
                     e.ctime_ns,
                     unchanged ? hit->scan_ns : ReadTimeNs(),
                     Digest(),
                     false,
                     Hash128()};
      bool vanished = false;
      bool complete = true;
      if (want_xattrs) {
        if (unchanged && hit->has_xattrs && content_.HasXattrs(hit->xattrs)) {
          e.xattrs = hit->xattrs;
        } else {
          auto xattrs = host_.XattrsAt(fd, de.name);
          cache_dirty = true;
          if (xattrs.ok()) {
            e.xattrs = XattrDigest(*xattrs);
            if (Status k = content_.KeepXattrs(path, e.xattrs, *xattrs); !k.ok()) {
              Warn(k.message());
            }
          } else if (xattrs.status().code() == StatusCode::kNotFound) {
            vanished = true;
          } else {
            complete = false;
            Warn(EscapePath(path) + ": " + xattrs.status().message());
          }
        }
        row.xattrs = e.xattrs;
        row.has_xattrs = complete && !vanished;
      }
      if (want_hash && !vanished) {
        // Kept content (docs/content.md): from the read that hashes the
        // file; a file the cache vouches for is read again for a missing blob.
        uint64_t keep_max = 0;
        const bool keep = content_.Wants(path, e.size, &keep_max);
        if (unchanged && hit->digest.algo == rule->hash &&
            (!keep || content_.HasBlob(hit->digest))) {
          e.content = hit->digest;
        } else {
          std::string kept;
          auto digest = HashFileAt(host_, fd, path, de.name, st, rule->hash, keep ? &kept : nullptr,
                                   keep_max);
          if (digest.ok()) {
            bytes_hashed_ += digest->bytes;
            ++files_hashed_;
            if (digest->changed) Warn(EscapePath(path) + ": changed during scan");
            if (keep && !digest->changed && digest->bytes <= keep_max &&
                kept.size() == digest->bytes) {
              if (Status k = content_.Keep(path, digest->digest, kept); !k.ok()) {
                Warn(k.message());
              }
            }
          }
          cache_dirty = true;
          if (digest.ok()) {
            e.content = digest->digest;
          } else if (digest.status().code() == StatusCode::kNotFound) {
            vanished = true;
          } else {
            complete = false;
            Warn(digest.status().message());
          }
        }
        row.digest = e.content;
      }
      if (vanished) {
        Warn(EscapePath(path) + ": vanished during scan");
        continue;
      }
      if (complete) fresh.push_back(std::move(row));
    }
    e.ApplyMask();
    switch (e.type) {
      case EntryType::kFile:
        ++files_;
        break;
      case EntryType::kDir:
        ++dirs_;
        break;
      default:
        ++others_;
        break;
    }
    node.entries.push_back(std::move(e));
    if (node.entries.back().type == EntryType::kDir) {
      auto child = std::make_shared<DirNode>();
      child->parent = self;
      child->index = node.entries.size() - 1;
      child->path = path;
      child->host_path = node.host_path;
      if (child->host_path.empty() || child->host_path.back() != '/') child->host_path += '/';
      child->host_path += de.name;
      child->dev = st.st_dev;
      child->ino = st.st_ino;
      child->depth = node.depth + 1;
      if (const Entry* b = node.reuse ? base_entry(de.name) : nullptr;
          b != nullptr && b->type == EntryType::kDir && !reuse_->IsTree(path)) {
        child->reuse = true;
        child->base = b->subtree;
      }
      const bool cross = watched && rule->cross_mounts;
      if (st.st_dev != node.dev && !cross) {
        child->descend = false;
      } else if (child->depth > options_.max_depth) {
        child->descend = false;
        Warn(EscapePath(path) + ": deeper than " + std::to_string(options_.max_depth) +
             " levels, not descended");
      }
      if (child->reuse && child->descend) {
        // Its listing subtracts its base entries.
        base_below_counted[base_entry(de.name) - base.entries.data()] = true;
      } else {
        child->reuse = false;
      }
      children->push_back(Task{std::move(child), self_fd, de.name});
    }
  }
  for (size_t i = 0; i < base.entries.size(); ++i) {
    const Entry& b = base.entries[i];
    if (b.type != EntryType::kDir || base_below_counted[i]) continue;
    // Gone, replaced or rescanned whole: nothing below it is in this scan
    // unless examined again.
    if (Status s = reuse_->SubtractBelow(b.subtree); !s.ok()) {
      Fatal(s.WithContext("journal base " + EscapePath(prefix + "/" + b.name)));
      return;
    }
  }
  if (options_.cache != nullptr && (cache_dirty || fresh.size() != cached.size())) {
    Status s = options_.cache->StoreDir(node.host_path, std::move(fresh));
    if (!s.ok()) Warn("stat cache: " + s.message());
  }
  MaybeReportProgress();
}

Result<Tree> Scan::LoadBase(DirNode& node) {
  DW_ASSIGN_OR_RETURN(Tree base, reuse_->reuse().source->Get(node.base));
  reuse_->SubtractEntries(base);
  node.base_counted = true;
  return base;
}

bool Scan::Reuse(DirNode& node, const Tree& base, const DirEntryName& de, const std::string& path,
                 const std::vector<CachedStat>& cached, std::vector<CachedStat>* fresh) {
  if (de.d_type != DT_DIR && de.d_type != DT_UNKNOWN) return false;
  if (reuse_->Leads(path) || reuse_->HasBaseWarning(path)) return false;
  auto it = std::lower_bound(base.entries.begin(), base.entries.end(), de.name,
                             [](const Entry& e, const std::string& n) { return e.name < n; });
  // Not in the base as a directory: the journal missed it, so look.
  if (it == base.entries.end() || it->name != de.name || it->type != EntryType::kDir) return false;
  node.entries.push_back(*it);
  ++dirs_;
  auto row = std::lower_bound(cached.begin(), cached.end(), de.name,
                              [](const CachedStat& c, const std::string& n) { return c.name < n; });
  if (row != cached.end() && row->name == de.name) fresh->push_back(*row);
  auto under = reuse_->SubtreesUnder(path);
  if (!under.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    subtrees_.insert(subtrees_.end(), under.begin(), under.end());
  }
  return true;
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
  result.stats.files = files_;
  result.stats.dirs = dirs_;
  result.stats.others = others_;
  if (reuse_ != nullptr && !reuse_->IsTree("/")) {
    ScanStats totals = reuse_->Totals(files_, dirs_, others_);
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

}  // namespace

Result<ScanResult> ScanTree(Host& host, const rules::Policy& policy, const ScanOptions& options,
                            TreeSink& sink) {
  Scan scan(host, policy, options, sink);
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
