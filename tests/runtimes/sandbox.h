// The place the runtime tests run their private daemons: a size-limited
// tmpfs mounted on a fresh dir under /tmp (so overlayfs works whatever the
// host's file system), bounded child processes, and a teardown that leaves
// nothing behind on any exit path.
//
// Teardown kills every process that belongs to the sandbox (its path in the
// command line, or a root mount whose options name it: the containers) and
// their descendants, detaches every mount under it, removes the cgroup
// directories of the containers recorded with NoteContainer(), and removes
// the dir. It runs from Teardown() and, should the test process die first
// (crash, SIGKILL from a test timeout), from a guardian child that waits for
// the test process to end.
//
// Not thread-safe: one sandbox per test process, used from the main thread.
#ifndef DRIFTWATCH_TESTS_RUNTIMES_SANDBOX_H_
#define DRIFTWATCH_TESTS_RUNTIMES_SANDBOX_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace driftwatch::rt {

struct ExecResult {
  int code = -1;           // exit code; 128+signal when killed; -1 when not started
  bool timed_out = false;  // killed at the deadline
  std::string out;
  std::string err;
};

// Runs argv (argv[0] an absolute path) with stdin on /dev/null, in its own
// process group, every other fd closed; kills the group at `timeout_s`.
ExecResult Exec(const std::vector<std::string>& argv, int timeout_s = 60);

// "code N: <stderr>" for failure messages.
std::string Describe(const ExecResult& r);

// The whole file, "" when it cannot be read (at most 1 MiB).
std::string ReadFileOr(const std::string& path);
void WriteFileOrDie(const std::string& path, const std::string& content, mode_t mode = 0644);
void MkdirAll(const std::string& path);
bool IsExecutable(const std::string& path);

// A daemon in the background: stdout and stderr to `log`, own process
// group, every other fd closed. Returns its pid, or -1.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log);

class Sandbox {
 public:
  Sandbox() = default;
  ~Sandbox() { Teardown(); }
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  // Makes the dir, mounts the tmpfs and starts the guardian. "" on success,
  // else why not.
  std::string Create(const std::string& size = "1g");
  // Idempotent.
  void Teardown();

  const std::string& dir() const { return dir_; }
  std::string operator/(const std::string& rel) const { return dir_ + "/" + rel; }

  // Records a container id, so that its cgroup directories are removed.
  void NoteContainer(const std::string& id);

  // A daemon started with Spawn(), stopped first in Teardown (SIGTERM, then
  // SIGKILL at a deadline).
  void AddDaemon(pid_t pid) { daemons_.push_back(pid); }
  // Stops one daemon now (SIGTERM, 10 s, SIGKILL) and reaps it.
  static void StopDaemon(pid_t pid);

 private:
  std::string dir_;
  std::string ids_file_;  // outside the tmpfs: the guardian reads it
  std::vector<pid_t> daemons_;
  pid_t guardian_ = -1;
  int guardian_fd_ = -1;
};

// The cleanup itself, also run by the guardian: kill, unmount, rmdir.
void CleanSandbox(const std::string& dir, const std::string& ids_file);

}  // namespace driftwatch::rt

#endif  // DRIFTWATCH_TESTS_RUNTIMES_SANDBOX_H_
