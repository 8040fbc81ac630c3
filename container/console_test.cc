#include "container/console.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace driftwatch::container {
namespace {

struct PipeFds {
  UniqueFd r, w;
};
PipeFds MakePipe() {
  int fds[2];
  EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::string ReadAllFrom(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

std::string FileText(int fd) {
  lseek(fd, 0, SEEK_SET);
  return ReadAllFrom(fd);
}

UniqueFd TempFile() {
  char tmpl[] = "/tmp/dw-console-XXXXXX";
  int fd = mkstemp(tmpl);
  unlink(tmpl);
  return UniqueFd(fd);
}

TEST(ConsoleTest, PassesAnFdOverASocket) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd a(sv[0]), b(sv[1]);
  PipeFds p = MakePipe();
  ASSERT_TRUE(SendFd(a.get(), p.w.get()).ok());
  p.w.Reset();
  auto got = ReceiveFd(b.get());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(write(got->get(), "hi", 2), 2);
  got->Reset();
  EXPECT_EQ(ReadAllFrom(p.r.get()), "hi");
  // A closed peer sends no terminal.
  a.Reset();
  EXPECT_FALSE(ReceiveFd(b.get()).ok());
}

// A child that echoes stdin to stdout upper-cased-free (cat) and writes to
// stderr, with its streams on the given pipe ends.
pid_t Spawn(int in, int out, int err, const char* script) {
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    execl("/bin/sh", "sh", "-c", script, static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

TEST(ConsoleTest, PipesCarryStdinAndBothOutputsIntoTheLog) {
  PipeFds in = MakePipe(), out = MakePipe(), err = MakePipe(), caller = MakePipe();
  pid_t pid = Spawn(in.r.get(), out.w.get(), err.w.get(), "cat; echo oops >&2");
  in.r.Reset();
  out.w.Reset();
  err.w.Reset();
  ASSERT_EQ(write(caller.w.get(), "line\n", 5), 5);
  caller.w.Reset();  // EOF: the child's cat ends once the proxy closes its stdin
  UniqueFd to_out = TempFile(), to_err = TempFile(), log = TempFile();
  ProxyStreams s;
  s.in_src = caller.r.get();
  s.in_pipe = std::move(in.w);
  s.out_src = out.r.get();
  s.err_src = err.r.get();
  s.out_dst = to_out.get();
  s.err_dst = to_err.get();
  s.log_fd = log.get();
  ProxyStdio(std::move(s));
  waitpid(pid, nullptr, 0);
  EXPECT_EQ(FileText(to_out.get()), "line\n");
  EXPECT_EQ(FileText(to_err.get()), "oops\n");
  EXPECT_EQ(FileText(log.get()), "line\noops\n");
}

TEST(ConsoleTest, InputNeverStallsTheCopyOfOutput) {
  // The command writes 1 MiB before it reads any of its 1 MiB of input:
  // a proxy that blocked on the full stdin pipe would never read the
  // output the command is stuck on.
  PipeFds in = MakePipe(), out = MakePipe(), err = MakePipe(), caller = MakePipe();
  pid_t cmd = Spawn(in.r.get(), out.w.get(), err.w.get(), "head -c 1048576 /dev/zero; wc -c >&2");
  in.r.Reset();
  out.w.Reset();
  err.w.Reset();
  pid_t feeder = fork();
  if (feeder == 0) {
    std::string mib(1 << 20, 'x');
    ssize_t n = write(caller.w.get(), mib.data(), mib.size());
    _exit(n == static_cast<ssize_t>(mib.size()) ? 0 : 1);
  }
  caller.w.Reset();
  UniqueFd to_out = TempFile(), to_err = TempFile();
  ProxyStreams s;
  s.in_src = caller.r.get();
  s.in_pipe = std::move(in.w);
  s.out_src = out.r.get();
  s.err_src = err.r.get();
  s.out_dst = to_out.get();
  s.err_dst = to_err.get();
  alarm(60);  // a deadlock fails the test instead of hanging it
  ProxyStdio(std::move(s));
  alarm(0);
  waitpid(cmd, nullptr, 0);
  waitpid(feeder, nullptr, 0);
  struct stat st;
  ASSERT_EQ(fstat(to_out.get(), &st), 0);
  EXPECT_EQ(st.st_size, 1 << 20);
  std::string counted = FileText(to_err.get());
  EXPECT_EQ(counted.substr(counted.find_first_not_of(' ')), "1048576\n");
}

TEST(ConsoleTest, AContainerThatClosesItsStdinDoesNotKillTheCaller) {
  PipeFds in = MakePipe(), out = MakePipe(), err = MakePipe(), caller = MakePipe();
  pid_t cmd = Spawn(in.r.get(), out.w.get(), err.w.get(), "exec 0<&-; sleep 0.2; echo bye");
  in.r.Reset();
  out.w.Reset();
  err.w.Reset();
  ASSERT_EQ(write(caller.w.get(), "data\n", 5), 5);
  UniqueFd to_out = TempFile();
  ProxyStreams s;
  s.in_src = caller.r.get();
  s.in_pipe = std::move(in.w);
  s.out_src = out.r.get();
  s.err_src = err.r.get();
  s.out_dst = to_out.get();
  s.err_dst = to_out.get();
  // Input keeps coming after the command closed its stdin: EPIPE, no SIGPIPE.
  pid_t feeder = fork();
  if (feeder == 0) {
    usleep(300000);
    ssize_t n = write(caller.w.get(), "more\n", 5);
    _exit(n == 5 ? 0 : 1);
  }
  caller.w.Reset();
  ProxyStdio(std::move(s));
  waitpid(cmd, nullptr, 0);
  waitpid(feeder, nullptr, 0);
  EXPECT_EQ(FileText(to_out.get()), "bye\n");
}

TEST(ConsoleTest, WithoutStdinTheCommandReadsEof) {
  PipeFds in = MakePipe(), out = MakePipe(), err = MakePipe();
  pid_t pid = Spawn(in.r.get(), out.w.get(), err.w.get(), "cat; echo done");
  in.r.Reset();
  out.w.Reset();
  err.w.Reset();
  UniqueFd to_out = TempFile();
  ProxyStreams s;
  s.in_pipe = std::move(in.w);  // in_src -1: closed at once
  s.out_src = out.r.get();
  s.err_src = err.r.get();
  s.out_dst = to_out.get();
  s.err_dst = to_out.get();
  ProxyStdio(std::move(s));
  waitpid(pid, nullptr, 0);
  EXPECT_EQ(FileText(to_out.get()), "done\n");
}

TEST(ConsoleTest, ExitFdEndsTheCopyDespiteABackgroundHolder) {
  PipeFds out = MakePipe(), err = MakePipe();
  UniqueFd null_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
  // The command exits at once; what it started keeps the output open.
  pid_t pid = Spawn(null_fd.get(), out.w.get(), err.w.get(), "echo before; sleep 30 & exit 0");
  out.w.Reset();
  err.w.Reset();
  UniqueFd exit_fd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  ASSERT_TRUE(exit_fd.valid());
  UniqueFd to_out = TempFile();
  ProxyStreams s;
  s.out_src = out.r.get();
  s.err_src = err.r.get();
  s.out_dst = to_out.get();
  s.err_dst = to_out.get();
  s.exit_fd = exit_fd.get();
  const auto start = std::chrono::steady_clock::now();
  ProxyStdio(std::move(s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  waitpid(pid, nullptr, 0);
  EXPECT_EQ(FileText(to_out.get()), "before\n");
}

TEST(ConsoleTest, PtyGetsTheCallersWindowSize) {
  // The "caller's terminal" and the container's pty, both from the host's
  // devpts here.
  int caller_master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(caller_master, 0);
  UniqueFd cm(caller_master);
  ASSERT_EQ(grantpt(cm.get()), 0);
  ASSERT_EQ(unlockpt(cm.get()), 0);
  UniqueFd caller(open(ptsname(cm.get()), O_RDWR | O_NOCTTY | O_CLOEXEC));
  ASSERT_TRUE(caller.valid());
  struct winsize ws = {33, 77, 0, 0};
  ASSERT_EQ(ioctl(caller.get(), TIOCSWINSZ, &ws), 0);
  int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(m, 0);
  UniqueFd master(m);
  ASSERT_EQ(unlockpt(master.get()), 0);
  UniqueFd slave(ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  ASSERT_TRUE(slave.valid());
  ASSERT_EQ(write(slave.get(), "out\n", 4), 4);  // the line discipline adds \r
  slave.Reset();                                 // the master reads what is left, then EIO
  UniqueFd to_out = TempFile();
  ProxyStreams s;
  s.in_src = caller.get();
  s.pty = master.get();
  s.out_dst = to_out.get();
  ProxyStdio(std::move(s));
  struct winsize got = {};
  ASSERT_EQ(ioctl(master.get(), TIOCGWINSZ, &got), 0);
  EXPECT_EQ(got.ws_row, 33);
  EXPECT_EQ(got.ws_col, 77);
  EXPECT_EQ(FileText(to_out.get()), "out\r\n");
}

}  // namespace
}  // namespace driftwatch::container
