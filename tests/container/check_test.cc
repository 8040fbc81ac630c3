// `driftwatch check` on a host with containers: this launcher's container,
// another runtime's overlay container and another runtime's container on a
// plain directory root each report exactly their changes, next to the
// host's own, with the exit code saying drift. Runs the real binary
// ($DRIFTWATCH_BIN) with a small host rule file, so the host scan is quick.
#include <fcntl.h>
#include <sys/wait.h>

#include <chrono>
#include <set>
#include <thread>

#include "tests/container/fixture.h"
// After gtest: cpprest defines a U() macro that gtest's headers would see.
#include <cpprest/json.h>

namespace driftwatch::container::testing {
namespace {

std::string Slurp(int fd) {
  std::string out;
  lseek(fd, 0, SEEK_SET);
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

std::string ReadLinkOf(const std::string& path) {
  char buf[256];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// "mntns-<inode>" of a process's mount namespace.
std::string MntNsId(pid_t pid) {
  std::string link = ReadLinkOf("/proc/" + std::to_string(pid) + "/ns/mnt");  // mnt:[N]
  size_t a = link.find('['), b = link.find(']');
  if (a == std::string::npos || b == std::string::npos) return "";
  return "mntns-" + link.substr(a + 1, b - a - 1);
}

class CheckTest : public ContainerTest {
 protected:
  void SetUp() override {
    ContainerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    bin_ = getenv("DRIFTWATCH_BIN") != nullptr ? getenv("DRIFTWATCH_BIN") : "";
    if (bin_.empty()) GTEST_SKIP() << "needs DRIFTWATCH_BIN (set by meson test)";
    if (access("/usr/bin/unshare", X_OK) != 0) GTEST_SKIP() << "needs unshare (util-linux)";
    host_ = tmp_ + "/host";
    WriteFile(host_ + "/app.conf", "port 80\n");
    rules_ = tmp_ + "/host-rules.yaml";
    WriteFile(rules_, "version: 1\nrules:\n  - path: " + host_ + "/**\n    check: content\n");
  }

  // The driftwatch binary with the test's store, state dir and host rules.
  CliResult Dw(const std::vector<std::string>& args) {
    char out_tmpl[] = "/tmp/dwchk-out-XXXXXX", err_tmpl[] = "/tmp/dwchk-err-XXXXXX";
    int out_fd = mkstemp(out_tmpl), err_fd = mkstemp(err_tmpl);
    unlink(out_tmpl);
    unlink(err_tmpl);
    pid_t pid = fork();
    if (pid == 0) {
      dup2(out_fd, 1);
      dup2(err_fd, 2);
      setenv("DRIFTWATCH_STATE_DIR", state_dir_.c_str(), 1);
      std::vector<std::string> full = {bin_};
      full.insert(full.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (std::string& a : full) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CliResult r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = Slurp(out_fd);
    r.err = Slurp(err_fd);
    close(out_fd);
    close(err_fd);
    return r;
  }

  // Starts `script` under `unshare --mount --pid --fork` (another runtime's
  // way); the helper is killed in TearDown.
  pid_t Foreign(const std::string& script) {
    pid_t pid = StartForeign(script);
    helpers_.push_back(pid);
    return pid;
  }

  // Waits until `containers` lists a container with this id whose command
  // runs in `root`, so that a check sees it.
  bool WaitDiscovered(const std::string& id) {
    for (int i = 0; i < 100; ++i) {
      CliResult r = Cli({"containers", "--format", "json"});
      if (r.code == 0) {
        const web::json::value list = web::json::value::parse(r.out);
        for (const auto& v : list.as_array()) {
          if (v.at("id").as_string() == id) return true;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  struct Check {
    int code = -1;
    std::vector<std::string> events;  // "kind path", this test's paths only
    std::vector<std::string> warnings;
    std::string raw;
  };

  // `driftwatch check --format json`, keeping the events of the host
  // directory and of the containers whose labels are given (other tests'
  // containers may run on the same host meanwhile).
  Check RunCheck(const std::vector<std::string>& labels) {
    CliResult r = Dw({"check", "--rules", rules_, "--baseline", "t", "--format", "json"});
    Check c;
    c.code = r.code;
    c.raw = r.out + r.err;
    if (r.code != 0 && r.code != 1) return c;
    web::json::value v = web::json::value::parse(r.out);
    for (const auto& e : v.at("events").as_array()) {
      const std::string path = e.at("path").as_string();
      bool ours = path.rfind(host_ + "/", 0) == 0;
      bool container = path.rfind("container:", 0) == 0;
      for (const std::string& l : labels) ours = ours || path.rfind("container:" + l + ":", 0) == 0;
      // Anything else must be another test's container, never a host path.
      EXPECT_TRUE(ours || container) << "unexpected host event " << path;
      if (ours) c.events.push_back(e.at("kind").as_string() + " " + path);
    }
    for (const auto& w : v.at("warnings").as_array()) c.warnings.push_back(w.as_string());
    return c;
  }

  std::string bin_;
  std::string host_;
  std::string rules_;
};

bool Contains(const std::vector<std::string>& v, const std::string& needle) {
  for (const std::string& s : v) {
    if (s.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST_F(CheckTest, ListsExactlyTheContainersChangesNextToTheHosts) {
  ASSERT_EQ(Dw({"baseline", "create", "--rules", rules_, "--name", "t"}).code, 0);

  // This launcher's container.
  ASSERT_EQ(Cli({"run", "--detach", "--name", "own", "bb", "--", "/bin/sleep", "1000"}).code, 0);
  Sh("own", "rm /etc/hosts && echo hi > /etc/motd && chmod 600 /etc/group");
  // Another runtime's overlay container, changed from outside before chroot.
  const std::string lower = state_dir_ + "/images/bb/rootfs";
  const std::string o = tmp_ + "/other";
  for (const std::string& d : {o, o + "/upper", o + "/work", o + "/merged"}) mkdir(d.c_str(), 0755);
  const std::string m = o + "/merged";
  pid_t other =
      Foreign("set -e; mount --make-rprivate /; mount -t overlay overlay -o lowerdir=" + lower +
              ",upperdir=" + o + "/upper,workdir=" + o + "/work " + m + "; mount -t proc proc " +
              m + "/proc; echo changed > " + m + "/etc/passwd; rm -r " + m +
              "/opt/app; exec chroot " + m + " /bin/sleep 1000");
  // The host's own drift.
  WriteFile(host_ + "/app.conf", "port 8080\n");

  // The unshare process shares the namespace with the container's command.
  std::string other_id;
  for (int i = 0; i < 100 && other_id.empty(); ++i) {
    std::string id = MntNsId(other);
    if (!id.empty() && id != MntNsId(getpid())) other_id = id;
    if (other_id.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(other_id.empty());
  ASSERT_TRUE(WaitDiscovered(other_id));
  const std::string other_label = "unknown:" + other_id;

  Check c = RunCheck({"own", other_label});
  EXPECT_EQ(c.code, 1) << c.raw;
  EXPECT_EQ(c.events, (std::vector<std::string>{
                          "modified " + host_ + "/app.conf",
                          "modified container:own:/etc/group",
                          "removed container:own:/etc/hosts",
                          "added container:own:/etc/motd",
                          "modified container:" + other_label + ":/etc/passwd",
                          "removed container:" + other_label + ":/opt/app",
                      }))
      << c.raw;
}

TEST_F(CheckTest, APlainDirectoryRootIsScannedAgainstItsBaseline) {
  ASSERT_EQ(Dw({"baseline", "create", "--rules", rules_, "--name", "t"}).code, 0);
  // Another runtime's container on a plain directory (no overlay): a copy
  // of the image, chrooted into from a private mount and pid namespace.
  const std::string root = tmp_ + "/plain";
  auto cp = RunProgram({"/bin/cp", "-a", image_dir_, root});
  ASSERT_TRUE(cp.ok() && cp->first == 0);
  mkdir((root + "/proc").c_str(), 0555);
  pid_t other = Foreign("set -e; mount --make-rprivate /; mount -t proc proc " + root +
                        "/proc; exec chroot " + root + " /bin/sleep 1000");
  std::string id;
  for (int i = 0; i < 100 && id.empty(); ++i) {
    std::string now = MntNsId(other);
    if (!now.empty() && now != MntNsId(getpid())) id = now;
    if (id.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitDiscovered(id));
  const std::string label = "unknown:" + id;
  const std::string baseline = "container:unknown:" + id;

  // First check: the root becomes its baseline; no drift.
  Check first = RunCheck({label});
  // 0, or 1 when other containers on this host have drifted (their events
  // are not this test's: RunCheck keeps the label's).
  EXPECT_NE(first.code, 2) << first.raw;
  EXPECT_TRUE(first.events.empty()) << first.raw;
  EXPECT_TRUE(Contains(first.warnings, "baseline '" + baseline + "' recorded")) << first.raw;
  CliResult show = Dw({"baseline", "show", baseline, "--format", "json"});
  ASSERT_EQ(show.code, 0) << show.err;

  // Changes inside the container's root: a file, a symlink out to the
  // host's root (never followed), and a file the container rules ignore.
  WriteFile(root + "/etc/passwd", "root:x:0:0::/root:/bin/sh\nmallory:x:0:0::/:/bin/sh\n");
  ASSERT_EQ(symlink("/", (root + "/hostroot").c_str()), 0);
  WriteFile(root + "/tmp/scratch", "x\n");
  Check second = RunCheck({label});
  EXPECT_EQ(second.code, 1) << second.raw;
  EXPECT_EQ(second.events, (std::vector<std::string>{"modified container:" + label + ":/etc/passwd",
                                                     "added container:" + label + ":/hostroot"}))
      << second.raw;
  EXPECT_FALSE(Contains(second.warnings, "recorded")) << second.raw;

  // A third check without changes in between still reports them: the
  // baseline is only replaced by an explicit accept.
  Check third = RunCheck({label});
  EXPECT_EQ(third.events, second.events);
}

TEST_F(CheckTest, ImageImportRecordsTheImageTreeAsABaseline) {
  const Hash128 digest = StateDir(DefaultHost(), state_dir_).LoadImage("bb")->digest;
  const std::string name = "image:bb@" + digest.Hex();
  CliResult list = Dw({"baseline", "list", "--format", "json"});
  ASSERT_EQ(list.code, 0) << list.err;
  web::json::value found = web::json::value::null();
  const web::json::value all = web::json::value::parse(list.out);
  for (const auto& b : all.as_array()) {
    if (b.at("name").as_string() == name) found = b;
  }
  ASSERT_FALSE(found.is_null()) << list.out;
  // The digest is the root of the recorded tree.
  EXPECT_EQ(found.at("root").as_string(), digest.Hex());
  EXPECT_EQ(found.at("root_path").as_string(), state_dir_ + "/images/bb/rootfs");
  EXPECT_EQ(found.at("revision").as_integer(), 1);
  EXPECT_GT(found.at("stats").at("files").as_integer(), 5);

  // The same tree under another name: same digest, its own baseline.
  ASSERT_EQ(Cli({"image", "import", "bb2", image_dir_}).code, 0);
  EXPECT_EQ(StateDir(DefaultHost(), state_dir_).LoadImage("bb2")->digest, digest);
  EXPECT_EQ(Dw({"baseline", "show", "image:bb2@" + digest.Hex()}).code, 0);

  // A running container against its image's baseline, with the container
  // rules: /etc/hosts and /tmp are the runtime's to write, not drift.
  ASSERT_EQ(Cli({"run", "--detach", "--name", "c", "bb", "--", "/bin/sleep", "1000"}).code, 0);
  Sh("c", "rm /etc/hosts && echo t > /tmp/t && echo hi > /etc/motd && chmod 600 /etc/group");
  CliResult layer = Cli({"diff", "c"});
  EXPECT_EQ(Lines(layer.out),
            (std::vector<std::string>{"C /etc/group perm " + H("root:x:0:\n"), "D /etc/hosts",
                                      "A /etc/motd " + H("hi\n"), "A /tmp/t " + H("t\n")}));
  CliResult base = Cli({"diff", "--baseline", "c"});
  EXPECT_EQ(base.code, 1) << base.err;
  EXPECT_EQ(Lines(base.out), (std::vector<std::string>{"C /etc/group perm " + H("root:x:0:\n"),
                                                       "A /etc/motd " + H("hi\n")}))
      << base.out << base.err;
  // Stopped, there is no root to scan.
  ASSERT_EQ(Cli({"stop", "--timeout", "1", "c"}).code, 0);
  CliResult stopped = Cli({"diff", "--baseline", "c"});
  EXPECT_EQ(stopped.code, 2);
  EXPECT_NE(stopped.err.find("needs a running container"), std::string::npos) << stopped.err;
}

}  // namespace
}  // namespace driftwatch::container::testing
