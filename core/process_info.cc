#include "core/process_info.h"

#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <vector>

namespace driftwatch {

namespace {

constexpr size_t kMaxProcFile = 16384;

std::string_view NextField(std::string_view* text) {
  size_t start = text->find_first_not_of(" \t");
  if (start == std::string_view::npos) {
    *text = {};
    return {};
  }
  text->remove_prefix(start);
  size_t end = text->find_first_of(" \t\n");
  std::string_view field = text->substr(0, end);
  text->remove_prefix(end == std::string_view::npos ? text->size() : end);
  return field;
}

template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// Reads at most `max` bytes of a /proc file; nullopt when it cannot be opened
// or read (the process is gone, or the file is not readable).
std::optional<std::string> ReadProcFile(const std::string& path, size_t max) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  while (out.size() < max) {
    ssize_t n = ::read(fd, buf, std::min(sizeof buf, max - out.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string ReadLink(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) return "";
  return std::string(buf, static_cast<size_t>(n));
}

// Whether the process of `pidfd` has exited (a zombie or reaped): a pidfd
// polls readable then.
bool PidfdExited(int pidfd) {
  struct pollfd p = {pidfd, POLLIN, 0};
  int n = ::poll(&p, 1, 0);
  return n > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

// Whether the process of `pidfd` still holds its pid (not yet reaped, so
// /proc/PID is that process). A zombie still holds it.
bool PidfdHoldsPid(int pidfd) {
  return ::syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0) == 0;
}

// Whether pidfds live on pidfs (Linux 6.9+), where a pidfd's inode number is
// unique to its process for the life of the system; older kernels give
// every pidfd one shared anonymous inode.
bool OnPidfs(int pidfd) {
  constexpr int64_t kPidfsMagic = 0x50494446;
  struct statfs sfs;
  return ::fstatfs(pidfd, &sfs) == 0 && static_cast<int64_t>(sfs.f_type) == kPidfsMagic;
}

uint64_t Inode(int fd) {
  struct stat st;
  return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

std::string ProcDir(int64_t pid) { return "/proc/" + std::to_string(pid) + "/"; }

}  // namespace

std::optional<ProcStat> ParseProcStat(std::string_view text) {
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  ProcStat st;
  st.comm = std::string(text.substr(open + 1, close - open - 1));
  std::string_view rest = text.substr(close + 1);
  // Fields 3.. follow; field 3 is the state.
  std::string_view state = NextField(&rest);
  if (state.size() != 1) return std::nullopt;
  st.state = state[0];
  if (!ParseNumber(NextField(&rest), &st.ppid)) return std::nullopt;
  for (int field = 5; field < 22; ++field) {
    if (NextField(&rest).empty()) return std::nullopt;
  }
  if (!ParseNumber(NextField(&rest), &st.start_time)) return std::nullopt;
  return st;
}

ProcStatus ParseProcStatus(std::string_view text) {
  ProcStatus out;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (line.starts_with("Uid:")) {
      line.remove_prefix(4);
      int64_t uid = -1;
      int64_t euid = -1;
      if (ParseNumber(NextField(&line), &uid) && ParseNumber(NextField(&line), &euid)) {
        out.uid = uid;
        out.euid = euid;
      }
    } else if (line.starts_with("PPid:")) {
      line.remove_prefix(5);
      int64_t ppid = -1;
      if (ParseNumber(NextField(&line), &ppid)) out.ppid = ppid;
    }
  }
  return out;
}

std::string ParseCgroupV2(std::string_view text) {
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (line.starts_with("0::")) return std::string(line.substr(3));
  }
  return "";
}

std::string JoinCmdline(std::string_view raw) {
  while (!raw.empty() && raw.back() == '\0') raw.remove_suffix(1);
  std::string out(raw.substr(0, kMaxActorCmdline));
  for (char& c : out) {
    if (c == '\0') c = ' ';
  }
  return out;
}

int64_t ParseAuditId(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  uint64_t id = 0;
  if (!ParseNumber(text, &id) || id >= 4294967295u) return -1;
  return static_cast<int64_t>(id);
}

Actor ActorReader::Read(int64_t pid, int pidfd, int64_t now_ns) {
  Actor out;
  out.pid = pid;
  auto cached = by_pid_.find(pid);
  // A pidfd on pidfs names its process exactly: a recent read of that same
  // process needs no look at /proc.
  if (pidfd >= 0 && pidfs_ == Pidfs::kUnknown) pidfs_ = OnPidfs(pidfd) ? Pidfs::kYes : Pidfs::kNo;
  const uint64_t process = pidfd >= 0 && pidfs_ == Pidfs::kYes ? Inode(pidfd) : 0;
  if (process != 0 && cached != by_pid_.end() && cached->second.process == process &&
      now_ns - cached->second.read_ns < kRefreshNs) {
    Actor hit = cached->second.actor;
    hit.exited = PidfdExited(pidfd);
    return hit;
  }
  std::optional<ProcStat> stat;
  if (pidfd == kExited) {
    pidfd = kNoPidfd;  // whatever has the pid in /proc now is another process
  } else if (auto text = ReadProcFile(ProcDir(pid) + "stat", kMaxProcFile)) {
    stat = ParseProcStat(*text);
  }
  if (stat) {
    const bool fresh = cached != by_pid_.end() && cached->second.start_time == stat->start_time &&
                       cached->second.comm == stat->comm &&
                       now_ns - cached->second.read_ns < kRefreshNs;
    Actor read = fresh ? cached->second.actor : ReadProc(pid, *stat);
    // With a pidfd, /proc/PID was the event's process only if that process
    // still holds the pid after the reading.
    if (pidfd < 0 || PidfdHoldsPid(pidfd)) {
      read.exited = pidfd >= 0 && PidfdExited(pidfd);
      if (read.exited && read.exe.empty() && cached != by_pid_.end() &&
          cached->second.start_time == stat->start_time) {
        read = cached->second.actor;  // a zombie: its last read while alive
        read.exited = true;
      }
      if (!fresh && !read.exited) {
        Remember(pid, {read, stat->start_time, stat->comm, now_ns, process});
      }
      read.pid = pid;
      return read;
    }
  }
  // Gone: only an earlier read of the pid can say more.
  out.exited = true;
  const bool other_process = cached != by_pid_.end() && process != 0 &&
                             cached->second.process != 0 && cached->second.process != process;
  if (cached != by_pid_.end() && !other_process &&
      now_ns - cached->second.read_ns < kExitedFillNs) {
    out = cached->second.actor;
    out.pid = pid;
    out.exited = true;
  }
  return out;
}

Actor ActorReader::ReadProc(int64_t pid, const ProcStat& stat) {
  ++proc_reads_;
  const std::string dir = ProcDir(pid);
  Actor a;
  a.pid = pid;
  a.comm = stat.comm;
  a.ppid = stat.ppid;
  a.exe = ReadLink(dir + "exe");
  if (auto raw = ReadProcFile(dir + "cmdline", kMaxActorCmdline + 1)) a.cmdline = JoinCmdline(*raw);
  if (auto text = ReadProcFile(dir + "status", kMaxProcFile)) {
    ProcStatus status = ParseProcStatus(*text);
    a.uid = status.uid;
    a.euid = status.euid;
  }
  if (auto text = ReadProcFile(dir + "loginuid", 64)) a.loginuid = ParseAuditId(*text);
  if (auto text = ReadProcFile(dir + "sessionid", 64)) a.session = ParseAuditId(*text);
  if (auto text = ReadProcFile(dir + "cgroup", kMaxProcFile)) a.cgroup = ParseCgroupV2(*text);
  if (a.ppid > 0) a.parent_exe = ReadLink(ProcDir(a.ppid) + "exe");
  if (a.loginuid >= 0) a.login = LoginName(a.loginuid);
  return a;
}

std::string ActorReader::LoginName(int64_t uid) {
  auto it = logins_.find(uid);
  if (it != logins_.end()) return it->second;
  if (logins_.size() >= kMaxCached) logins_.clear();
  std::string name;
  struct passwd pw;
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (::getpwuid_r(static_cast<uid_t>(uid), &pw, buf.data(), buf.size(), &found) == 0 &&
      found != nullptr && found->pw_name != nullptr) {
    name = found->pw_name;
  }
  logins_.emplace(uid, name);
  return name;
}

void ActorReader::Remember(int64_t pid, Cached entry) {
  if (by_pid_.size() >= kMaxCached && by_pid_.find(pid) == by_pid_.end()) {
    const int64_t now = entry.read_ns;
    std::erase_if(by_pid_,
                  [now](const auto& kv) { return now - kv.second.read_ns >= kExitedFillNs; });
    if (by_pid_.size() >= kMaxCached) by_pid_.clear();
  }
  by_pid_[pid] = std::move(entry);
}

}  // namespace driftwatch
