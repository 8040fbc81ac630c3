// The collector as a real process: authentication, limits, verbatim
// storage of hostile strings, TLS and webhook alerts.
#include <cpprest/http_listener.h>
#include <sys/stat.h>

#include <atomic>
#include <mutex>
#include <set>

#include "tests/collector/harness.h"

namespace driftwatch::collector_it {
namespace {

// --config naming a FIFO or a device stops the collector at once with the
// reason, instead of blocking its start on a writer that never comes.
TEST(CollectorConfigFileTest, SpecialFilesAreRefusedAtStart) {
  TempDir dir;
  const std::string fifo = dir / "collector.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string& config : {fifo, std::string("/dev/zero")}) {
    // timeout(1) answers 124 if the collector blocks.
    auto r = testutil::Run("timeout -k 2 10 " + Q(CollectorBin()) + " --listen 127.0.0.1:0 --db " +
                           Q(dir / "c.db") + " --config " + Q(config) + " 2>&1");
    EXPECT_EQ(r.exit_code, 2) << config << ": " << r.out;
    EXPECT_NE(r.out.find(config + ": not a regular file"), std::string::npos) << r.out;
  }
}

class CollectorApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_ / "collector.yaml", "version: 1\nmax_body_bytes: 4096\n");
    collector_ = std::make_unique<Collector>(dir_, dir_ / "collector.yaml");
    ASSERT_TRUE(collector_->Start()) << testutil::Run("cat " + Q(collector_->log())).out;
    read_ = collector_->Token("read");
    enroll_ = collector_->Token("enroll");
    ASSERT_EQ(read_.size(), 67u);
  }

  TempDir dir_;
  std::unique_ptr<Collector> collector_;
  std::string read_, enroll_;
};

TEST_F(CollectorApiTest, AuthLimitsAndErrors) {
  const std::string url = collector_->url();
  ASSERT_EQ(url.rfind("http://127.0.0.1:", 0), 0u) << url;
  Answer a = Http("GET", url + "/api/v1/hosts", "");
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.body, R"({"detail":"missing bearer token","error":"unauthorized"})");
  EXPECT_EQ(Http("GET", url + "/api/v1/hosts", "dw_0000").status, 401);

  std::string web1 = collector_->EnrollApi(enroll_, "web-1", "web");
  std::string web2 = collector_->EnrollApi(enroll_, "web-2", "web");
  ASSERT_FALSE(web1.empty());
  ASSERT_FALSE(web2.empty());

  // Reporting as another agent's host id.
  a = Http("POST", url + "/api/v1/reports", web2, ReportJson(Uuid(1), "web-1", {}, 1));
  EXPECT_EQ(a.status, 403);
  EXPECT_EQ(a.body, R"({"detail":"this token belongs to host 'web-2' and cannot report as )"
                    R"('web-1'","error":"forbidden"})");
  // Malformed JSON.
  a = Http("POST", url + "/api/v1/reports", web1, "{\"format\": 1, \"events\": [");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.json().at("error").as_string(), "bad_request");
  // Wrong type.
  a = Http("POST", url + "/api/v1/reports", web1,
           R"({"format":1,"report_id":")" + Uuid(2) +
               R"(","host_id":"web-1","target":"web-1","baseline":"default","started":7})");
  EXPECT_EQ(a.body, R"({"detail":"started: expected a string","error":"invalid_report"})");
  // Oversize body (the test config caps bodies at 4096 bytes).
  std::vector<DriftEvent> many;
  for (int i = 0; i < 100; ++i) many.push_back(Added("/etc/f" + std::to_string(i)));
  a = Http("POST", url + "/api/v1/reports", web1, ReportJson(Uuid(3), "web-1", many, 1));
  EXPECT_EQ(a.status, 413);
  EXPECT_EQ(a.json().at("error").as_string(), "payload_too_large");
  // Unknown host.
  EXPECT_EQ(collector_->Get("/api/v1/hosts/nobody", read_).status, 404);
  // An agent token cannot read the fleet; a read token cannot queue commands.
  EXPECT_EQ(collector_->Get("/api/v1/drift", web1).status, 403);
  EXPECT_EQ(
      Http("POST", url + "/api/v1/hosts/web-1/commands", read_, R"({"command":"baseline"})").status,
      403);
  // Nothing of the refused reports was stored.
  EXPECT_TRUE(AllDrift(*collector_, read_, "").empty());
  EXPECT_EQ(Http("GET", url + "/healthz", "").body, R"({"status":"ok"})");
  EXPECT_EQ(collector_->Stop(), 0);
}

