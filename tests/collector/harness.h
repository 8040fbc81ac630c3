// Test harness for the collector integration tests: starts the real
// driftwatch-collector and driftwatch executables (paths from the
// environment set by tests/collector/meson.build) on 127.0.0.1, talks HTTP
// with cpprestsdk (Http(), defined in harness.cc so that the HTTP client's
// headers are compiled once, not in every test file), and keeps everything
// in a temporary directory.
//
// Fleet store: SQLite files by default. With DW_TEST_STORE=postgresql (the
// `collector-integration-pg` meson test) the test binary starts one
// throw-away PostgreSQL cluster (tests/pg/pg_cluster.h) and every Collector
// gets its own fresh, migrated database on it; the harness passes
// `--store postgresql://...` wherever it would pass `--db FILE`.
#ifndef DRIFTWATCH_TESTS_COLLECTOR_HARNESS_H_
#define DRIFTWATCH_TESTS_COLLECTOR_HARNESS_H_

#include <cpprest/json.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "core/drift.h"
#include "core/drift_json.h"
#include "tests/testing/run.h"
#ifdef DW_TEST_HAVE_PG
#include "tests/pg/pg_cluster.h"
#endif

namespace driftwatch::collector_it {

using web::json::value;

inline std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}
inline std::string CollectorBin() { return Env("DW_COLLECTOR_BIN"); }
inline std::string AgentBin() { return Env("DRIFTWATCH_BIN"); }

inline std::string Q(const std::string& s) { return testutil::Quote(s); }

// True when the collectors under test run on PostgreSQL.
inline bool UsePostgres() { return Env("DW_TEST_STORE") == "postgresql"; }

#ifdef DW_TEST_HAVE_PG
// The test binary's cluster: started before the first test, stopped after
// the last one. Every test is skipped (with the reason) when no cluster can
// run here.
class PgEnvironment : public ::testing::Environment {
 public:
  static pgtest::PgCluster*& cluster() {
    static pgtest::PgCluster* c = nullptr;
    return c;
  }
  void SetUp() override {
    if (!UsePostgres()) return;
    std::string skip = pgtest::PgCluster::SkipReason();
    if (!skip.empty()) GTEST_SKIP() << skip;
    auto* c = new pgtest::PgCluster;
    std::string err = c->Start();
    if (!err.empty()) {
      delete c;
      FAIL() << "starting the PostgreSQL cluster: " << err;
    }
    cluster() = c;
  }
  void TearDown() override {
    delete cluster();
    cluster() = nullptr;
  }
};
inline ::testing::Environment* const kPgEnvironment =
    ::testing::AddGlobalTestEnvironment(new PgEnvironment);
#endif

// A free TCP port on 127.0.0.1 (bound then released).
inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/dw_collector_it.XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { testutil::Run("rm -rf " + Q(path_)); }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

// A file only its owner may read, as the agent wants its token files.
inline void WriteSecretFile(const std::string& path, const std::string& content) {
  WriteFile(path, content);
  chmod(path.c_str(), 0600);
}

// A child process whose first stdout line is read (the collector's URL).
class Process {
 public:
  Process() = default;
  ~Process() { Kill(SIGKILL); }

  // Starts argv; stderr goes to log_path. Returns the first stdout line, or
  // "" when none came within 10 s (or at once when !wait_for_line).
  std::string Start(const std::vector<std::string>& argv, const std::string& log_path,
                    bool wait_for_line = true) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return "";
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(log, 2);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(out[1]);
    out_fd_ = out[0];
    if (!wait_for_line) return "";
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char c;
      if (read(out_fd_, &c, 1) != 1) break;
      if (c == '\n') return line;
      line.push_back(c);
    }
    return "";
  }

  // Sends sig and waits; returns the exit status (128+sig when killed).
  int Kill(int sig) {
    if (pid_ <= 0) return -1;
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    if (out_fd_ >= 0) close(out_fd_);
    out_fd_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
};

struct Answer {
  int status = 0;
  std::string body;
  value json() const { return value::parse(body); }
};

// One request with a 10 s timeout; `token` as a bearer token, `body` as
// JSON, `ca_file` to verify an https collector. status -1 and the error in
// body when no answer came.
Answer Http(const std::string& method, const std::string& url, const std::string& token,
            const std::string& body = "", const std::string& ca_file = "");

// The line `driftwatch enroll` prints after "enrolled as ..." when the
// collector has a signing key (docs/integrity.md), "" when it has none (a
// PostgreSQL collector without a state directory).
inline std::string PinnedKeyLine(const std::string& url, const std::string& token,
                                 const std::string& ca_file = "") {
  Answer a = Http("GET", url + "/api/v1/signing-key", token, "", ca_file);
  if (a.status != 200) return "";
  return "pinned the collector's signing key " + a.json().at("key_id").as_string() + "\n";
}

