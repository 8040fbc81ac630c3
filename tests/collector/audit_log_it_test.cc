// The collector's access and audit log (docs/operations.md "Logs") on a real
// collector on 127.0.0.1, in both formats: an enrollment, admin requests,
// failed sign-ins until the lockout; the whole set of audit lines is
// asserted, no token appears anywhere in the log, and SIGHUP after the file
// was moved (logrotate) writes a new file at the configured path.
#include <sys/stat.h>

#include <map>
#include <set>

#include "tests/collector/harness.h"

namespace driftwatch::collector_it {
namespace {

using Fields = std::map<std::string, std::string>;

// One text line: "TIME LEVEL MSG key=value ..." with values bare or in
// double quotes (\" \\ \n \r \t \xNN escapes).
Fields ParseTextLine(const std::string& line) {
  Fields f;
  size_t i = 0;
  auto word = [&]() {
    std::string out;
    if (i < line.size() && line[i] == '"') {
      for (++i; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\' && i + 1 < line.size()) ++i;
        out += line[i];
      }
      ++i;
    } else {
      while (i < line.size() && line[i] != ' ' && line[i] != '=') out += line[i++];
    }
    return out;
  };
  f["time"] = word();
  ++i;
  f["level"] = word();
  ++i;
  f["msg"] = word();
  while (i < line.size() && line[i] == ' ') {
    ++i;
    std::string key = word();
    if (i >= line.size() || line[i] != '=') break;
    ++i;
    f[key] = word();
  }
  return f;
}

Fields ParseJsonLine(const std::string& line) {
  Fields f;
  const value v = value::parse(line);
  for (const auto& [k, x] : v.as_object()) {
    f[k] = x.is_string() ? x.as_string() : x.serialize();
  }
  return f;
}

std::vector<Fields> Lines(const std::string& log, bool json) {
  std::vector<Fields> out;
  size_t at = 0;
  while (at < log.size()) {
    size_t end = log.find('\n', at);
    if (end == std::string::npos) end = log.size();
    const std::string line = log.substr(at, end - at);
    at = end + 1;
    if (line.empty()) continue;
    out.push_back(json ? ParseJsonLine(line) : ParseTextLine(line));
  }
  return out;
}

// The audit fields a test can know in advance (the time and duration
// cannot be).
std::string AuditKey(const Fields& f) {
  std::string out;
  for (const char* k : {"level", "event", "outcome", "client", "method", "route", "path", "status",
                        "role", "host", "error"}) {
    auto it = f.find(k);
    out += std::string(k) + "=" + (it == f.end() ? "" : it->second) + " ";
  }
  return out;
}

class AuditLogTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (UsePostgres()) GTEST_SKIP() << "the log does not depend on the store";
    port_ = FreePort();
    url_ = "http://127.0.0.1:" + std::to_string(port_);
    log_ = dir_ / "collector.log";
    config_ = dir_ / "collector.yaml";
    WriteFile(config_, "version: 1\nlisten: 127.0.0.1:" + std::to_string(port_) +
                           "\ndb: " + (dir_ / "collector.db") + "\nlog_file: " + log_ +
                           "\nlog_format: " + GetParam() + "\nlog_level: info\n");
  }
  bool json() const { return std::string(GetParam()) == "json"; }
  std::string Token(const std::string& role) {
    auto r = testutil::Run(Q(CollectorBin()) + " token create --db " + Q(dir_ / "collector.db") +
                           " --role " + role);
    std::string t = r.out;
    while (!t.empty() && t.back() == '\n') t.pop_back();
    return t;
  }
  bool WaitFor(const std::function<bool()>& pred, int seconds = 10) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return pred();
  }
  // The audit lines of `file`, as AuditKey()s.
  std::vector<std::string> Audit(const std::string& file) {
    std::vector<std::string> out;
    for (const Fields& f : Lines(ReadAll(file), json())) {
      EXPECT_TRUE(f.count("time") && f.count("level") && f.count("msg")) << AuditKey(f);
      if (f.at("msg") == "audit") out.push_back(AuditKey(f));
    }
    return out;
  }

  TempDir dir_;
  int port_ = 0;
  std::string url_, log_, config_;
  Process proc_;
};

