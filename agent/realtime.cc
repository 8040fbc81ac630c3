#include "agent/realtime.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "agent/check.h"
#include "agent/live_entry.h"

namespace driftwatch::agent {
namespace {

constexpr size_t kReadMax = 4096;
constexpr size_t kMaxTrees = 4096;
constexpr size_t kMaxGaps = 16;
constexpr size_t kMaxBatch = 100000;
constexpr int kMaxDrainRounds = 256;
constexpr int64_t kBaselineRecheckNs = 1'000'000'000;

constexpr uint32_t kWrites = kFsCreate | kFsDelete | kFsMovedFrom | kFsMovedTo | kFsModify |
                             kFsAttrib | kFsDeleteSelf | kFsMoveSelf;
constexpr uint32_t kNameChanges = kFsCreate | kFsDelete | kFsMovedFrom | kFsMovedTo;

bool SameState(const std::optional<Entry>& a, const std::optional<Entry>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || ChangedAttrs(*a, *b) == 0;
}

// The attributes a kind of write may have changed, for a change undone
// before the path was examined (its new state was never seen).
uint32_t GuessChanged(uint32_t mask, const Entry& e) {
  uint32_t changed = 0;
  if (mask & kFsModify) changed |= kAttrHash | kAttrSize | kAttrMtime;
  if (mask & kFsAttrib) changed |= kAttrPerm | kAttrUid | kAttrGid | kAttrXattrs | kAttrMtime;
  if (mask & (kFsCreate | kFsMovedTo)) changed |= kAttrHash | kAttrInode;
  changed &= e.mask;
  return changed != 0 ? changed : (e.mask & ~kAttrType);
}

}  // namespace

Watcher::Watcher(Host& host, const rules::Policy& policy, FsEventSource& source,
                 WatcherOptions options)
    : host_(host), policy_(policy), source_(source), options_(std::move(options)) {
  root_ = options_.root;
  while (!root_.empty() && root_.back() == '/') root_.pop_back();
}

Watcher::~Watcher() = default;

std::string Watcher::Logical(std::string_view host_path) const {
  if (root_.empty()) return std::string(host_path);
  if (host_path.size() == root_.size()) return "/";
  return std::string(host_path.substr(root_.size()));
}

namespace {

// Whether `dir` is `path` or one of its ancestors.
bool LeadsTo(std::string_view dir, std::string_view path) {
  if (dir == "/") return !path.empty() && path[0] == '/';
  return path.starts_with(dir) && (path.size() == dir.size() || path[dir.size()] == '/');
}

}  // namespace

// A directory is rejected only when nothing under it is kept (the source
// may then ignore it in the kernel, core/fs_events.h): the directories
// leading to the root, the store's cookies and the rule files are kept.
bool Watcher::Keep(std::string_view path, bool is_dir) const {
  const std::string p(path);
  if (ParseJournalCookie(options_.db_path, p) != 0) return true;
  for (const std::string& f : options_.rule_files) {
    if (p == f || (is_dir && LeadsTo(p, f))) return true;
  }
  if (is_dir && ((!root_.empty() && LeadsTo(p, root_)) ||
                 (!options_.db_path.empty() && LeadsTo(p, options_.db_path)))) {
    return true;
  }
  // The store and its -wal, -shm and -journal files.
  if (!is_dir && !options_.db_path.empty() &&
      p.compare(0, options_.db_path.size(), options_.db_path) == 0) {
    return false;
  }
  if (!root_.empty()) {
    if (p.compare(0, root_.size(), root_) != 0) return false;
    if (p.size() > root_.size() && p[root_.size()] != '/') return false;
  }
  const std::string logical = Logical(path);
  const rules::Rule* rule = policy_.Match(logical);
  if (rule != nullptr && !rule->ignore) return true;
  return policy_.CouldMatchBelow(logical);
}

Status Watcher::Start() {
  DW_ASSIGN_OR_RETURN(store_, Store::Open(host_, options_.db_path));
  std::vector<std::string> paths;
  for (const std::string& r : policy_.Roots()) paths.push_back(HostPath(options_.root, r));
  paths.push_back(options_.db_path.substr(0, std::max<size_t>(1, options_.db_path.rfind('/'))));
  for (const std::string& f : options_.rule_files) paths.push_back(f);
  int marked = 0;
  Status first;
  for (std::string p : paths) {
    // The filesystem that holds a path yet to be created is its nearest
    // existing ancestor's.
    struct stat st;
    for (int i = 0; i < 4096 && p.size() > 1 && !host_.StatAt(AT_FDCWD, p, &st).ok(); ++i) {
      p = p.substr(0, std::max<size_t>(1, p.rfind('/')));
    }
    Status s = source_.Watch(p);
    if (s.ok()) {
      ++marked;
    } else if (first.ok()) {
      first = s;
    }
  }
  if (marked == 0) return first.WithContext("realtime: no watched path could be marked");
  DW_RETURN_IF_ERROR(LoadBaseline());
  if (options_.journal != nullptr) {
    DW_RETURN_IF_ERROR(options_.journal->BeginEpoch(host_.NowNs(), host_.MonotonicNs(), ::getpid(),
                                                    policy_.Fingerprint().Hex()));
  }
  next_heartbeat_ = host_.MonotonicNs() + kJournalHeartbeatNs;
  // Syncs from here on wait for Run (a check may consult before its thread
  // has started).
  std::lock_guard<std::mutex> lock(mu_);
  running_ = true;
  return Status::Ok();
}

void Watcher::Gap(const std::string& reason) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (gaps_.size() >= kMaxGaps) gaps_.erase(gaps_.begin());
    gaps_.push_back(reason);
  }
  dirty_.clear();
  if (options_.journal != nullptr) {
    options_.journal->Invalidate(reason + "; the next check walks everything").IgnoreError();
  }
}