TEST_F(CollectorApiTest, SqlMetacharactersAreStoredAndReturnedVerbatim) {
  const std::string url = collector_->url();
  std::string tok = collector_->EnrollApi(enroll_, "db-1", "db");
  ASSERT_FALSE(tok.empty());
  const std::string nasty_path = "/etc/x'; DROP TABLE events;-- \"%_\\";
  const std::string nasty_rule = "' OR 1=1 -- (rules.yaml:1)";
  std::vector<DriftEvent> ev = {Added(nasty_path, Severity::kHigh, nasty_rule),
                                Added("/etc/100%", Severity::kLow, "x\" OR \"\"=\"")};
  Answer a = Http("POST", url + "/api/v1/reports", tok, ReportJson(Uuid(10), "db-1", ev, 5));
  ASSERT_EQ(a.status, 200) << a.body;

  auto enc = [](const std::string& s) { return web::uri::encode_data_string(s); };
  const std::string escaped = EscapePath(nasty_path);
  // Exact path through GLOB (no glob characters in it) and through history.
  auto events = AllDrift(*collector_, read_, "path=" + enc(escaped));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at("path").as_string(), escaped);
  EXPECT_EQ(events[0].at("rule").as_string(), nasty_rule);
  a = collector_->Get("/api/v1/paths/history?path=" + enc(escaped), read_);
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.json().at("events").size(), 1u);
  EXPECT_EQ(a.json().at("path").as_string(), escaped);
  EXPECT_EQ(a.json().at("events")[0].at("rule").as_string(), nasty_rule);
  events = AllDrift(*collector_, read_, "path=" + enc("/etc/100%"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at("rule").as_string(), "x\" OR \"\"=\"");
  // Metacharacters in every filter match nothing and break nothing.
  for (const std::string& q :
       {"host=" + enc("db-1' OR '1'='1"), "group=" + enc("db' --"), "path=" + enc("' OR 1=1 --"),
        "host=" + enc("db-1\"; DELETE FROM events; --")}) {
    EXPECT_TRUE(AllDrift(*collector_, read_, q).empty()) << q;
  }
  for (const std::string& q : {"kind=" + enc("added' OR 1=1"), "severity=" + enc("low;--"),
                               "since=" + enc("2026' OR 1=1")}) {
    EXPECT_EQ(collector_->Get("/api/v1/drift?" + q, read_).status, 400) << q;
  }
  EXPECT_EQ(AllDrift(*collector_, read_, "").size(), 2u);
  // Host ids with metacharacters are refused at enrollment.
  EXPECT_TRUE(collector_->EnrollApi(enroll_, "x'; DROP TABLE hosts;--").empty());
}

