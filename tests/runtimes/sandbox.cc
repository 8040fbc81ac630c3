#include "tests/runtimes/sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

namespace driftwatch::rt {
namespace {

using Clock = std::chrono::steady_clock;

std::string Slurp(int fd) {
  std::string out;
  char buf[8192];
  lseek(fd, 0, SEEK_SET);
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

// In a forked child before exec: stdin from /dev/null, stdout/stderr as
// given, no other fd (a daemon must not hold the test's pipes open), own
// process group so that a timeout kills everything it started.
[[noreturn]] void ExecChild(const std::vector<std::string>& argv, int out_fd, int err_fd) {
  setpgid(0, 0);
  int null_fd = open("/dev/null", O_RDONLY);
  dup2(null_fd, 0);
  dup2(out_fd, 1);
  dup2(err_fd, 2);
  close_range(3, ~0U, 0);
  signal(SIGPIPE, SIG_DFL);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execv(args[0], args.data());
  _exit(127);
}

int Status(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

// Waits for pid until the deadline; true with *status when it ended.
bool WaitUntil(pid_t pid, Clock::time_point deadline, int* status) {
  while (true) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid || r < 0) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::vector<pid_t> AllPids() {
  std::vector<pid_t> out;
  DIR* d = opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long v = strtol(e->d_name, &end, 10);
    if (end != e->d_name && *end == '\0' && v > 0) out.push_back(static_cast<pid_t>(v));
  }
  closedir(d);
  return out;
}

pid_t ParentOf(pid_t pid) {
  std::string stat = ReadFileOr("/proc/" + std::to_string(pid) + "/stat");
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(stat.substr(close + 1));
  std::string state;
  pid_t ppid = 0;
  in >> state >> ppid;
  return ppid;
}

// The sandbox's own processes: its path on the command line (daemons,
// shims, conmon) or a root mount whose options name it (the containers,
// whose /proc/PID/root reads "/" from here).
bool BelongsTo(pid_t pid, const std::string& dir) {
  const std::string base = "/proc/" + std::to_string(pid);
  std::string cmdline = ReadFileOr(base + "/cmdline");
  std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
  if (cmdline.find(dir + "/") != std::string::npos || cmdline.find(dir + " ") != std::string::npos)
    return true;
  std::istringstream mounts(ReadFileOr(base + "/mountinfo"));
  std::string line;
  while (std::getline(mounts, line)) {
    std::istringstream f(line);
    std::string id, parent, devno, root, point;
    f >> id >> parent >> devno >> root >> point;
    if (point == "/") return line.find(dir + "/") != std::string::npos;
  }
  return false;
}

// Kills the sandbox's processes and their descendants until none is left
// (bounded: 15 s).
void KillAll(const std::string& dir) {
  const pid_t self = getpid();
  const pid_t parent = getppid();
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  while (Clock::now() < deadline) {
    std::vector<pid_t> pids = AllPids();
    std::map<pid_t, pid_t> ppid;
    for (pid_t p : pids) ppid[p] = ParentOf(p);
    std::set<pid_t> doomed;
    for (pid_t p : pids) {
      if (p != self && p != parent && BelongsTo(p, dir)) doomed.insert(p);
    }
    // Descendants, by repeated passes (the process table is finite).
    for (bool grew = true; grew;) {
      grew = false;
      for (const auto& [p, pp] : ppid) {
        if (p != self && p != parent && doomed.count(pp) && !doomed.count(p)) {
          doomed.insert(p);
          grew = true;
        }
      }
    }
    // Zombies are gone already: their parents reap them.
    std::erase_if(doomed, [](pid_t p) {
      std::string stat = ReadFileOr("/proc/" + std::to_string(p) + "/stat");
      size_t close = stat.rfind(')');
      return close == std::string::npos || stat.compare(close, 4, ") Z ") == 0;
    });
    if (doomed.empty()) return;
    for (pid_t p : doomed) kill(p, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void UnmountAll(const std::string& dir) {
  for (int pass = 0; pass < 5; ++pass) {
    std::vector<std::string> points;
    std::istringstream mounts(ReadFileOr("/proc/self/mountinfo"));
    std::string line;
    while (std::getline(mounts, line)) {
      std::istringstream f(line);
      std::string id, parent, devno, root, point;
      f >> id >> parent >> devno >> root >> point;
      if (point == dir || point.rfind(dir + "/", 0) == 0) points.push_back(point);
    }
    if (points.empty()) return;
    std::sort(points.begin(), points.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    for (const std::string& p : points) umount2(p.c_str(), MNT_DETACH);
  }
}

bool IsDir(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<std::string> SubDirs(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != ".." && IsDir(dir + "/" + n)) out.push_back(dir + "/" + n);
  }
  closedir(d);
  return out;
}

// rmdir, retried while the kernel still holds the group of a process just
// killed (EBUSY), at most 2 s.
void RemoveCgroupDir(const std::string& dir) {
  const auto deadline = Clock::now() + std::chrono::seconds(2);
  while (rmdir(dir.c_str()) != 0 && errno == EBUSY && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// The cgroup dirs the runtimes made for the recorded containers, two levels
// deep under each hierarchy ("docker/ID", "libpod_parent/libpod-ID",
// "default/ID"), and the parents the sandbox's runtimes created.
const std::set<std::string> kRuntimeParents = {"docker", "libpod_parent", "default", "k8s.io",
                                               "driftwatch"};

void RemoveCgroups(const std::string& ids_file) {
  std::vector<std::string> ids;
  std::set<std::string> pre;
  std::istringstream in(ReadFileOr(ids_file));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("id ", 0) == 0) ids.push_back(line.substr(3));
    if (line.rfind("pre ", 0) == 0) pre.insert(line.substr(4));
  }
  for (const std::string& hierarchy : SubDirs("/sys/fs/cgroup")) {
    for (const std::string& parent : SubDirs(hierarchy)) {
      bool ours = false;
      for (const std::string& child : SubDirs(parent)) {
        const std::string name = child.substr(child.rfind('/') + 1);
        for (const std::string& id : ids) {
          if (name.find(id) == std::string::npos) continue;
          for (const std::string& sub : SubDirs(child)) RemoveCgroupDir(sub);
          RemoveCgroupDir(child);
          ours = true;
        }
      }
      // The runtimes' parent groups this sandbox created: gone when empty.
      const std::string base = parent.substr(parent.rfind('/') + 1);
      if (!pre.count(parent) && kRuntimeParents.count(base)) ours = true;
      if (ours && !pre.count(parent)) {
        for (const std::string& child : SubDirs(parent)) {
          // conmon's and the runtimes' helper groups, when empty.
          if (child.find("conmon") != std::string::npos) RemoveCgroupDir(child);
        }
        rmdir(parent.c_str());  // EBUSY while another runtime's groups are in it
      }
    }
  }
}

}  // namespace

ExecResult Exec(const std::vector<std::string>& argv, int timeout_s) {
  ExecResult r;
  int out_fd = memfd_create("rt-out", MFD_CLOEXEC);
  int err_fd = memfd_create("rt-err", MFD_CLOEXEC);
  pid_t pid = fork();
  if (pid == 0) ExecChild(argv, out_fd, err_fd);
  if (pid < 0) {
    close(out_fd);
    close(err_fd);
    r.err = "fork failed";
    return r;
  }
  setpgid(pid, pid);
  int status = 0;
  if (!WaitUntil(pid, Clock::now() + std::chrono::seconds(timeout_s), &status)) {
    kill(-pid, SIGKILL);
    waitpid(pid, &status, 0);
    r.timed_out = true;
  }
  r.code = Status(status);
  r.out = Slurp(out_fd);
  r.err = Slurp(err_fd);
  close(out_fd);
  close(err_fd);
  if (r.timed_out) r.err += "\n(killed after " + std::to_string(timeout_s) + " s)";
  return r;
}

std::string Describe(const ExecResult& r) {
  return "code " + std::to_string(r.code) + ": " + r.err + (r.err.empty() ? r.out : "");
}

std::string ReadFileOr(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return "";
  std::string out;
  char buf[8192];
  ssize_t n;
  while (out.size() < (1u << 20) && (n = read(fd, buf, sizeof buf)) > 0)
    out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

void MkdirAll(const std::string& path) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') mkdir(path.substr(0, i).c_str(), 0755);
  }
}

void WriteFileOrDie(const std::string& path, const std::string& content, mode_t mode) {
  MkdirAll(path.substr(0, path.rfind('/')));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  chmod(path.c_str(), mode);
}

bool IsExecutable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

pid_t Spawn(const std::vector<std::string>& argv, const std::string& log) {
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  pid_t pid = fork();
  if (pid == 0) ExecChild(argv, fd, fd);
  close(fd);
  if (pid > 0) setpgid(pid, pid);
  return pid;
}

void Sandbox::StopDaemon(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  int status = 0;
  if (!WaitUntil(pid, Clock::now() + std::chrono::seconds(10), &status)) {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
}

std::string Sandbox::Create(const std::string& size) {
  char tmpl[] = "/tmp/dw-rt.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return "mkdtemp failed";
  dir_ = tmpl;
  ids_file_ = dir_ + ".ids";
  const std::string opts = "size=" + size + ",mode=0755";
  if (mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) != 0) {
    rmdir(dir_.c_str());
    dir_.clear();
    return "cannot mount a tmpfs (needs root and CAP_SYS_ADMIN)";
  }
  // Cgroup parents that exist now are left alone by the cleanup.
  std::string pre;
  for (const std::string& h : SubDirs("/sys/fs/cgroup")) {
    for (const std::string& p : SubDirs(h)) pre += "pre " + p + "\n";
  }
  WriteFileOrDie(ids_file_, pre);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return "pipe failed";
  std::fflush(nullptr);
  guardian_ = fork();
  if (guardian_ == 0) {
    // The guardian: its own session (a test timeout kills the test's
    // group), no inherited pipes, waits for the test process to end.
    setsid();
    int null_fd = open("/dev/null", O_RDWR);
    dup2(null_fd, 0);
    dup2(null_fd, 1);
    dup2(null_fd, 2);
    if (fds[0] != 3) {
      dup2(fds[0], 3);
    }
    close_range(4, ~0U, 0);
    char c;
    while (read(3, &c, 1) > 0) {
    }
    struct stat st;
    if (stat(dir_.c_str(), &st) == 0) CleanSandbox(dir_, ids_file_);
    _exit(0);
  }
  close(fds[0]);
  guardian_fd_ = fds[1];
  return "";
}

void Sandbox::NoteContainer(const std::string& id) {
  std::ofstream(ids_file_, std::ios::app) << "id " << id << "\n";
}

void Sandbox::Teardown() {
  if (dir_.empty()) return;
  for (pid_t pid : daemons_) StopDaemon(pid);
  daemons_.clear();
  CleanSandbox(dir_, ids_file_);
  dir_.clear();
  if (guardian_fd_ >= 0) close(guardian_fd_);
  guardian_fd_ = -1;
  int status = 0;
  if (guardian_ > 0 && !WaitUntil(guardian_, Clock::now() + std::chrono::seconds(10), &status)) {
    kill(guardian_, SIGKILL);
    waitpid(guardian_, &status, 0);
  }
  guardian_ = -1;
}

void CleanSandbox(const std::string& dir, const std::string& ids_file) {
  KillAll(dir);
  // Reap what this process started and the kill ended.
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  UnmountAll(dir);
  rmdir(dir.c_str());
  RemoveCgroups(ids_file);
  unlink(ids_file.c_str());
}

}  // namespace driftwatch::rt