std::vector<std::string> Watcher::gaps() const {
  std::lock_guard<std::mutex> lock(mu_);
  return gaps_;
}

void Watcher::Accept(FsEvent ev) {
  if (ev.kind == FsEvent::Kind::kGap) {
    Gap(ev.gap);
    return;
  }
  if (int64_t cookie = ParseJournalCookie(options_.db_path, ev.path); cookie != 0) {
    cookie_ = std::max(cookie_, cookie);
    return;
  }
  if (std::find(options_.rule_files.begin(), options_.rule_files.end(), ev.path) !=
      options_.rule_files.end()) {
    Gap("the rule file " + EscapePath(ev.path) + " changed");
    return;
  }
  const std::string logical = Logical(ev.path);
  auto add = [&](const std::string& path, bool direct) {
    auto it = pending_.find(path);
    if (it == pending_.end()) {
      if (pending_.size() >= options_.max_pending) {
        overflowed_ = true;
        return;
      }
      it = pending_.emplace(path, Pending{}).first;
      it->second.time_ns = ev.time_ns;
      it->second.first = ev.actor;
    }
    Pending& p = it->second;
    if (direct) {
      p.mask |= ev.mask;
      p.is_dir = ev.is_dir;
      p.direct = true;
    }
    p.last = ev.actor;
  };
  add(logical, true);
  // A name created or removed changes the directory holding it too.
  if ((ev.mask & kNameChanges) && logical != "/") {
    std::string parent = ParentOf(logical);
    if (Keep(HostPath(options_.root, parent), true)) add(parent, false);
  }
  if (options_.journal != nullptr) {
    auto it = dirty_.find(logical);
    if (it == dirty_.end()) {
      if (dirty_.size() >= options_.max_pending) {
        overflowed_ = true;
        return;
      }
      it = dirty_.emplace(logical, DirtyPath{logical, false}).first;
    }
    if (ev.is_dir && (ev.mask & (kFsCreate | kFsMovedTo))) it->second.tree = true;
  }
}

