// The collector as a systemd service (docs/collector.md "Running as a
// service"): SIGHUP at any moment, reloading the --config file, log_file
// reopened after rotation, and the sd_notify messages, against the real
// driftwatch-collector process on 127.0.0.1.
#include <sys/socket.h>
#include <sys/un.h>

#include <climits>
#include <regex>

#include "tests/collector/harness.h"

namespace driftwatch::collector_it {
namespace {

using std::chrono::milliseconds;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool Alive(pid_t pid) {
  int status = 0;
  return waitpid(pid, &status, WNOHANG) == 0;
}

// Polls until `pred` holds, for up to `limit`.
template <class Pred>
bool Eventually(Pred pred, milliseconds limit = milliseconds(10000)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return pred();
}

// A collector started from a config file with log_file set: its stdout and
// stderr go to that file, so the harness's start-up line is not used.
class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = FreePort();
    url_ = "http://127.0.0.1:" + std::to_string(port_);
    config_ = dir_ / "collector.yaml";
    log_ = dir_ / "collector.log";
  }
  std::string Config(const std::string& extra) const {
    return "version: 1\nlisten: 127.0.0.1:" + std::to_string(port_) +
           "\ndb: " + (dir_ / "collector.db") + "\nlog_file: " + log_ + "\n" + extra;
  }
  // Started as the unit starts it: through nohup, whose SIG_IGN for SIGHUP
  // survives execve and covers the dynamic loader's first milliseconds,
  // before the collector's own code runs (docs/decisions.md).
  void Start(const std::string& extra) {
    WriteFile(config_, Config(extra));
    proc_.Start({"/usr/bin/nohup", CollectorBin(), "--config", config_}, dir_ / "stderr.log",
                false);
    ASSERT_TRUE(WaitHangupHandled(proc_.pid())) << "SIGHUP not ignored within 5 s";
  }
  bool Healthy() { return Http("GET", url_ + "/healthz", "").status == 200; }
  void Hup() { ASSERT_EQ(kill(proc_.pid(), SIGHUP), 0); }
  // Waits for the log to say `text` (at least `count` times).
  bool Logged(const std::string& text, size_t count = 1, const std::string& file = "") {
    return Eventually([&] {
      const std::string log = ReadAll(file.empty() ? log_ : file);
      size_t n = 0;
      for (size_t pos = log.find(text); pos != std::string::npos; pos = log.find(text, pos + 1)) {
        ++n;
      }
      return n >= count;
    });
  }
  // An enroll request whose body is `size` bytes.
  int EnrollOfSize(const std::string& token, size_t size) {
    std::string body = R"({"host":"big","group":"","pad":")";
    body += std::string(size - body.size() - 2, 'x') + "\"}";
    return Http("POST", url_ + "/api/v1/enroll", token, body).status;
  }

  TempDir dir_;
  int port_ = 0;
  std::string url_, config_, log_;
  Process proc_;
};

// The default action of SIGHUP ends a process: the collector, started as
// its unit starts it, must survive one at any moment, and keep answering.
TEST_F(ServiceTest, SighupAtAnyMomentNeverKillsTheServer) {
  Start("");
  for (int delay_ms : {10, 100, 1000}) {
    std::this_thread::sleep_for(milliseconds(delay_ms));
    Hup();
    std::this_thread::sleep_for(milliseconds(50));
    EXPECT_TRUE(Alive(proc_.pid())) << "SIGHUP " << delay_ms << " ms after the last one";
    EXPECT_TRUE(Eventually([&] { return Healthy(); })) << "after SIGHUP at " << delay_ms << " ms";
  }
  EXPECT_TRUE(Logged("reloaded " + config_));
  EXPECT_EQ(proc_.Kill(SIGTERM), 0);
}

