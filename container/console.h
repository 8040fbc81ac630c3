// The standard streams of container processes (docs/containers.md,
// "Terminals").
//
// A container process never holds a host terminal or joins the caller's
// session: the init and every exec'ed command call setsid(), and their
// standard streams are either pipes the caller's side copies (ProxyStdio) or
// a pseudo-terminal allocated from the container's own devpts instance
// (`run -t`, `exec -t`), whose master the caller's side proxies, with the
// caller's terminal in raw mode and window-size changes (SIGWINCH) passed on.
// So TIOCSTI, TIOCLINUX or reading /dev/tty from inside reach at most the
// container's own terminal, never the operator's.
//
// Container side (after pivot_root or setns into the container's mounts):
// OpenContainerPty() and AttachTerminal(); SendFd() hands the master to the
// caller's side over a unix socket, ReceiveFd() takes it there.
//
// Errors: kIoError / errno with the step named; a /dev/pts/ptmx that is not
// the devpts multiplexer is refused.
// Thread-safety: ProxyStdio blocks SIGWINCH in the calling thread while it
// runs; call it from a single-threaded process.
#ifndef DRIFTWATCH_CONTAINER_CONSOLE_H_
#define DRIFTWATCH_CONTAINER_CONSOLE_H_

#include "core/host.h"
#include "core/status.h"

namespace driftwatch::container {

struct Pty {
  UniqueFd master;
  UniqueFd slave;
};

// Opens /dev/pts/ptmx beneath "/" (no symlinks followed; it must be a devpts
// ptmx, char 5:2) and returns a new unlocked pair. Both fds are O_CLOEXEC and
// O_NOCTTY.
Result<Pty> OpenContainerPty();

// In the child about to exec: starts a new session, makes `slave` its
// controlling terminal and its fds 0, 1 and 2.
Status AttachTerminal(int slave);

Status SendFd(int socket, int fd);
Result<UniqueFd> ReceiveFd(int socket);

// The pty hand-over, so the command starts with the caller's window size:
// the container side sends the master and waits for the caller's side,
// which takes it, sets the window size of its terminal (in_fd, else out_fd,
// when one is a terminal) on it and answers.
Status SendPtyAndWait(int socket, int master);
Result<UniqueFd> ReceivePty(int socket, int in_fd, int out_fd);
// The caller's side of a start with `tty`: the master, or (no tty) an empty
// fd. When the hand-over fails, *failed says why and *socket is closed, so
// that the container side gives up and reports instead of waiting.
UniqueFd ReceivePtyOrClose(bool tty, UniqueFd* socket, int in_fd, int out_fd, Status* failed);

// What ProxyStdio copies. Fds are borrowed, except in_pipe, which it closes
// once in_src reaches end of file (the container then reads EOF).
struct ProxyStreams {
  int in_src = -1;   // the caller's stdin; -1: stdin not attached
  UniqueFd in_pipe;  // container's stdin (pipe), or
  int pty = -1;      // the pty master: stdin goes in, output comes out
  int out_src = -1;  // container's stdout pipe (-1 with a pty)
  int err_src = -1;  // container's stderr pipe (-1 with a pty)
  int out_dst = 1;
  int err_dst = 2;
  int log_fd = -1;  // gets stdout and stderr too, when >= 0
  // A pidfd: once it is readable (the process exited) what is buffered is
  // copied and the proxy returns, even if a background process still holds
  // the output open. -1: run until every output is closed.
  int exit_fd = -1;
};

// Copies until the outputs are closed (or exit_fd fires). With a pty and a
// terminal on in_src, that terminal is in raw mode meanwhile and restored
// after; its window size is set on the pty at start and on every SIGWINCH.
void ProxyStdio(ProxyStreams streams);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_CONSOLE_H_