Status Watcher::LoadBaseline() {
  DW_ASSIGN_OR_RETURN(std::optional<BaselineRow> row, store_->LatestBaseline(options_.baseline));
  next_baseline_check_ = host_.MonotonicNs() + kBaselineRecheckNs;
  if (!row) {
    baseline_snapshot_ = 0;
    return Status::Ok();
  }
  if (row->snapshot_id == baseline_snapshot_) return Status::Ok();
  DW_ASSIGN_OR_RETURN(SnapshotRow snap, store_->GetSnapshot(row->snapshot_id));
  baseline_snapshot_ = row->snapshot_id;
  baseline_root_ = snap.root;
  baseline_revision_ = row->revision;
  reported_.clear();  // a new revision: what differs is measured again
  return Status::Ok();
}

Result<Tree> Watcher::GetTree(const Hash128& id) {
  auto it = trees_.find(id);
  if (it != trees_.end()) return it->second;
  DW_ASSIGN_OR_RETURN(Tree t, store_->Get(id));
  if (trees_.size() >= kMaxTrees) trees_.clear();
  trees_.emplace(id, t);
  return t;
}

Result<std::optional<Entry>> Watcher::BaselineEntry(const std::string& logical) {
  DW_ASSIGN_OR_RETURN(Tree tree, GetTree(baseline_root_));
  size_t pos = 1;
  while (pos <= logical.size()) {
    size_t end = logical.find('/', pos);
    if (end == std::string::npos) end = logical.size();
    const std::string name = logical.substr(pos, end - pos);
    auto it = std::lower_bound(tree.entries.begin(), tree.entries.end(), name,
                               [](const Entry& e, const std::string& n) { return e.name < n; });
    if (it == tree.entries.end() || it->name != name) return std::optional<Entry>();
    if (end == logical.size()) return std::optional<Entry>(*it);
    if (it->type != EntryType::kDir) return std::optional<Entry>();
    Hash128 sub = it->subtree;
    DW_ASSIGN_OR_RETURN(tree, GetTree(sub));
    pos = end + 1;
  }
  return std::optional<Entry>();
}

void Watcher::Emit(DriftEvent ev) {
  auto place = [&](std::optional<Actor>& a) {
    if (a && a->container.empty() && !a->cgroup.empty() && options_.container_of) {
      a->container = options_.container_of(a->cgroup);
    }
  };
  place(ev.actor);
  place(ev.reverted_by);
  if (batch_.size() < kMaxBatch) batch_.push_back(std::move(ev));
}

void Watcher::ExaminePath(const std::string& path, const Pending& p) {
  auto base = BaselineEntry(path);
  if (!base.ok()) return;
  auto now = ReadLiveEntry(host_, policy_, options_.root, path);
  if (!now.ok()) {
    // Changing while it was read: look again next round.
    if (now.status().code() == StatusCode::kUnavailable) retry_.emplace(path, p);
    return;
  }
  auto reported = reported_.find(path);
  if (SameState(*base, *now)) {
    std::optional<DriftEvent> ev;
    if (reported != reported_.end()) {
      ev = std::move(reported->second);
      reported_.erase(reported);
    } else if (p.direct && (p.mask & kWrites)) {
      // Written and undone before it was examined: the change itself was
      // never seen, only that it happened.
      Change c;
      c.path = path;
      if (*base && !(p.mask & (kFsDelete | kFsMovedFrom | kFsDeleteSelf | kFsMoveSelf))) {
        c.old_entry = *base;
        c.new_entry = *base;
        c.changed = GuessChanged(p.mask, **base);
      } else {
        c.old_entry = *base;
      }
      ev = ClassifyChange(c, policy_, host_, options_.root);
      if (ev) {
        ev->time_ns = p.time_ns;
        ev->actor = p.first;
      }
    }
    if (!ev) return;
    ev->transient = true;
    ev->reverted_by = p.last;
    Emit(std::move(*ev));
    return;
  }
  Change c;
  c.path = path;
  c.old_entry = *base;
  c.new_entry = *now;
  if (*base && *now) c.changed = ChangedAttrs(**base, **now);
  std::optional<DriftEvent> ev = ClassifyChange(c, policy_, host_, options_.root);
  if (!ev) {
    if (reported != reported_.end()) reported_.erase(reported);
    return;
  }
  if (reported != reported_.end() && SameState(reported->second.new_entry, ev->new_entry) &&
      reported->second.kind == ev->kind) {
    return;  // reported in this state already
  }
  ev->time_ns = p.time_ns;
  ev->actor = p.last;
  // A directory that came or went brings or takes what is under it, as a
  // check would report it: its children are examined next round.
  const bool dir_now = *now && (*now)->type == EntryType::kDir;
  const bool dir_before = *base && (*base)->type == EntryType::kDir;
  if (dir_now != dir_before) ExpandChildren(path, p, dir_before ? &**base : nullptr, dir_now);
  if (reported != reported_.end()) {
    reported->second = *ev;
  } else if (reported_.size() < kMaxReported) {
    reported_.emplace(path, *ev);
  }
  Emit(std::move(*ev));
}