// A reload applies a new body limit (API) and header limit (HTTP front
// end) to the next requests, keeps the keys that need a restart, and a bad
// file keeps the running configuration with FILE:LINE:COL in the log.
TEST_F(ServiceTest, ReloadAppliesLiveKeysAndKeepsTheRest) {
  Start("max_body_bytes: 4096\nhttp:\n  max_header_fields: 50\n");
  ASSERT_TRUE(Eventually([&] { return Healthy(); })) << ReadAll(log_);
  Collector cli(dir_);  // the same database, for token create
  const std::string enroll = cli.Token("enroll");
  ASSERT_FALSE(enroll.empty());
  EXPECT_EQ(EnrollOfSize(enroll, 6000), 413);

  WriteFile(config_, Config("max_body_bytes: 65536\nhttp:\n  max_header_fields: 50\n") +
                         "listen_unused: 1\n");
  Hup();  // an unknown key: refused, the old limit stays
  ASSERT_TRUE(Logged(config_ + ":8:1: unknown key 'listen_unused'; keeping the running "
                               "configuration"))
      << ReadAll(log_);
  EXPECT_EQ(EnrollOfSize(enroll, 6000), 413);

  WriteFile(config_, "version: 1\nmax_body_bytes: [\n");
  Hup();  // bad YAML: refused with its position
  ASSERT_TRUE(Logged(config_ + ":3:1: end of sequence flow not found; keeping the running "
                               "configuration"))
      << ReadAll(log_);
  EXPECT_EQ(EnrollOfSize(enroll, 6000), 413);

  WriteFile(config_, Config("max_body_bytes: 65536\nhttp:\n  max_header_fields: 50\n  workers: "
                            "3\n") +
                         "web_root: " + dir_.path() + "\n");
  Hup();
  ASSERT_TRUE(Logged("reloaded " + config_, 1)) << ReadAll(log_);
  EXPECT_TRUE(Logged("web_root changed; takes effect at restart"));
  EXPECT_TRUE(Logged("http.workers changed; takes effect at restart"));
  EXPECT_EQ(EnrollOfSize(enroll, 6000), 201);  // the new body limit
  EXPECT_EQ(Http("GET", url_ + "/", "").status, 200) << "web_root kept until a restart";
  EXPECT_TRUE(Alive(proc_.pid()));
  EXPECT_EQ(proc_.Kill(SIGTERM), 0);
}

// logrotate moves the file, then sends SIGHUP: the collector writes a new
// file at the configured path, and nothing more into the moved one.
TEST_F(ServiceTest, SighupReopensTheLogFileAfterRotation) {
  Start("");
  ASSERT_TRUE(Eventually([&] { return Healthy(); }));
  ASSERT_TRUE(Logged(url_)) << "the URL line goes to log_file";
  const std::string rotated = log_ + ".1";
  ASSERT_EQ(rename(log_.c_str(), rotated.c_str()), 0);
  Hup();
  ASSERT_TRUE(Logged("reloaded " + config_)) << "no fresh " << log_;
  struct stat st {};
  ASSERT_EQ(stat(log_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  const std::string old = ReadAll(rotated);
  EXPECT_EQ(old.find("reloaded"), std::string::npos) << old;
  EXPECT_NE(old.find(url_), std::string::npos) << old;
  EXPECT_EQ(proc_.Kill(SIGTERM), 0);
  EXPECT_TRUE(Logged("stopping"));
}

// NOTIFY_SOCKET: READY=1 naming the URL once listening, RELOADING=1 then
// READY=1 around a reload, STOPPING=1 on SIGTERM.
TEST_F(ServiceTest, NotifiesTheServiceManager) {
  const std::string sock_path = dir_ / "notify.sock";
  const int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(sock, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
  ASSERT_EQ(bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  auto next = [&](int timeout_ms) -> std::string {
    pollfd p{sock, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1) return "(nothing)";
    char buf[4096];
    const ssize_t n = recv(sock, buf, sizeof buf, 0);
    return n < 0 ? "(error)" : std::string(buf, n);
  };
  setenv("NOTIFY_SOCKET", sock_path.c_str(), 1);
  Start("");
  unsetenv("NOTIFY_SOCKET");
  EXPECT_EQ(next(10000), "READY=1\nSTATUS=listening on " + url_);
  EXPECT_TRUE(Healthy());
  Hup();
  const std::string reloading = next(10000);
  EXPECT_TRUE(std::regex_match(reloading, std::regex("RELOADING=1\nMONOTONIC_USEC=[0-9]+")))
      << reloading;
  EXPECT_EQ(next(10000), "READY=1\nSTATUS=listening on " + url_);
  kill(proc_.pid(), SIGTERM);
  EXPECT_EQ(next(10000), "STOPPING=1");
  EXPECT_EQ(proc_.Kill(SIGTERM), 0);
  close(sock);
}

}  // namespace
}  // namespace driftwatch::collector_it
