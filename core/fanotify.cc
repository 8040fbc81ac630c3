// The fanotify event source (core/fs_events.h, docs/realtime.md): the raw
// OS calls of the realtime watcher live here, as those of Host live in
// core/posix_host.cc.
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/fanotify_dirs.h"
#include "core/fanotify_mounts.h"
#include "core/fanotify_source.h"
#include "core/host.h"
#include "core/process_info.h"

namespace driftwatch {

namespace {

constexpr uint64_t kMarkMask = FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO |
                               FAN_MODIFY | FAN_ATTRIB | FAN_CLOSE_WRITE | FAN_DELETE_SELF |
                               FAN_MOVE_SELF | FAN_ONDIR;
constexpr unsigned kInitFlags = FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME | FAN_NONBLOCK | FAN_CLOEXEC;
constexpr size_t kReadBuffer = 64 * 1024;
// Kernel reads per Read call: bounds the time one call spends on events the
// filter rejects.
constexpr int kMaxReadsPerCall = 16;
// Directories the source has told the kernel to ignore (FAN_MARK_IGNORE):
// the marks are evictable, so this bounds the group's marks, not memory the
// kernel pins; reaching it flushes them all (they come back one event each).
constexpr size_t kMaxIgnoreMarks = 16384;
// Events read from a directory with an ignore mark between two placings.
constexpr uint32_t kRemarkEvery = 64;
// Directory handles known to be kept as directories by the filter.
constexpr size_t kMaxKeptDirs = 8192;

int64_t ClockNs(clockid_t clock) {
  struct timespec ts;
  ::clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string InitFailure(int err) {
  switch (err) {
    case EPERM:
      return "fanotify: operation not permitted (needs CAP_SYS_ADMIN)";
    case EINVAL:
      return "fanotify: this kernel cannot report directory handles with names "
             "(FAN_REPORT_DFID_NAME needs Linux 5.9 or later)";
    case ENOSYS:
      return "fanotify: not available in this kernel";
    default:
      return ErrnoStatus("fanotify", err).message();
  }
}

Result<UniqueFd> InitFanotify(bool* pidfds) {
  int fd = ::fanotify_init(kInitFlags | FAN_REPORT_PIDFD, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
  *pidfds = fd >= 0;
  // Kernels before 5.15 refuse FAN_REPORT_PIDFD.
  if (fd < 0 && errno == EINVAL) {
    fd = ::fanotify_init(kInitFlags, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
  }
  if (fd < 0) return Status::Unsupported(InitFailure(errno));
  return UniqueFd(fd);
}

uint32_t EventMask(uint64_t m) {
  uint32_t out = 0;
  if (m & FAN_CREATE) out |= kFsCreate;
  if (m & FAN_DELETE) out |= kFsDelete;
  if (m & FAN_MOVED_FROM) out |= kFsMovedFrom;
  if (m & FAN_MOVED_TO) out |= kFsMovedTo;
  if (m & FAN_MODIFY) out |= kFsModify;
  if (m & FAN_ATTRIB) out |= kFsAttrib;
  if (m & FAN_CLOSE_WRITE) out |= kFsCloseWrite;
  if (m & FAN_DELETE_SELF) out |= kFsDeleteSelf;
  if (m & FAN_MOVE_SELF) out |= kFsMoveSelf;
  return out;
}

std::string FsidKey(const __kernel_fsid_t& fsid) {
  return std::string(reinterpret_cast<const char*>(&fsid), sizeof fsid);
}

// One event as found in the kernel's buffer.
struct RawEvent {
  uint64_t mask = 0;
  int64_t pid = 0;
  int pidfd = INT_MIN;  // no pidfd record
  const __kernel_fsid_t* fsid = nullptr;
  const struct file_handle* handle = nullptr;
  std::string_view name;
};

// Parses the info records of one event; false when they are malformed.
bool ParseEvent(const char* base, const struct fanotify_event_metadata& meta, RawEvent* ev) {
  ev->mask = meta.mask;
  ev->pid = meta.pid;
  const char* p = base + meta.metadata_len;
  const char* end = base + meta.event_len;
  while (p + sizeof(struct fanotify_event_info_header) <= end) {
    struct fanotify_event_info_header hdr;
    std::memcpy(&hdr, p, sizeof hdr);
    if (hdr.len < sizeof hdr || p + hdr.len > end) return false;
    if (hdr.info_type == FAN_EVENT_INFO_TYPE_PIDFD &&
        hdr.len >= sizeof(struct fanotify_event_info_pidfd)) {
      ev->pidfd = reinterpret_cast<const struct fanotify_event_info_pidfd*>(p)->pidfd;
    } else if ((hdr.info_type == FAN_EVENT_INFO_TYPE_DFID_NAME ||
                hdr.info_type == FAN_EVENT_INFO_TYPE_DFID ||
                hdr.info_type == FAN_EVENT_INFO_TYPE_FID) &&
               hdr.len >= sizeof(struct fanotify_event_info_fid) + sizeof(struct file_handle)) {
      auto* fid = reinterpret_cast<const struct fanotify_event_info_fid*>(p);
      auto* fh = reinterpret_cast<const struct file_handle*>(fid->handle);
      const char* handle_end = reinterpret_cast<const char*>(fh->f_handle) + fh->handle_bytes;
      if (handle_end > p + hdr.len) return false;
      ev->fsid = &fid->fsid;
      ev->handle = fh;
      if (hdr.info_type == FAN_EVENT_INFO_TYPE_DFID_NAME) {
        ev->name = std::string_view(handle_end, strnlen(handle_end, p + hdr.len - handle_end));
      }
    }
    p += hdr.len;
  }
  return true;
}

// An fd open_by_handle_at accepts (not O_PATH) on the mount of `path`: the
// directory itself, or the parent of a file when it is on the same
// filesystem (`fsid`), or the regular file itself.
Result<UniqueFd> MountFd(const std::string& path, const std::string& fsid) {
  constexpr int kDir = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  UniqueFd fd(::open(path.c_str(), kDir));
  if (fd.valid()) return fd;
  if (errno != ENOTDIR && errno != ELOOP) return ErrnoStatus("cannot open " + path, errno);
  const size_t slash = path.rfind('/');
  const std::string parent = slash == 0 ? "/" : path.substr(0, slash);
  fd.Reset(::open(parent.c_str(), kDir));
  struct statfs sfs;
  if (fd.valid() && ::fstatfs(fd.get(), &sfs) == 0 &&
      std::string(reinterpret_cast<const char*>(&sfs.f_fsid), sizeof sfs.f_fsid) == fsid) {
    return fd;
  }
  fd.Reset(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC));
  struct stat st;
  if (fd.valid() && ::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode)) return fd;
  return Status::Unsupported("cannot watch " + path +
                             ": a mount point that is not a directory or regular file");
}

class Fanotify final : public FanotifySource {
 public:
  Fanotify(UniqueFd fan, UniqueFd wake, UniqueFd mountinfo, bool pidfds)
      : fan_(std::move(fan)), wake_(std::move(wake)), mountinfo_(std::move(mountinfo)) {
    stats_.pidfds = pidfds;
    stats_.ignores = true;
    if (mountinfo_.valid()) mounts_ = ParseMountPoints(ReadMountinfo(mountinfo_.get()));
    buf_.resize(kReadBuffer);
  }
  ~Fanotify() override {
    // Events read but not handed out still hold pidfds.
    while (pending_ < filled_) {
      RawEvent ev;
      const struct fanotify_event_metadata meta = MetadataAt(pending_);
      if (ParseEvent(buf_.data() + pending_, meta, &ev) && ev.pidfd >= 0) ::close(ev.pidfd);
      pending_ += meta.event_len;
    }
  }

  Status Watch(const std::string& path) override;
  Result<size_t> Read(const FsEventFilter& keep, int64_t timeout_ns, size_t max,
                      std::vector<FsEvent>* out) override;
  void Wake() override {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_.get(), &one, sizeof one);
  }
  FanotifyStats stats() const override {
    FanotifyStats s = stats_;
    s.proc_reads = actors_.proc_reads();
    return s;
  }

 private:
  void AddGap(std::string reason, std::vector<FsEvent>* out) {
    FsEvent ev;
    ev.kind = FsEvent::Kind::kGap;
    ev.time_ns = ClockNs(CLOCK_REALTIME);
    ev.gap = std::move(reason);
    out->push_back(std::move(ev));
    ++stats_.gaps;
  }
  void CheckMounts(std::vector<FsEvent>* out);
  void ForgetAllDirs() {
    dirs_.ForgetTree("/");
    kept_dirs_.clear();
  }
  // Handles one event: a gap, dropped, or appended to *out with its actor.
  // Events are 4-byte aligned in the buffer, the metadata's mask needs 8.
  struct fanotify_event_metadata MetadataAt(size_t offset) const {
    struct fanotify_event_metadata meta;
    std::memcpy(&meta, buf_.data() + offset, sizeof meta);
    return meta;
  }
  void Handle(const char* base, const struct fanotify_event_metadata& meta,
              const FsEventFilter& keep, std::vector<FsEvent>* out);
  // The current path of a directory handle, or "" when it is gone.
  std::string DirPath(const RawEvent& ev, const std::string& key);
  // An O_PATH fd of the event's directory, or an invalid one.
  UniqueFd OpenDir(const RawEvent& ev);
  // After an event the filter rejected: when the filter also rejects its
  // directory `dir`, tells the kernel to stop generating events in it.
  void MaybeIgnore(const RawEvent& ev, const std::string& key, const std::string& dir,
                   const FsEventFilter& keep);
  // Removes every ignore mark (the filesystem marks stay).
  void FlushIgnores();

  struct Filesystem {
    std::string fsid;
    UniqueFd mount_fd;  // a directory on the filesystem, for open_by_handle_at
  };

  UniqueFd fan_;
  UniqueFd wake_;
  UniqueFd mountinfo_;
  std::vector<Filesystem> filesystems_;
  std::vector<std::string> watched_;
  std::vector<std::string> mounts_;
  std::vector<std::string> pending_gaps_;
  DirHandleCache dirs_;
  // Handle keys with an ignore mark -> events read from them since.
  std::unordered_map<std::string, uint32_t> ignored_;
  std::unordered_set<std::string> kept_dirs_;  // handle keys the filter keeps as dirs
  ActorReader actors_;
  FanotifyStats stats_;
  std::vector<char> buf_;
  // getpid() once: the source is not used across fork.
  const int64_t own_pid_ = ::getpid();
  size_t pending_ = 0;  // buf_[pending_, filled_) holds events not yet handled
  size_t filled_ = 0;
};

Status Fanotify::Watch(const std::string& path) {
  // A watched path that does not exist yet lives on its nearest existing
  // ancestor's filesystem.
  std::string existing = path;
  UniqueFd fd;
  while (true) {
    fd.Reset(::open(existing.c_str(), O_PATH | O_CLOEXEC | O_NOFOLLOW));
    if (fd.valid() || errno != ENOENT || existing == "/" || existing.empty()) break;
    size_t slash = existing.rfind('/');
    existing = slash == 0 ? "/" : existing.substr(0, slash);
  }
  Status failed;
  struct statfs sfs;
  if (!fd.valid()) {
    failed = ErrnoStatus("cannot watch " + path, errno);
  } else if (::fstatfs(fd.get(), &sfs) != 0) {
    failed = ErrnoStatus("cannot watch " + path + ": statfs", errno);
  } else {
    __kernel_fsid_t kfsid;
    static_assert(sizeof kfsid == sizeof sfs.f_fsid);
    std::memcpy(&kfsid, &sfs.f_fsid, sizeof kfsid);
    const std::string key = FsidKey(kfsid);
    bool marked = false;
    for (const Filesystem& f : filesystems_) marked = marked || f.fsid == key;
    Result<UniqueFd> mount_fd = marked ? Result<UniqueFd>(UniqueFd()) : MountFd(existing, key);
    if (!mount_fd.ok()) {
      failed = mount_fd.status();
    } else if (!marked) {
      if (::fanotify_mark(fan_.get(), FAN_MARK_ADD | FAN_MARK_FILESYSTEM | FAN_MARK_DONT_FOLLOW,
                          kMarkMask, AT_FDCWD, existing.c_str()) != 0) {
        failed = ErrnoStatus("cannot mark the filesystem of " + path, errno);
      } else {
        filesystems_.push_back({key, std::move(mount_fd).value()});
      }
    }
  }
  if (!failed.ok()) {
    pending_gaps_.push_back(failed.message());
    return failed;
  }
  watched_.push_back(path);
  return Status::Ok();
}

void Fanotify::CheckMounts(std::vector<FsEvent>* out) {
  std::vector<std::string> now = ParseMountPoints(ReadMountinfo(mountinfo_.get()));
  std::string gap = MountChangeGap(mounts_, now, watched_);
  // A mount can show an ignored directory at a watched path.
  if (now != mounts_) FlushIgnores();
  mounts_ = std::move(now);
  if (!gap.empty()) AddGap(std::move(gap), out);
}

UniqueFd Fanotify::OpenDir(const RawEvent& ev) {
  const std::string fsid = FsidKey(*ev.fsid);
  int mount_fd = -1;
  for (const Filesystem& f : filesystems_) {
    if (f.fsid == fsid) mount_fd = f.mount_fd.get();
  }
  if (mount_fd < 0) return UniqueFd();
  ++stats_.handle_opens;
  // open_by_handle_at may not modify the handle, but takes it non-const.
  std::string handle(reinterpret_cast<const char*>(ev.handle),
                     sizeof(struct file_handle) + ev.handle->handle_bytes);
  return UniqueFd(::open_by_handle_at(
      mount_fd, reinterpret_cast<struct file_handle*>(handle.data()), O_PATH | O_CLOEXEC));
}

std::string Fanotify::DirPath(const RawEvent& ev, const std::string& key) {
  if (const std::string* cached = dirs_.Find(key)) return *cached;
  UniqueFd dir = OpenDir(ev);
  if (!dir.valid()) return "";
  struct stat st;
  // A removed directory that is still in memory opens, with no links.
  if (::fstat(dir.get(), &st) != 0 || st.st_nlink == 0) return "";
  char link[4096];
  const std::string proc = "/proc/self/fd/" + std::to_string(dir.get());
  ssize_t n = ::readlink(proc.c_str(), link, sizeof link);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof link || link[0] != '/') return "";
  std::string path(link, static_cast<size_t>(n));
  dirs_.Insert(key, path);
  return path;
}

void Fanotify::FlushIgnores() {
  kept_dirs_.clear();
  if (ignored_.empty()) return;
  ignored_.clear();
  // Moves inside ignored directories were not reported: cached paths under
  // them may be stale.
  dirs_.ForgetTree("/");
  // Without FAN_MARK_MOUNT or FAN_MARK_FILESYSTEM, the flush removes the
  // inode marks only: the ignore marks.
  if (::fanotify_mark(fan_.get(), FAN_MARK_FLUSH, 0, AT_FDCWD, "/") == 0) {
    ++stats_.ignore_flushes;
  } else {
    // The ignore marks may stay: events in those directories could be
    // hidden from now on.
    stats_.ignores = false;
    pending_gaps_.push_back(
        ErrnoStatus("fanotify: cannot remove the ignore marks", errno).message());
  }
}

void Fanotify::MaybeIgnore(const RawEvent& ev, const std::string& key, const std::string& dir,
                           const FsEventFilter& keep) {
  if (!stats_.ignores || kept_dirs_.contains(key)) return;
  // Events of a marked directory are those queued before its mark, or come
  // after the kernel evicted the mark with the inode: the mark is placed
  // again every kRemarkEvery of them, which costs the first kind little.
  auto marked = ignored_.find(key);
  if (marked != ignored_.end() && ++marked->second % kRemarkEvery != 0) return;
  if (marked == ignored_.end() && keep(dir, true)) {
    if (kept_dirs_.size() >= kMaxKeptDirs) kept_dirs_.clear();
    kept_dirs_.insert(key);
    return;
  }
  if (marked == ignored_.end() && ignored_.size() >= kMaxIgnoreMarks) FlushIgnores();
  UniqueFd fd = OpenDir(ev);
  if (!fd.valid()) return;
  // Evictable: the mark goes with the inode when the kernel drops it from
  // its cache (later events there place it again), so it never pins
  // memory. FAN_EVENT_ON_CHILD and FAN_ONDIR make it cover every entry.
  // "." from the O_PATH fd: fanotify_mark takes no O_PATH fd as the object
  // itself (EBADF), but resolves a path from it.
  constexpr unsigned kIgnore = FAN_MARK_ADD | FAN_MARK_IGNORE_SURV | FAN_MARK_EVICTABLE |
                               FAN_MARK_ONLYDIR | FAN_MARK_DONT_FOLLOW;
  if (::fanotify_mark(fan_.get(), kIgnore, kMarkMask | FAN_EVENT_ON_CHILD, fd.get(), ".") != 0 &&
      errno != EEXIST) {
    // EINVAL: FAN_MARK_IGNORE needs Linux 6.0, FAN_MARK_EVICTABLE 5.19;
    // the source then filters every event itself. ENOSPC: the user's marks
    // are used up.
    if (errno == ENOSPC) {
      FlushIgnores();
    } else if (errno == EINVAL) {
      stats_.ignores = false;
    }
    return;
  }
  if (marked != ignored_.end()) return;
  ignored_.emplace(key, 0);
  ++stats_.ignore_marks;
}

void Fanotify::Handle(const char* base, const struct fanotify_event_metadata& meta,
                      const FsEventFilter& keep, std::vector<FsEvent>* out) {
  ++stats_.events;
  if (meta.mask & FAN_Q_OVERFLOW) {
    AddGap("event queue overflowed", out);
    return;
  }
  RawEvent ev;
  const bool parsed = ParseEvent(base, meta, &ev);
  UniqueFd pidfd(ev.pidfd >= 0 ? ev.pidfd : -1);
  if (!parsed || ev.handle == nullptr) {
    ++stats_.unresolved;
    return;
  }
  const bool is_dir = (ev.mask & FAN_ONDIR) != 0;
  constexpr uint64_t kDirGone =
      FAN_MOVED_FROM | FAN_MOVED_TO | FAN_DELETE | FAN_DELETE_SELF | FAN_MOVE_SELF;
  const bool dir_gone = is_dir && (ev.mask & kDirGone) != 0;
  // Our own events are dropped, but a directory we moved still invalidates.
  const bool own = ev.pid == own_pid_;
  if (own && !dir_gone) {
    ++stats_.own;
    return;
  }
  const std::string key =
      FsidKey(*ev.fsid) + std::string(reinterpret_cast<const char*>(ev.handle),
                                      sizeof(struct file_handle) + ev.handle->handle_bytes);
  const std::string dir = DirPath(ev, key);
  if (dir.empty()) {
    // A directory moved or removed where it cannot be named: any cached
    // path may be under it.
    if (dir_gone) ForgetAllDirs();
    ++(own ? stats_.own : stats_.unresolved);
    return;
  }
  std::string path = dir;
  if (!ev.name.empty() && ev.name != ".") {
    if (path != "/") path += '/';
    path += ev.name;
  }
  // A directory that moved or went away takes the cached paths of its tree
  // with it, before any later event is resolved.
  if (dir_gone) {
    kept_dirs_.clear();
    // The move out of an ignored directory was not reported, so the cache
    // may still hold the old paths of this tree: forget them all.
    if (!ignored_.empty() && (ev.mask & FAN_MOVED_TO)) {
      ForgetAllDirs();
      // It may carry ignore marks (its own, its subdirectories') into a
      // kept place.
      if (keep(path, true)) FlushIgnores();
    } else {
      dirs_.ForgetTree(path);
    }
  }
  if (own) {
    ++stats_.own;
    return;
  }
  if (!keep(path, is_dir)) {
    MaybeIgnore(ev, key, dir, keep);
    return;
  }
  FsEvent out_ev;
  out_ev.mask = EventMask(ev.mask);
  out_ev.is_dir = is_dir;
  out_ev.path = std::move(path);
  out_ev.time_ns = ClockNs(CLOCK_REALTIME);
  ++stats_.actor_lookups;
  const int actor_fd = pidfd.valid()             ? pidfd.get()
                       : ev.pidfd == FAN_NOPIDFD ? ActorReader::kExited
                                                 : ActorReader::kNoPidfd;
  out_ev.actor = actors_.Read(ev.pid, actor_fd, ClockNs(CLOCK_MONOTONIC));
  out->push_back(std::move(out_ev));
  ++stats_.kept;
}

Result<size_t> Fanotify::Read(const FsEventFilter& keep, int64_t timeout_ns, size_t max,
                              std::vector<FsEvent>* out) {
  const size_t start = out->size();
  for (std::string& gap : pending_gaps_) AddGap(std::move(gap), out);
  pending_gaps_.clear();
  if (pending_ >= filled_) {
    struct pollfd fds[3] = {
        {fan_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}, {mountinfo_.get(), POLLPRI, 0}};
    const int wait_ms = out->size() > start || timeout_ns <= 0
                            ? 0
                            : static_cast<int>(std::min<int64_t>((timeout_ns + 999'999) / 1'000'000,
                                                                 24 * 3600 * 1000));
    int n = ::poll(fds, mountinfo_.valid() ? 3 : 2, wait_ms);
    if (n < 0 && errno != EINTR) return ErrnoStatus("fanotify: poll", errno);
    if (n > 0 && (fds[1].revents & POLLIN)) {
      uint64_t count;
      [[maybe_unused]] ssize_t r = ::read(wake_.get(), &count, sizeof count);
    }
    if (n > 0 && (fds[2].revents & (POLLPRI | POLLERR))) CheckMounts(out);
  }
  size_t handled = 0;
  for (int reads = 0; out->size() - start < max;) {
    if (pending_ >= filled_) {
      if (reads++ == kMaxReadsPerCall) break;
      ssize_t n = ::read(fan_.get(), buf_.data(), buf_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n < 0) return ErrnoStatus("fanotify: read", errno);
      if (n == 0) break;
      pending_ = 0;
      filled_ = static_cast<size_t>(n);
    }
    const size_t left = filled_ - pending_;
    struct fanotify_event_metadata meta;
    if (left >= sizeof meta) meta = MetadataAt(pending_);
    if (left < sizeof meta || meta.event_len < sizeof meta || meta.event_len > left ||
        meta.vers != FANOTIFY_METADATA_VERSION) {
      pending_ = filled_ = 0;
      AddGap("fanotify: unexpected event format", out);
      continue;
    }
    const char* base = buf_.data() + pending_;
    pending_ += meta.event_len;
    ++handled;
    Handle(base, meta, keep, out);
  }
  return handled;
}

}  // namespace

std::string FsEventsUnsupportedReason() {
  bool pidfds = false;
  auto fd = InitFanotify(&pidfds);
  if (!fd.ok()) return fd.status().message();
  // Unprivileged processes may create a group but not mark a filesystem.
  if (::fanotify_mark(fd->get(), FAN_MARK_ADD | FAN_MARK_FILESYSTEM, kMarkMask, AT_FDCWD, "/") !=
          0 &&
      (errno == EPERM || errno == EACCES)) {
    return InitFailure(EPERM);
  }
  return "";
}

Result<std::unique_ptr<FanotifySource>> OpenFanotify() {
  bool pidfds = false;
  DW_ASSIGN_OR_RETURN(UniqueFd fan, InitFanotify(&pidfds));
  UniqueFd wake(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake.valid()) return ErrnoStatus("fanotify: eventfd", errno);
  UniqueFd mountinfo(::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC));
  if (!mountinfo.valid()) return ErrnoStatus("fanotify: /proc/self/mountinfo", errno);
  return std::unique_ptr<FanotifySource>(
      new Fanotify(std::move(fan), std::move(wake), std::move(mountinfo), pidfds));
}

Result<std::unique_ptr<FsEventSource>> OpenFanotifySource() {
  DW_ASSIGN_OR_RETURN(std::unique_ptr<FanotifySource> source, OpenFanotify());
  return std::unique_ptr<FsEventSource>(std::move(source));
}

}  // namespace driftwatch