void Watcher::ExpandChildren(const std::string& path, const Pending& p, const Entry* base,
                             bool live) {
  std::vector<std::string> names;
  if (live) {
    auto dir = host_.OpenAt(AT_FDCWD, HostPath(options_.root, path), O_RDONLY | O_DIRECTORY);
    if (dir.ok()) {
      auto entries = host_.ReadDir(dir->get());
      if (entries.ok()) {
        for (DirEntryName& e : *entries) names.push_back(std::move(e.name));
      }
    }
  }
  if (base != nullptr) {
    auto tree = GetTree(base->subtree);
    if (tree.ok()) {
      for (const Entry& e : tree->entries) names.push_back(e.name);
    }
  }
  Pending child;
  child.time_ns = p.time_ns;
  child.first = p.first;
  child.last = p.last;
  for (const std::string& name : names) {
    const std::string logical = JoinPath(path == "/" ? "" : path, name);
    if (!Keep(HostPath(options_.root, logical), false)) continue;
    if (retry_.size() >= options_.max_pending) {
      overflowed_ = true;
      return;
    }
    retry_.emplace(logical, child);
  }
}

Status Watcher::Examine() {
  if (pending_.empty()) return Status::Ok();
  // A store that cannot be read now (busy past its timeout) leaves the
  // baseline known so far in use; it is read again at the next round.
  if (host_.MonotonicNs() >= next_baseline_check_) LoadBaseline().IgnoreError();
  std::unordered_map<std::string, Pending> work;
  work.swap(pending_);
  if (baseline_snapshot_ == 0) return Status::Ok();  // nothing to compare with yet
  for (const auto& [path, p] : work) {
    if (path == "/") continue;
    ExaminePath(path, p);
  }
  for (auto& [path, p] : retry_) pending_.emplace(path, std::move(p));
  retry_.clear();
  return Status::Ok();
}

Status Watcher::FlushJournal() {
  Journal* j = options_.journal;
  if (j == nullptr) return Status::Ok();
  if (!dirty_.empty()) {
    std::vector<DirtyPath> batch;
    batch.reserve(dirty_.size());
    for (auto& [path, d] : dirty_) batch.push_back(std::move(d));
    dirty_.clear();
    DW_RETURN_IF_ERROR(j->AddDirty(batch));
  }
  if (cookie_ != 0) {
    DW_RETURN_IF_ERROR(j->AnswerCookie(cookie_));
    cookie_ = 0;
  }
  return Status::Ok();
}

