// The operator's terminal and session stay out of reach: a container that
// pushes input into its terminal (TIOCSTI) from a foreground `run` or an
// `exec` must not get a command run by the operator's shell once it returns,
// with or without the seccomp filter's help. -i and -t work as Docker's do:
// stdin through a pipe, a pty of the container's own with the window size of
// the caller's terminal.
#include <sys/stat.h>
#include <unistd.h>

#include "container/proc_stat.h"
#include "tests/container/fixture.h"

namespace driftwatch::container::testing {
namespace {

class TerminalTest : public ContainerTest {
 protected:
  void SetUp() override {
    ContainerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    dw_ = DriftwatchBinary();
    if (dw_.empty()) GTEST_SKIP() << "needs $DRIFTWATCH_BIN (meson test sets it)";
    if (access("/usr/bin/script", X_OK) != 0) GTEST_SKIP() << "needs script (bsdutils)";
    probe_ = ProbeDir(tmp_);
    ASSERT_FALSE(probe_.empty()) << "dwprobe not found ($DRIFTWATCH_PROBE)";
    marker_ = tmp_ + "/pushed-command-ran";
    // The operator's shell: runs the command, then reads what the terminal
    // holds, as an interactive shell would at its next prompt.
    shell_ = tmp_ + "/operator.sh";
    WriteFile(shell_,
              "\"$@\"\n"
              "echo \"exit=$?\"\n"
              "if read -t 2 -r line; then eval \"$line\"; fi\n");
  }

  // `driftwatch container ARGS...` under the operator's shell.
  CliResult Operator(std::vector<std::string> args) {
    size_t at = args.size();
    for (size_t i = 0; i < args.size(); ++i) {
      if (args[i] == "--") {
        at = i;
        break;
      }
    }
    args.insert(args.begin() + static_cast<long>(at), {"--state-dir", state_dir_});
    args.insert(args.begin(), {dw_, "container"});
    return RunUnderTerminal(shell_, args);
  }

  std::vector<std::string> Inject() {
    return {"/probe/dwprobe", "tiocsti", "touch " + marker_ + "\n"};
  }

  bool MarkerExists() {
    struct stat st;
    return stat(marker_.c_str(), &st) == 0;
  }

  std::vector<std::string> Cmd(std::vector<std::string> head, const std::vector<std::string>& cmd) {
    head.push_back("--");
    head.insert(head.end(), cmd.begin(), cmd.end());
    return head;
  }