// A running collector on 127.0.0.1 with its own database: a SQLite file in
// `dir`, or (UsePostgres()) a new database on the test binary's cluster.
class Collector {
 public:
  explicit Collector(const TempDir& dir, std::string config = "")
      : db_(dir / "collector.db"), log_(dir / "collector.log"), config_(std::move(config)) {
    if (UsePostgres()) CreatePgDatabase();
  }

  // The flags naming this collector's store: {"--db", FILE} or
  // {"--store", URL}.
  std::vector<std::string> StoreArgs() const {
    if (store_url_.empty()) return {"--db", db_};
    return {"--store", store_url_};
  }
  // The same, quoted for a shell command line.
  std::string StoreFlags() const {
    std::vector<std::string> a = StoreArgs();
    return a[0] + " " + Q(a[1]);
  }

  // Starts on `port` (0 = let the collector pick); returns false on failure
  // (the reason is in log()).
  bool Start(int port = 0, const std::vector<std::string>& extra = {}) {
    if (UsePostgres() && store_url_.empty()) return false;
    std::vector<std::string> argv = {CollectorBin(), "--listen",
                                     "127.0.0.1:" + std::to_string(port)};
    for (const std::string& a : StoreArgs()) argv.push_back(a);
    if (!config_.empty()) {
      argv.push_back("--config");
      argv.push_back(config_);
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    url_ = proc_.Start(argv, log_);
    return !url_.empty();
  }
  int Stop() { return proc_.Kill(SIGTERM); }
  void Kill9() { proc_.Kill(SIGKILL); }

  std::string Token(const std::string& role) {
    auto r = testutil::Run(Q(CollectorBin()) + " token create " + StoreFlags() + " --role " + role);
    std::string t = r.out;
    while (!t.empty() && t.back() == '\n') t.pop_back();
    return t;
  }
  // Enrolls through the API and returns the agent token.
  std::string EnrollApi(const std::string& enroll_token, const std::string& host,
                        const std::string& group = "") {
    value b = value::object();
    b["host"] = value(host);
    b["group"] = value(group);
    Answer a = Http("POST", url_ + "/api/v1/enroll", enroll_token, b.serialize());
    if (a.status != 201) return "";
    return a.json().at("token").as_string();
  }
  Answer Get(const std::string& path, const std::string& token) {
    return Http("GET", url_ + path, token);
  }

  const std::string& url() const { return url_; }
  // The SQLite file (meaningful only when !UsePostgres()).
  const std::string& db() const { return db_; }
  // The PostgreSQL URL ("" on SQLite).
  const std::string& store_url() const { return store_url_; }
  const std::string& log() const { return log_; }
  pid_t pid() const { return proc_.pid(); }

 private:
  // A fresh database on the shared cluster, migrated; on failure the reason
  // goes to the log and Start() fails.
  void CreatePgDatabase() {
#ifdef DW_TEST_HAVE_PG
    static std::atomic<int> next{0};
    pgtest::PgCluster* cluster = PgEnvironment::cluster();
    if (cluster == nullptr) {
      WriteFile(log_, "no PostgreSQL cluster (see the environment's setup failure)\n");
      return;
    }
    const std::string name = "it_" + std::to_string(++next);
    std::string url = cluster->NewDatabase(name);
    if (url.empty()) {
      WriteFile(log_, "CREATE DATABASE " + name + " failed\n");
      return;
    }
    auto r = testutil::Run(Q(CollectorBin()) + " migrate --store " + Q(url) + " 2>&1");
    if (r.exit_code != 0) {
      WriteFile(log_, "migrate: " + r.out);
      return;
    }
    store_url_ = url;
#else
    WriteFile(log_, "DW_TEST_STORE=postgresql but this test binary was built without libpq\n");
#endif
  }

  std::string db_, log_, config_, url_, store_url_;
  Process proc_;
};

// The agents' rules in these tests: content of everything under /etc,
// severity high.
constexpr const char* kAgentRules =
    "version: 1\n"
    "rules:\n"
    "  - path: /etc/**\n"
    "    check: content\n"
    "    severity: high\n";

// A wire report as an agent sends it.
inline std::string ReportJson(const std::string& report_id, const std::string& host,
                              const std::vector<DriftEvent>& events, int64_t finished_ns) {
  CheckResult r;
  r.target = host;
  r.baseline = "default";
  r.baseline_revision = 1;
  r.started_ns = finished_ns - 1000000;
  r.finished_ns = finished_ns;
  r.events = events;
  value v = CheckResultToJson(r);
  v["format"] = value::number(1);
  v["report_id"] = value(report_id);
  v["host_id"] = value(host);
  v["agent_version"] = value("it");
  v["sent"] = value(FormatRfc3339Nanos(finished_ns));
  return v.serialize();
}

inline DriftEvent Added(const std::string& path, Severity sev = Severity::kHigh,
                        const std::string& rule = "/etc/**") {
  DriftEvent e;
  e.path = path;
  e.kind = DriftKind::kAdded;
  e.severity = sev;
  e.rule = rule;
  Entry n;
  n.mask = kAttrType | kAttrPerm;
  n.mode = 0644;
  e.new_entry = n;
  return e;
}

inline std::string Uuid(int n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", n);
  return buf;
}

// Every event matching `query` on /api/v1/drift, following cursors, oldest
// first unless `query` has an order. `base_url` is a collector's
// http://127.0.0.1:PORT.
inline std::vector<value> AllDrift(const std::string& base_url, const std::string& token,
                                   const std::string& query) {
  std::vector<value> out;
  std::string cursor;
  for (int page = 0; page < 1000; ++page) {
    std::string q = "/api/v1/drift?limit=500" + (query.empty() ? "" : "&" + query) +
                    (query.find("order=") == std::string::npos ? "&order=asc" : "") +
                    (cursor.empty() ? "" : "&cursor=" + cursor);
    Answer a = Http("GET", base_url + q, token);
    if (a.status != 200) {
      ADD_FAILURE() << q << ": " << a.status << " " << a.body;
      return out;
    }
    value v = a.json();
    for (const value& e : v.at("events").as_array()) out.push_back(e);
    if (v.at("next_cursor").is_null()) break;
    cursor = v.at("next_cursor").as_string();
  }
  return out;
}
inline std::vector<value> AllDrift(Collector& c, const std::string& token,
                                   const std::string& query) {
  return AllDrift(c.url(), token, query);
}

// The whole file at `path` ("" when it cannot be read).
inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Waits up to 5 s until `pid` ignores or catches SIGHUP ("SigIgn:" or
// "SigCgt:" of /proc/PID/status); whether it did. The units start both
// programs through nohup, which ignores SIGHUP within its first
// microseconds of CPU, before the program's own loader runs: that moment is
// their start. (A new process on a loaded machine may wait for a CPU far
// longer than that, so the moment is read, not assumed.)
inline bool WaitHangupHandled(pid_t pid) {
  const std::string status = "/proc/" + std::to_string(pid) + "/status";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string s = ReadAll(status);
    uint64_t mask = 0;
    for (const char* field : {"SigIgn:\t", "SigCgt:\t"}) {
      const size_t at = s.find(field);
      if (at != std::string::npos) mask |= std::stoull(s.substr(at + 8, 16), nullptr, 16);
    }
    if ((mask & (uint64_t{1} << (SIGHUP - 1))) != 0) return true;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return false;
}

constexpr int64_t kNov1Ns = 1793491200LL * 1000000000LL;  // 2026-11-01T00:00:00Z

// Report `n` of `host` as the agent queues it: finished n seconds after
// kNov1Ns, with `events` files added under /etc/report-NN/.
inline CheckResult Numbered(const std::string& host, int n, int events = 1) {
  CheckResult r;
  r.target = host;
  r.baseline = "default";
  r.baseline_revision = 1;
  r.started_ns = kNov1Ns + n * int64_t{1000000000};
  r.finished_ns = r.started_ns + 10;
  for (int i = 0; i < events; ++i) {
    char path[64];
    std::snprintf(path, sizeof path, "/etc/report-%02d/file-%04d", n, i);
    r.events.push_back(Added(path));
  }
  return r;
}

// The report ids of `events` in order, one per run of a report's events.
inline std::vector<std::string> ReportIdsOf(const std::vector<value>& events) {
  std::vector<std::string> ids;
  for (const value& e : events) {
    const std::string id = e.at("report_id").as_string();
    if (ids.empty() || ids.back() != id) ids.push_back(id);
  }
  return ids;
}

// Sorts events by id: the order the collector received them in.
inline void SortById(std::vector<value>& events) {
  std::sort(events.begin(), events.end(), [](const value& a, const value& b) {
    return a.at("id").as_number().to_int64() < b.at("id").as_number().to_int64();
  });
}

inline void ExpectAscendingIds(const std::vector<value>& events) {
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_LT(events[i - 1].at("id").as_number().to_int64(),
              events[i].at("id").as_number().to_int64());
  }
}

// Polls fn() until it returns true or `seconds` pass.
template <typename Fn>
bool WaitFor(Fn fn, double seconds) {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int>(seconds * 1000));
  while (std::chrono::steady_clock::now() < deadline) {
    if (fn()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return fn();
}

}  // namespace driftwatch::collector_it

#endif  // DRIFTWATCH_TESTS_COLLECTOR_HARNESS_H_