void Watcher::Deliver(bool force) {
  if (batch_.empty()) return;
  const int64_t now = host_.MonotonicNs();
  if (!force && last_delivery_ != 0 && now - last_delivery_ < options_.deliver_ns) return;
  last_delivery_ = now;
  CheckResult r;
  r.source = "realtime";
  r.target = host_.Hostname();
  r.baseline = options_.baseline;
  r.baseline_revision = baseline_revision_;
  r.baseline_root = baseline_root_;
  std::sort(batch_.begin(), batch_.end(), [](const DriftEvent& a, const DriftEvent& b) {
    return a.time_ns != b.time_ns ? a.time_ns < b.time_ns : a.path < b.path;
  });
  r.started_ns = batch_.front().time_ns;
  r.finished_ns = host_.NowNs();
  r.events = std::move(batch_);
  batch_.clear();
  if (options_.sink) options_.sink(std::move(r));
}

Status Watcher::Poll(int64_t timeout_ns) {
  const FsEventFilter keep = [this](std::string_view path, bool is_dir) {
    return Keep(path, is_dir);
  };
  std::vector<FsEvent> events;
  DW_RETURN_IF_ERROR(source_.Read(keep, timeout_ns, kReadMax, &events).status());
  for (FsEvent& ev : events) Accept(std::move(ev));
  int64_t sync;
  {
    std::lock_guard<std::mutex> lock(mu_);
    sync = sync_requested_;
  }
  if (sync > sync_done_) {
    // Everything the kernel has queued was read before the request was
    // answered.
    for (int i = 0; i < kMaxDrainRounds; ++i) {
      events.clear();
      DW_ASSIGN_OR_RETURN(size_t n, source_.Read(keep, 0, kReadMax, &events));
      for (FsEvent& ev : events) Accept(std::move(ev));
      if (n == 0) break;
    }
  }
  if (overflowed_) {
    overflowed_ = false;
    Gap("more than " + std::to_string(options_.max_pending) +
        " paths changed before they could be examined");
  }
  Status journal = FlushJournal();
  if (!journal.ok()) Gap("the journal could not be written: " + journal.message());
  if (sync > sync_done_) {
    std::lock_guard<std::mutex> lock(mu_);
    sync_done_ = sync;
    cv_.notify_all();
  }
  const int64_t now = host_.MonotonicNs();
  if (now >= next_examine_) {
    next_examine_ = now + options_.examine_ns;
    DW_RETURN_IF_ERROR(Examine());
  }
  Deliver(false);
  if (options_.journal != nullptr && now >= next_heartbeat_) {
    next_heartbeat_ = now + kJournalHeartbeatNs;
    options_.journal->Heartbeat(host_.NowNs(), host_.MonotonicNs()).IgnoreError();
  }
  return Status::Ok();
}

Status Watcher::Run() {
  Status result = Status::Ok();
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;
    }
    const int64_t now = host_.MonotonicNs();
    int64_t timeout = kJournalHeartbeatNs / 2;
    if (!pending_.empty()) timeout = std::min(timeout, next_examine_ - now);
    if (!batch_.empty()) timeout = std::min(timeout, last_delivery_ + options_.deliver_ns - now);
    result = Poll(std::max<int64_t>(timeout, 0));
    if (!result.ok()) break;
  }
  Examine().IgnoreError();
  Deliver(/*force=*/true);
  if (options_.journal != nullptr) {
    options_.journal->EndEpoch("the realtime watcher stopped").IgnoreError();
  }
  std::lock_guard<std::mutex> lock(mu_);
  running_ = false;
  cv_.notify_all();
  return result;
}

void Watcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  source_.Wake();
}

Status Watcher::Sync(int64_t timeout_ns) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!running_ || stop_) return Status::Unavailable("the realtime watcher is not running");
  const int64_t mine = ++sync_requested_;
  source_.Wake();
  const bool done = cv_.wait_for(lock, std::chrono::nanoseconds(timeout_ns),
                                 [&] { return sync_done_ >= mine || !running_; });
  if (!done || sync_done_ < mine) {
    return Status::Unavailable("the realtime watcher did not answer in time");
  }
  return Status::Ok();
}

}  // namespace driftwatch::agent