  std::string dw_, probe_, marker_, shell_;
};

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Terminal output without carriage returns (each pty's line discipline adds
// its own).
std::string NoCr(std::string s) {
  std::erase(s, '\r');
  return s;
}

TEST_F(TerminalTest, InjectionFromForegroundRunDoesNotReachTheOperatorsShell) {
  const std::string vol = probe_ + ":/probe:ro";
  // Default: no terminal to inject into, and the filter refuses TIOCSTI.
  CliResult r = Operator(Cmd({"run", "--rm", "--volume", vol, "bb"}, Inject()));
  EXPECT_TRUE(Has(r.out, "open /dev/tty: No such device or address")) << r.out;
  EXPECT_TRUE(Has(r.out, "fd0: Operation not permitted")) << r.out;
  EXPECT_TRUE(Has(r.out, "exit=0")) << r.out;
  EXPECT_FALSE(MarkerExists()) << r.out;
  // Without the filter's rule the terminal handling alone holds: the
  // command has no terminal at all.
  r = Operator(
      Cmd({"run", "--rm", "--seccomp-allow", "tty-inject", "--volume", vol, "bb"}, Inject()));
  EXPECT_TRUE(Has(r.out, "fd0: Inappropriate ioctl for device")) << r.out;
  EXPECT_TRUE(Has(r.out, "fd1: Inappropriate ioctl for device")) << r.out;
  EXPECT_TRUE(Has(r.out, "exit=0")) << r.out;
  EXPECT_FALSE(MarkerExists()) << r.out;
  // With -it the command's terminal is the container's own pty: what it
  // pushes stays there.
  r = Operator(Cmd({"run", "--rm", "-it", "--seccomp-allow", "tty-inject", "--volume", vol, "bb"},
                   Inject()));
  EXPECT_TRUE(Has(r.out, "fd0: ok")) << r.out;
  EXPECT_TRUE(Has(r.out, "exit=0")) << r.out;
  EXPECT_FALSE(MarkerExists()) << r.out;
}

TEST_F(TerminalTest, InjectionFromExecDoesNotReachTheOperatorsShell) {
  const std::string vol = probe_ + ":/probe:ro";
  ASSERT_EQ(
      Cli({"run", "--detach", "--name", "tgt", "--volume", vol, "bb", "--", "/bin/sleep", "1000"})
          .code,
      0);
  ASSERT_EQ(Cli({"run", "--detach", "--name", "open", "--seccomp-allow", "tty-inject", "--volume",
                 vol, "bb", "--", "/bin/sleep", "1000"})
                .code,
            0);
  CliResult r = Operator(Cmd({"exec", "tgt"}, Inject()));
  EXPECT_TRUE(Has(r.out, "fd1: Operation not permitted")) << r.out;
  EXPECT_TRUE(Has(r.out, "exit=0")) << r.out;
  EXPECT_FALSE(MarkerExists()) << r.out;
  r = Operator(Cmd({"exec", "open"}, Inject()));
  EXPECT_TRUE(Has(r.out, "open /dev/tty: No such device or address")) << r.out;
  EXPECT_TRUE(Has(r.out, "fd1: Inappropriate ioctl for device")) << r.out;
  EXPECT_TRUE(Has(r.out, "exit=0")) << r.out;
  EXPECT_FALSE(MarkerExists()) << r.out;
  r = Operator(Cmd({"exec", "-it", "open"}, Inject()));
  EXPECT_TRUE(Has(r.out, "/dev/tty: ok")) << r.out;
  EXPECT_TRUE(Has(r.out, "exit=0")) << r.out;
  EXPECT_FALSE(MarkerExists()) << r.out;
}

TEST_F(TerminalTest, ContainerProcessesLeadSessionsOfTheirOwn) {
  const std::string probe =
      "read pid comm state ppid pgrp sid rest < /proc/self/stat; "
      "[ $pid = $sid ] && echo leader || echo \"sid $sid pid $pid\"";
  CliResult r = Cli({"run", "--name", "s", "bb", "--", "/bin/sh", "-c", probe});
  EXPECT_EQ(r.out, "leader\n") << r.err;
  ASSERT_EQ(Cli({"run", "--detach", "--name", "s2", "bb", "--", "/bin/sleep", "1000"}).code, 0);
  r = Cli({"exec", "s2", "--", "/bin/sh", "-c", probe});
  EXPECT_EQ(r.out, "leader\n") << r.err;
  // The init too: its session is its own, not the caller's.
  auto stat = ReadSmallFile("/proc/" + std::to_string(Record("s2").pid) + "/stat", 4096);
  ASSERT_TRUE(stat.ok());
  EXPECT_EQ(ProcStatField(*stat, 6), static_cast<uint64_t>(Record("s2").pid));
}

TEST_F(TerminalTest, TtyHasTheCallersWindowSizeAndFollowsIt) {
  const std::string sized = tmp_ + "/sized.sh";
  WriteFile(sized,
            "stty rows 33 cols 77\n"
            "(sleep 1; stty rows 44 cols 88 < /dev/tty) &\n"
            "\"$@\"\n"
            "echo \"exit=$?\"\n"
            "wait\n");
  const std::string show = "tty; stty size; sleep 3; stty size; exit 3";
  CliResult r = RunUnderTerminal(sized, {dw_, "container", "run", "--state-dir", state_dir_, "--rm",
                                         "-t", "bb", "--", "/bin/sh", "-c", show});
  EXPECT_TRUE(Has(NoCr(r.out), "/dev/pts/0\n33 77\n44 88\n")) << r.out;
  EXPECT_TRUE(Has(r.out, "exit=3")) << r.out;
  ASSERT_EQ(Cli({"run", "--detach", "--name", "t", "bb", "--", "/bin/sleep", "1000"}).code, 0);
  r = RunUnderTerminal(sized, {dw_, "container", "exec", "--state-dir", state_dir_, "-it", "t",
                               "--", "/bin/sh", "-c", show});
  EXPECT_TRUE(Has(NoCr(r.out), "/dev/pts/0\n33 77\n44 88\n")) << r.out;
  EXPECT_TRUE(Has(r.out, "exit=3")) << r.out;
}

TEST_F(TerminalTest, InteractiveStdinIsAPipeAndOtherwiseEmpty) {
  ASSERT_EQ(Cli({"run", "--detach", "--name", "i", "bb", "--", "/bin/sleep", "1000"}).code, 0);
  const std::string pipes = tmp_ + "/pipes.sh";
  WriteFile(pipes,
            "dw() { \"$DW\" container \"$1\" --state-dir \"$STATE\" \"${@:2}\"; }\n"
            "printf 'a\\nb\\n' | dw exec -i i -- /bin/wc -l\n"
            "printf 'a\\nb\\n' | dw exec i -- /bin/wc -l\n"
            "printf 'x\\n' | dw run -i --rm bb -- /bin/cat\n"
            "printf 'x\\n' | dw run --rm bb -- /bin/cat\n"
            "echo end\n");
  setenv("DW", dw_.c_str(), 1);
  setenv("STATE", state_dir_.c_str(), 1);
  CliResult r = RunUnderTerminal(pipes, {});
  unsetenv("DW");
  unsetenv("STATE");
  EXPECT_EQ(NoCr(r.out), "2\n0\nx\nend\n");
}

}  // namespace
}  // namespace driftwatch::container::testing