TEST_P(AuditLogTest, AuditLinesForSignInsLockoutAdminRequestsAndEnrollment) {
  const std::string admin = Token("admin");
  const std::string enroll = Token("enroll");
  const std::string read = Token("read");
  ASSERT_FALSE(admin.empty());
  ASSERT_FALSE(enroll.empty());
  proc_.Start({CollectorBin(), "--config", config_}, dir_ / "stderr.log", false);
  ASSERT_TRUE(WaitFor([&] { return Http("GET", url_ + "/healthz", "").status == 200; }))
      << ReadAll(dir_ / "stderr.log") << ReadAll(log_);

  auto key = [](const std::string& level, const std::string& event, const std::string& outcome,
                const std::string& method, const std::string& route, const std::string& path,
                int status, const std::string& role, const std::string& host,
                const std::string& error) {
    Fields f = {{"level", level},     {"event", event},
                {"outcome", outcome}, {"client", "127.0.0.1"},
                {"method", method},   {"route", route},
                {"path", path},       {"status", std::to_string(status)}};
    if (!role.empty()) f["role"] = role;
    if (!host.empty()) f["host"] = host;
    if (!error.empty()) f["error"] = error;
    return AuditKey(f);
  };
  std::vector<std::string> want;

  // An enrollment, then the same host again (refused).
  value b = value::object();
  b["host"] = value("web-1");
  b["group"] = value("web");
  Answer e = Http("POST", url_ + "/api/v1/enroll", enroll, b.serialize());
  ASSERT_EQ(e.status, 201) << e.body;
  const std::string agent = e.json().at("token").as_string();
  want.push_back(key("info", "enroll", "ok", "POST", "/api/v1/enroll", "/api/v1/enroll", 201,
                     "enroll", "web-1", ""));
  Answer again = Http("POST", url_ + "/api/v1/enroll", enroll, b.serialize());
  ASSERT_EQ(again.status, 409) << again.body;
  want.push_back(key("warn", "enroll", "refused", "POST", "/api/v1/enroll", "/api/v1/enroll", 409,
                     "enroll", "", value::parse(again.body).at("error").as_string()));

  // Admin requests, whatever their route, with their outcome.
  ASSERT_EQ(Http("GET", url_ + "/api/v1/hosts", admin).status, 200);
  want.push_back(key("info", "admin_request", "ok", "GET", "/api/v1/hosts", "/api/v1/hosts", 200,
                     "admin", "", ""));
  ASSERT_EQ(Http("POST", url_ + "/api/v1/hosts/web-1/commands", admin, R"({"command":"check-now"})")
                .status,
            201);
  want.push_back(key("info", "admin_request", "ok", "POST", "/api/v1/hosts/{id}/commands",
                     "/api/v1/hosts/web-1/commands", 201, "admin", "", ""));
  ASSERT_EQ(Http("GET", url_ + "/api/v1/hosts/nosuch", admin).status, 404);
  want.push_back(key("warn", "admin_request", "refused", "GET", "/api/v1/hosts/{id}",
                     "/api/v1/hosts/nosuch", 404, "admin", "", "not_found"));
  // Not audited: a reader, an agent.
  ASSERT_EQ(Http("GET", url_ + "/api/v1/hosts", read).status, 200);
  ASSERT_EQ(Http("GET", url_ + "/api/v1/agents/commands", agent).status, 200);

  // Failed sign-ins until the lockout (20 allowed in a burst).
  int failed = 0, locked = 0;
  for (int i = 0; i < 40 && locked == 0; ++i) {
    const int status = Http("GET", url_ + "/api/v1/hosts", "dw_wrong_" + std::to_string(i)).status;
    ASSERT_TRUE(status == 401 || status == 429) << status;
    if (status == 401) {
      ++failed;
      want.push_back(key("warn", "sign_in_failed", "refused", "GET", "/api/v1/hosts",
                         "/api/v1/hosts", 401, "", "", "unauthorized"));
    } else {
      ++locked;
      want.push_back(key("warn", "lockout", "refused", "GET", "/api/v1/hosts", "/api/v1/hosts", 429,
                         "", "", "too_many_requests"));
    }
  }
  EXPECT_GE(failed, 20);
  EXPECT_EQ(locked, 1);

  ASSERT_TRUE(WaitFor([&] { return Audit(log_).size() >= want.size(); })) << ReadAll(log_);
  EXPECT_EQ(Audit(log_), want) << ReadAll(log_);

  // Every line has a time, a level and a message (Audit checks), and every
  // request its access line.
  size_t access = 0;
  for (const Fields& f : Lines(ReadAll(log_), json())) access += f.at("msg") == "access";
  EXPECT_EQ(access, want.size() + 2) << "the reader's and the agent's requests";

  // Logrotate: move the file, SIGHUP; a new file at the same path.
  const std::string rotated = log_ + ".1";
  ASSERT_EQ(rename(log_.c_str(), rotated.c_str()), 0);
  ASSERT_EQ(kill(proc_.pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitFor([&] { return ReadAll(log_).find("reloaded") != std::string::npos; }))
      << "no fresh " << log_;
  struct stat st {};
  ASSERT_EQ(stat(log_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  // Once the lockout is over, an admin request lands in the new file only.
  ASSERT_TRUE(
      WaitFor([&] { return Http("GET", url_ + "/api/v1/fleet/summary", admin).status == 200; }));
  ASSERT_TRUE(WaitFor([&] {
    const auto a = Audit(log_);
    return !a.empty() &&
           a.back() == key("info", "admin_request", "ok", "GET", "/api/v1/fleet/summary",
                           "/api/v1/fleet/summary", 200, "admin", "", "");
  })) << ReadAll(log_);
  EXPECT_EQ(ReadAll(rotated).find("/api/v1/fleet/summary"), std::string::npos);
  EXPECT_EQ(proc_.Kill(SIGTERM), 0);

  // No token, in any form, anywhere.
  const std::string all = ReadAll(rotated) + ReadAll(log_) + ReadAll(dir_ / "stderr.log");
  for (const std::string& t : {admin, enroll, read, agent, std::string("dw_wrong_")}) {
    EXPECT_EQ(all.find(t), std::string::npos) << t;
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, AuditLogTest, ::testing::Values("text", "json"));

}  // namespace
}  // namespace driftwatch::collector_it
