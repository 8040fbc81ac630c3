// dwprobe: a static program the container tests run inside containers (from
// a read-only volume) to try what an attacker would: push input into a
// terminal, reach the kernel keyring, create namespaces, open raw sockets,
// connect to host services. Each attempt prints one line "what: result",
// where result is "ok" or strerror(errno); the exit code is always 0 unless
// the usage is wrong.
//
//   dwprobe tiocsti TEXT        TIOCSTI TEXT on fds 0-2 and /dev/tty
//   dwprobe syscalls            keyctl, add_key, request_key, unshare(NEWUSER),
//                               clone3, setns, mount, open_by_handle_at, bpf,
//                               perf_event_open, userfaultfd
//   dwprobe keyring             the user keyring's id and a key added to it
//   dwprobe rawsock             socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)
//   dwprobe connect PORT        TCP connect to 127.0.0.1:PORT
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

void Report(const char* what, long rc) {
  printf("%s: %s\n", what, rc < 0 ? strerror(errno) : "ok");
  fflush(stdout);
}

int Tiocsti(const char* text) {
  int tty = open("/dev/tty", O_RDWR | O_NOCTTY);
  if (tty < 0) printf("open /dev/tty: %s\n", strerror(errno));
  const int fds[] = {0, 1, 2, tty};
  const char* names[] = {"fd0", "fd1", "fd2", "/dev/tty"};
  for (int i = 0; i < 4; ++i) {
    if (fds[i] < 0) continue;
    long rc = 0;
    for (const char* p = text; *p != '\0' && rc == 0; ++p) rc = ioctl(fds[i], TIOCSTI, p);
    Report(names[i], rc);
  }
  return 0;
}

int Syscalls() {
  Report("keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0));
  Report("add_key", syscall(SYS_add_key, "user", "dwprobe", "x", 1, KEY_SPEC_USER_KEYRING));
  Report("request_key", syscall(SYS_request_key, "user", "dwprobe-none", nullptr, 0));
  pid_t pid = fork();
  if (pid == 0) _exit(unshare(CLONE_NEWUSER) == 0 ? 0 : errno);
  int status = 0;
  waitpid(pid, &status, 0);
  errno = WEXITSTATUS(status);
  Report("unshare CLONE_NEWUSER", errno == 0 ? 0 : -1);
  struct {
    unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
  } args = {CLONE_NEWUSER, 0, 0, 0, SIGCHLD, 0, 0, 0};
  long c = syscall(SYS_clone3, &args, sizeof args);
  if (c == 0) _exit(0);
  if (c > 0) waitpid(static_cast<pid_t>(c), nullptr, 0);
  Report("clone3 CLONE_NEWUSER", c);
  Report("setns", syscall(SYS_setns, 0, 0));
  Report("mount", mount("none", "/tmp", "tmpfs", 0, nullptr));
  Report("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, nullptr, 0));
  Report("bpf", syscall(SYS_bpf, 0, nullptr, 0));
  Report("perf_event_open", syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0));
  Report("userfaultfd", syscall(SYS_userfaultfd, 0));
  return 0;
}

int Keyring() {
  long id = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
  Report("session keyring", id);
  if (id >= 0) printf("session keyring id: %ld\n", id);
  return 0;
}

int RawSock() {
  Report("raw socket", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
  return 0;
}

int Connect(const char* port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(atoi(port)));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  Report("connect", connect(s, reinterpret_cast<struct sockaddr*>(&a), sizeof a));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "tiocsti") == 0) return Tiocsti(argv[2]);
  if (argc == 2 && strcmp(argv[1], "syscalls") == 0) return Syscalls();
  if (argc == 2 && strcmp(argv[1], "keyring") == 0) return Keyring();
  if (argc == 2 && strcmp(argv[1], "rawsock") == 0) return RawSock();
  if (argc == 3 && strcmp(argv[1], "connect") == 0) return Connect(argv[2]);
  fprintf(stderr, "usage: dwprobe tiocsti TEXT | syscalls | keyring | rawsock | connect PORT\n");
  return 2;
}