TEST(CollectorTlsTest, ServesHttpsWithTheGivenCertificate) {
  TempDir dir;
  auto gen = testutil::Run(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -keyout " +
      Q(dir / "key.pem") + " -out " + Q(dir / "cert.pem") + " 2>&1");
  ASSERT_EQ(gen.exit_code, 0) << gen.out;
  Collector c(dir);
  ASSERT_TRUE(c.Start(0, {"--tls-cert", dir / "cert.pem", "--tls-key", dir / "key.pem"}))
      << testutil::Run("cat " + Q(c.log())).out;
  ASSERT_EQ(c.url().rfind("https://127.0.0.1:", 0), 0u) << c.url();
  Answer a = Http("GET", c.url() + "/healthz", "", "", dir / "cert.pem");
  EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body, R"({"status":"ok"})");
  // Plain HTTP to the TLS port gets no API answer.
  std::string plain = "http://" + c.url().substr(8);
  EXPECT_NE(Http("GET", plain + "/healthz", "").status, 200);
  // The agent enrolls over TLS, verifying the certificate.
  std::string enroll = c.Token("enroll");
  auto r = testutil::Run(Q(AgentBin()) + " enroll --collector " + Q(c.url()) + " --token " +
                         Q(enroll) + " --name tls-1 --db " + Q(dir / "agent.db") + " --ca-file " +
                         Q(dir / "cert.pem") + " 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "enrolled as tls-1 with " + c.url() + "\n" +
                       PinnedKeyLine(c.url(), enroll, dir / "cert.pem"));
  // Without the CA the certificate is not trusted.
  r = testutil::Run(Q(AgentBin()) + " enroll --collector " + Q(c.url()) + " --token " + Q(enroll) +
                    " --name tls-2 --db " + Q(dir / "agent2.db") + " 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_EQ(c.Stop(), 0);
}

