#include "container/console.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include "container/child_io.h"

namespace driftwatch::container {
namespace {

// The caller's terminal in raw mode for the guard's lifetime.
class RawMode {
 public:
  explicit RawMode(int fd) {
    if (fd < 0 || !isatty(fd) || tcgetattr(fd, &saved_) != 0) return;
    struct termios raw = saved_;
    cfmakeraw(&raw);
    if (tcsetattr(fd, TCSADRAIN, &raw) == 0) fd_ = fd;
  }
  ~RawMode() {
    if (fd_ >= 0) tcsetattr(fd_, TCSADRAIN, &saved_);
  }
  RawMode(const RawMode&) = delete;
  RawMode& operator=(const RawMode&) = delete;

 private:
  int fd_ = -1;
  struct termios saved_ = {};
};

// SIGWINCH as an fd for the proxy's lifetime (blocked meanwhile).
class WinchFd {
 public:
  WinchFd() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGWINCH);
    if (sigprocmask(SIG_BLOCK, &set, &old_) != 0) return;
    blocked_ = true;
    fd_ = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  }
  ~WinchFd() {
    if (fd_ >= 0) close(fd_);
    if (blocked_) sigprocmask(SIG_SETMASK, &old_, nullptr);
  }
  WinchFd(const WinchFd&) = delete;
  WinchFd& operator=(const WinchFd&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  bool blocked_ = false;
  sigset_t old_;
};

void CopyWindowSize(int from_tty, int pty) {
  struct winsize ws;
  if (from_tty >= 0 && ioctl(from_tty, TIOCGWINSZ, &ws) == 0) ioctl(pty, TIOCSWINSZ, &ws);
}

// Reads one chunk from `src` to the outputs; false once it is closed.
bool Pump(int src, int dst, int log_fd) {
  char buf[16384];
  while (true) {
    ssize_t n = read(src, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    // EIO: a pty master whose last slave is closed. EAGAIN: drained.
    if (n < 0 && errno == EAGAIN) return true;
    if (n <= 0) return false;
    std::string_view chunk(buf, static_cast<size_t>(n));
    if (log_fd >= 0) WriteAll(log_fd, chunk);
    WriteAll(dst, chunk);
    return true;
  }
}

// After the process exited: what the outputs still hold, without waiting.
void Drain(int src, int dst, int log_fd) {
  if (src < 0) return;
  int flags = fcntl(src, F_GETFL);
  if (flags >= 0) fcntl(src, F_SETFL, flags | O_NONBLOCK);
  for (int i = 0; i < 4096; ++i) {
    char buf[16384];
    ssize_t n = read(src, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::string_view chunk(buf, static_cast<size_t>(n));
    if (log_fd >= 0) WriteAll(log_fd, chunk);
    WriteAll(dst, chunk);
  }
  if (flags >= 0) fcntl(src, F_SETFL, flags);
}

}  // namespace

Result<Pty> OpenContainerPty() {
  struct open_how how = {};
  how.flags = O_RDWR | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = syscall(SYS_openat2, AT_FDCWD, "/dev/pts/ptmx", &how, sizeof how);
  if (fd < 0 && errno == ENOSYS) {
    fd = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
  }
  if (fd < 0) return ErrnoStatus("open /dev/pts/ptmx", errno);
  Pty pty;
  pty.master.Reset(static_cast<int>(fd));
  struct statfs sfs;
  struct stat st;
  if (fstatfs(pty.master.get(), &sfs) != 0 || fstat(pty.master.get(), &st) != 0)
    return ErrnoStatus("stat /dev/pts/ptmx", errno);
  if (sfs.f_type != DEVPTS_SUPER_MAGIC || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 ||
      minor(st.st_rdev) != 2) {
    return Status::PermissionDenied("/dev/pts/ptmx is not the container's devpts multiplexer");
  }
  int unlock = 0;
  if (ioctl(pty.master.get(), TIOCSPTLCK, &unlock) != 0) return ErrnoStatus("unlockpt", errno);
  int slave = ioctl(pty.master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) return ErrnoStatus("open pty peer", errno);
  pty.slave.Reset(slave);
  return pty;
}

Status AttachTerminal(int slave) {
  if (setsid() < 0) return ErrnoStatus("setsid", errno);
  if (ioctl(slave, TIOCSCTTY, 0) != 0) return ErrnoStatus("TIOCSCTTY", errno);
  for (int target = 0; target < 3; ++target) {
    if (dup2(slave, target) < 0) return ErrnoStatus("dup2 pty", errno);
  }
  return Status::Ok();
}

Status SendFd(int socket, int fd) {
  char byte = 't';
  struct iovec iov = {&byte, 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  while (sendmsg(socket, &msg, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return ErrnoStatus("send pty", errno);
  }
  return Status::Ok();
}

Result<UniqueFd> ReceiveFd(int socket) {
  char byte = 0;
  struct iovec iov = {&byte, 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  ssize_t n;
  while ((n = recvmsg(socket, &msg, MSG_CMSG_CLOEXEC)) < 0) {
    if (errno != EINTR) return ErrnoStatus("receive pty", errno);
  }
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (n != 1 || c == nullptr || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
      c->cmsg_len != CMSG_LEN(sizeof(int))) {
    return Status::IoError("receive pty: the container sent no terminal");
  }
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
  return UniqueFd(fd);
}

Status SendPtyAndWait(int socket, int master) {
  DW_RETURN_IF_ERROR(SendFd(socket, master));
  char ack = 0;
  ssize_t n;
  while ((n = read(socket, &ack, 1)) < 0 && errno == EINTR) {
  }
  if (n != 1) return Status::IoError("pty hand-over: the caller went away");
  return Status::Ok();
}

Result<UniqueFd> ReceivePty(int socket, int in_fd, int out_fd) {
  DW_ASSIGN_OR_RETURN(UniqueFd master, ReceiveFd(socket));
  CopyWindowSize(in_fd >= 0 && isatty(in_fd) ? in_fd : isatty(out_fd) ? out_fd : -1, master.get());
  WriteAll(socket, "a");
  return master;
}

UniqueFd ReceivePtyOrClose(bool tty, UniqueFd* socket, int in_fd, int out_fd, Status* failed) {
  if (!tty) return UniqueFd();
  auto master = ReceivePty(socket->get(), in_fd, out_fd);
  if (master.ok()) return std::move(master).value();
  *failed = master.status();
  socket->Reset();
  return UniqueFd();
}

void ProxyStdio(ProxyStreams s) {
  // The caller's terminal: window size source, raw while stdin is attached.
  int tty = -1;
  if (s.pty >= 0) {
    if (s.in_src >= 0 && isatty(s.in_src)) {
      tty = s.in_src;
    } else if (isatty(s.out_dst)) {
      tty = s.out_dst;
    }
  }
  RawMode raw(s.pty >= 0 && tty == s.in_src ? s.in_src : -1);
  WinchFd winch;
  // A container that stops reading its stdin (or exits) must not kill the
  // caller with SIGPIPE: writes then fail with EPIPE instead.
  struct sigaction ignore = {}, old_pipe = {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &old_pipe);
  if (s.pty >= 0) CopyWindowSize(tty, s.pty);
  const int out_src = s.pty >= 0 ? s.pty : s.out_src;
  const int err_src = s.pty >= 0 ? -1 : s.err_src;
  const int in_dst = s.pty >= 0 ? s.pty : s.in_pipe.get();
  // Input is written without blocking: a container busy writing output it
  // cannot get rid of must not stall the copy of that output.
  if (in_dst >= 0) fcntl(in_dst, F_SETFL, fcntl(in_dst, F_GETFL) | O_NONBLOCK);
  std::string pending;  // input read but not yet taken by the container
  bool in_eof = in_dst < 0 || s.in_src < 0;
  enum { kIn, kInDst, kOut, kErr, kWinch, kExit, kCount };
  struct pollfd fds[kCount] = {{-1, POLLIN, 0},
                               {-1, POLLOUT, 0},
                               {out_src, POLLIN, 0},
                               {err_src, POLLIN, 0},
                               {s.pty >= 0 ? winch.fd() : -1, POLLIN, 0},
                               {s.exit_fd, POLLIN, 0}};
  auto flush_input = [&] {
    while (!pending.empty()) {
      ssize_t n = write(in_dst, pending.data(), pending.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      if (n <= 0) {  // the container closed its stdin: drop the rest
        pending.clear();
        in_eof = true;
        return;
      }
      pending.erase(0, static_cast<size_t>(n));
    }
  };
  while (fds[kOut].fd >= 0 || fds[kErr].fd >= 0) {
    // At end of input (and once what is pending is taken) the pipe closes:
    // the container reads EOF. A pty stays open: EOF is the user's ^D.
    if (in_eof && pending.empty()) s.in_pipe.Reset();
    fds[kIn].fd = !in_eof && pending.empty() ? s.in_src : -1;
    fds[kInDst].fd = !pending.empty() ? in_dst : -1;
    if (poll(fds, kCount, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[kOut].fd >= 0 && fds[kOut].revents != 0 && !Pump(fds[kOut].fd, s.out_dst, s.log_fd))
      fds[kOut].fd = -1;
    if (fds[kErr].fd >= 0 && fds[kErr].revents != 0 && !Pump(fds[kErr].fd, s.err_dst, s.log_fd))
      fds[kErr].fd = -1;
    if (fds[kInDst].fd >= 0 && fds[kInDst].revents != 0) flush_input();
    if (fds[kIn].fd >= 0 && fds[kIn].revents != 0) {
      char buf[16384];
      ssize_t n = read(fds[kIn].fd, buf, sizeof buf);
      if (n > 0) {
        pending.assign(buf, static_cast<size_t>(n));
        flush_input();
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        in_eof = true;
      }
    }
    if (fds[kWinch].fd >= 0 && fds[kWinch].revents != 0) {
      struct signalfd_siginfo info;
      while (read(fds[kWinch].fd, &info, sizeof info) == sizeof info) {
      }
      CopyWindowSize(tty, s.pty);
    }
    if (fds[kExit].fd >= 0 && fds[kExit].revents != 0) {
      Drain(fds[kOut].fd, s.out_dst, s.log_fd);
      Drain(fds[kErr].fd, s.err_dst, s.log_fd);
      break;
    }
  }
  sigaction(SIGPIPE, &old_pipe, nullptr);
}

}  // namespace driftwatch::container