// A webhook receiver on loopback that records every POST body and the
// status it answered with.
class Receiver {
 public:
  struct Hit {
    std::string body;
    int status;
  };
  explicit Receiver(int status) : status_(status) {
    port_ = FreePort();
    listener_ = std::make_unique<web::http::experimental::listener::http_listener>(
        web::uri("http://127.0.0.1:" + std::to_string(port_) + "/hook"));
    listener_->support(web::http::methods::POST, [this](web::http::http_request req) {
      std::string body = req.extract_utf8string(true).get();
      int status = status_.load();
      {
        std::lock_guard<std::mutex> lock(mu_);
        hits_.push_back({body, status});
      }
      req.reply(static_cast<web::http::status_code>(status)).wait();
    });
    listener_->open().wait();
  }
  ~Receiver() { listener_->close().wait(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::vector<Hit> hits() {
    std::lock_guard<std::mutex> lock(mu_);
    return hits_;
  }
  // Bodies answered with 200.
  std::vector<std::string> delivered() {
    std::vector<std::string> out;
    for (const Hit& h : hits()) {
      if (h.status == 200) out.push_back(h.body);
    }
    return out;
  }
  void set_status(int s) { status_ = s; }

 private:
  int port_;
  std::atomic<int> status_;
  std::unique_ptr<web::http::experimental::listener::http_listener> listener_;
  std::mutex mu_;
  std::vector<Hit> hits_;
};

TEST(CollectorAlertTest, ExactlyOneWebhookPerQualifyingEvent) {
  TempDir dir;
  Receiver hook(503);  // refuses at first: alerts must be retried, not lost
  Receiver slack(200);
  WriteFile(dir / "collector.yaml",
            "version: 1\nalerts:\n"
            "  - name: ops\n    min_severity: high\n    webhook: " +
                hook.url() +
                "\n  - name: chat\n    min_severity: critical\n"
                "    groups: [web]\n    format: slack\n    webhook: " +
                slack.url() + "\n");
  Collector c(dir, dir / "collector.yaml");
  ASSERT_TRUE(c.Start()) << testutil::Run("cat " + Q(c.log())).out;
  std::string enroll = c.Token("enroll");
  std::string web = c.EnrollApi(enroll, "web-1", "web");
  std::string db = c.EnrollApi(enroll, "db-1", "db");
  std::vector<DriftEvent> ev = {Added("/etc/low", Severity::kLow),
                                Added("/etc/high", Severity::kHigh),
                                Added("/etc/crit", Severity::kCritical)};
  std::string report = ReportJson(Uuid(20), "web-1", ev, 100);
  ASSERT_EQ(Http("POST", c.url() + "/api/v1/reports", web, report).status, 200);
  ASSERT_EQ(Http("POST", c.url() + "/api/v1/reports", web, report).status, 200);  // duplicate
  ASSERT_EQ(Http("POST", c.url() + "/api/v1/reports", db,
                 ReportJson(Uuid(21), "db-1", {Added("/etc/db", Severity::kCritical)}, 200))
                .status,
            200);
  ASSERT_TRUE(WaitFor([&] { return hook.hits().size() >= 3; }, 10));
  hook.set_status(200);
  ASSERT_TRUE(WaitFor([&] { return hook.delivered().size() >= 3; }, 15));
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // nothing more may come

  std::vector<std::string> got;
  std::set<int64_t> delivered_ids;
  for (const std::string& b : hook.delivered()) {
    value v = value::parse(b);
    EXPECT_EQ(v.at("alert").as_string(), "ops");
    got.push_back(v.at("host").as_string() + ":" + v.at("event").at("path").as_string() + ":" +
                  v.at("event").at("severity").as_string());
    delivered_ids.insert(v.at("alert_id").as_number().to_int64());
  }
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"db-1:/etc/db:critical", "web-1:/etc/crit:critical",
                                           "web-1:/etc/high:high"}));
  EXPECT_EQ(delivered_ids.size(), 3u);
  // Refused attempts were retries of those same alerts, nothing else.
  for (const Receiver::Hit& h : hook.hits()) {
    EXPECT_EQ(delivered_ids.count(value::parse(h.body).at("alert_id").as_number().to_int64()), 1u);
  }
  std::vector<std::string> chat = slack.delivered();
  ASSERT_EQ(chat.size(), 1u);
  EXPECT_EQ(chat[0],
            R"({"text":"driftwatch: critical drift on web-1: added /etc/crit rule /etc/** )"
            R"([alert 3]"})");
  EXPECT_EQ(slack.hits().size(), 1u);
  EXPECT_EQ(c.Stop(), 0);
}

// Alert routes follow a reload (SIGHUP): an event that came before its
// route existed is not alerted, one after it is; a route removed by the
// next reload alerts no more.
TEST(CollectorAlertTest, RoutesFollowAReload) {
  TempDir dir;
  Receiver hook(200);
  WriteFile(dir / "collector.yaml", "version: 1\n");
  Collector c(dir, dir / "collector.yaml");
  ASSERT_TRUE(c.Start()) << testutil::Run("cat " + Q(c.log())).out;
  std::string web = c.EnrollApi(c.Token("enroll"), "web-1", "web");
  auto report = [&](int n, const std::string& path) {
    return Http("POST", c.url() + "/api/v1/reports", web,
                ReportJson(Uuid(40 + n), "web-1", {Added(path, Severity::kCritical)}, 100 + n))
        .status;
  };
  auto reload = [&](const std::string& yaml, int times) {
    WriteFile(dir / "collector.yaml", yaml);
    ASSERT_EQ(kill(c.pid(), SIGHUP), 0);
    ASSERT_TRUE(WaitFor(
        [&] {
          const std::string log = ReadAll(c.log());
          size_t n = 0;
          for (size_t at = log.find("reloaded"); at != std::string::npos;
               at = log.find("reloaded", at + 1)) {
            ++n;
          }
          return n >= static_cast<size_t>(times);
        },
        10))
        << ReadAll(c.log());
  };

  ASSERT_EQ(report(1, "/etc/before"), 200);
  reload("version: 1\nalerts:\n  - name: ops\n    min_severity: high\n    webhook: " + hook.url() +
             "\n",
         1);
  ASSERT_EQ(report(2, "/etc/after"), 200);
  ASSERT_TRUE(WaitFor([&] { return hook.delivered().size() >= 1; }, 10));
  reload("version: 1\n", 2);
  ASSERT_EQ(report(3, "/etc/removed"), 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // nothing more may come

  std::vector<std::string> paths;
  for (const std::string& b : hook.delivered()) {
    paths.push_back(value::parse(b).at("event").at("path").as_string());
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"/etc/after"}));
  EXPECT_EQ(c.Stop(), 0);
}

}  // namespace
}  // namespace driftwatch::collector_it
