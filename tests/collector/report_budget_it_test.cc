// Reports and their size (docs/wire.md "Reports over the budget", "Agent
// side"): a drift too big for one report still reaches the collector with
// its critical events and exact counts; a hostile collector can exhaust
// neither the agent's memory nor its time; only a validation error the
// collector names loses a report; a refused report is counted, recorded
// and alerted at the collector.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>

#include "report/client.h"
#include "report/outbox.h"
#include "report/reporter.h"
#include "tests/collector/agent_outbox.h"
#include "tests/collector/harness.h"
#include "tests/collector/scripted_collector.h"

namespace driftwatch::collector_it {
namespace {

using report::DeliveryOptions;
using report::Enrollment;
using report::Outbox;

// /etc/passwd is critical, the rest of /etc high, /srv medium.
constexpr const char* kRules =
    "version: 1\n"
    "rules:\n"
    "  - path: /etc/passwd\n"
    "    check: content\n"
    "    severity: critical\n"
    "  - path: /etc/**\n"
    "    check: content\n"
    "    severity: high\n"
    "  - path: /srv/**\n"
    "    check: content\n"
    "    severity: medium\n";

struct ProcessResult {
  int exit_code = -1;
  double seconds = 0;
  long max_rss_kib = 0;  // ru_maxrss of the process
  std::string err;
};

// Runs argv with stdout to /dev/null and stderr captured to `log`; waits
// with wait4 for its peak memory.
ProcessResult RunMeasured(const std::vector<std::string>& argv, const std::string& log) {
  ProcessResult out;
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    int l = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(l, 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  out.max_rss_kib = ru.ru_maxrss;
  out.err = ReadAll(log);
  return out;
}

// Stores an enrollment with `url` in the agent database, as `driftwatch
// enroll` would.
void SaveEnrollment(const std::string& agent_db, const std::string& url, const std::string& host,
                    const std::string& token) {
  auto outbox = Outbox::Open(agent_db);
  ASSERT_TRUE(outbox.ok()) << outbox.status().message();
  ASSERT_TRUE((*outbox)->SaveEnrollment(Enrollment{url, host, token, "", ""}).ok());
}

void MakeFile(const std::string& path, const std::string& content) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  close(fd);
}

// A root with /etc/passwd and an empty /srv/data, baselined.
class AgentRoot {
 public:
  explicit AgentRoot(const TempDir& dir)
      : root_(dir / "root"), rules_(dir / "rules.yaml"), db_(dir / "agent.db") {
    WriteFile(rules_, kRules);
    for (const std::string& d : {root_, root_ + "/etc", root_ + "/srv", root_ + "/srv/data"}) {
      mkdir(d.c_str(), 0755);
    }
    MakeFile(root_ + "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
    MakeFile(root_ + "/etc/hostname", "web-1\n");
    auto r = testutil::Run(Q(AgentBin()) + " baseline create" + Flags() + " 2>&1");
    EXPECT_EQ(r.exit_code, 0) << r.out;
  }
  std::string Flags() const {
    return " --root " + Q(root_) + " --rules " + Q(rules_) + " --db " + Q(db_);
  }
  std::vector<std::string> CheckReportArgv() const {
    return {AgentBin(), "check", "--report", "--root", root_, "--rules", rules_, "--db", db_};
  }
  const std::string& root() const { return root_; }
  const std::string& db() const { return db_; }

 private:
  std::string root_, rules_, db_;
};

int64_t Count(const value& counts, const char* name) {
  return counts.has_field(name) ? counts.at(name).as_number().to_int64() : -1;
}

TEST(ReportBudgetTest, SixtyThousandFilesDoNotHideAChangedPasswd) {
  TempDir dir;
  Collector c(dir);
  ASSERT_TRUE(c.Start()) << ReadAll(c.log());
  const std::string read = c.Token("read");
  AgentRoot agent(dir);
  auto enrolled =
      testutil::Run(Q(AgentBin()) + " enroll --collector " + Q(c.url()) + " --token " +
                    Q(c.Token("enroll")) + " --name web-1 --db " + Q(agent.db()) + " 2>&1");
  ASSERT_EQ(enrolled.exit_code, 0) << enrolled.out;

  // 60,000 files in 60 directories (60,060 added entries), then
  // /etc/passwd changed.
  const auto t0 = std::chrono::steady_clock::now();
  for (int d = 0; d < 60; ++d) {
    const std::string sub = agent.root() + "/srv/data/d" + std::to_string(d);
    ASSERT_EQ(mkdir(sub.c_str(), 0755), 0);
    for (int f = 0; f < 1000; ++f) {
      MakeFile(sub + "/f" + std::to_string(f), std::to_string(d * 1000 + f));
    }
  }
  MakeFile(agent.root() + "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\nevil::0:0::/:/bin/sh\n");
  std::fprintf(stderr, "60,000 files written in %.2f s\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

  ProcessResult r = RunMeasured(agent.CheckReportArgv(), dir / "check.log");
  std::fprintf(stderr, "check --report: %.2f s, max RSS %ld KiB\n", r.seconds, r.max_rss_kib);
  EXPECT_EQ(r.exit_code, 1) << r.err;  // drift found
  EXPECT_NE(r.err.find("delivered"), std::string::npos) << r.err;
  EXPECT_TRUE(PendingReports(agent.db()).empty()) << r.err;

  // The host is drifted with the exact counts of the whole check.
  Answer h = c.Get("/api/v1/hosts/web-1", read);
  ASSERT_EQ(h.status, 200) << h.body;
  value host = h.json();
  EXPECT_TRUE(host.at("drifted").as_bool());
  EXPECT_EQ(host.at("last_report_events").as_number().to_int64(), 60061);
  const value& s = host.at("last_report_summary");
  EXPECT_EQ(s.at("events").as_number().to_int64(), 60061);
  EXPECT_EQ(Count(s.at("kinds"), "added"), 60060);
  EXPECT_EQ(Count(s.at("kinds"), "modified"), 1);
  EXPECT_EQ(Count(s.at("kinds"), "removed"), 0);
  EXPECT_EQ(Count(s.at("severities"), "critical"), 1);
  EXPECT_EQ(Count(s.at("severities"), "high"), 0);
  EXPECT_EQ(Count(s.at("severities"), "medium"), 60060);
  EXPECT_EQ(Count(s.at("severities"), "low"), 0);
  const int64_t listed = s.at("listed").as_number().to_int64();
  const int64_t folded = s.at("folded").as_number().to_int64();
  EXPECT_GT(folded, 0);
  EXPECT_EQ(listed + folded, 60061);
  // The folded events are summarised under their common prefixes.
  int64_t under_prefixes = 0;
  for (const value& p : s.at("folded_prefixes").as_array()) {
    EXPECT_EQ(p.at("prefix").as_string().rfind("/srv/data/", 0), 0u) << p.serialize();
    under_prefixes += p.at("events").as_number().to_int64();
  }
  EXPECT_EQ(under_prefixes, folded);
  EXPECT_EQ(host.at("reports_refused").at("count").as_number().to_int64(), 0);
  std::fprintf(stderr, "host read at %.2f s\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

  // /etc/passwd is stored as a critical event.
  auto critical = AllDrift(c, read, "host=web-1&severity=critical");
  ASSERT_EQ(critical.size(), 1u);
  EXPECT_EQ(critical[0].at("path").as_string(), "/etc/passwd");
  EXPECT_EQ(critical[0].at("kind").as_string(), "modified");
  std::fprintf(stderr, "critical read at %.2f s\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  EXPECT_EQ(static_cast<int64_t>(AllDrift(c, read, "host=web-1").size()), listed);
  std::fprintf(stderr, "all read at %.2f s\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  // The fleet list stays small.
  Answer list = c.Get("/api/v1/hosts", read);
  EXPECT_LT(list.body.size(), 4096u) << list.body.substr(0, 500);
  EXPECT_EQ(c.Stop(), 0);
}

// A collector that answers a report with an endless body (or a byte at a
// time) costs the agent neither memory nor more than its deadline, and
// the report stays queued.
TEST(ReportBudgetTest, AnEndlessAnswerLeavesTheAgentSmallAndTheReportQueued) {
  for (const bool trickle : {false, true}) {
    SCOPED_TRACE(trickle ? "trickle" : "endless");
    TempDir dir;
    ScriptedCollector hostile([](const ScriptedRequest&) {
      return std::string(
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
          "{\"accepted\":true,\"pad\":\"");
    });
    ASSERT_TRUE(hostile.ok());
    hostile.set_endless(!trickle);
    hostile.set_trickle_ms(trickle ? 100 : 0);
    AgentRoot agent(dir);
    SaveEnrollment(agent.db(), hostile.url(), "web-1", "agent-token");
    MakeFile(agent.root() + "/etc/passwd", "changed\n");

    ProcessResult r = RunMeasured(agent.CheckReportArgv(), dir / "check.log");
    std::fprintf(stderr, "%s: check --report %.2f s, max RSS %ld KiB, %lld bytes streamed\n",
                 trickle ? "trickle" : "endless", r.seconds, r.max_rss_kib,
                 static_cast<long long>(hostile.streamed()));
    hostile.Stop();
    EXPECT_EQ(r.exit_code, 1) << r.err;
    // AddressSanitizer's shadow memory multiplies RSS (scripts/test.d/san.run
    // sets ASAN_OPTIONS): the bound holds for the plain build.
    if (std::getenv("ASAN_OPTIONS") == nullptr) {
      EXPECT_LT(r.max_rss_kib, 64 * 1024);
    }
    // The request deadline (10 s) bounds the whole exchange.
    EXPECT_LT(r.seconds, 15.0) << r.err;
    EXPECT_NE(r.err.find(trickle ? "deadline" : "answer larger than"), std::string::npos) << r.err;
    auto pending = PendingReports(agent.db());
    ASSERT_EQ(pending.size(), 1u) << r.err;
    EXPECT_EQ(pending[0].attempts, 1);
    EXPECT_EQ(hostile.requests().size(), 1u);
  }
}

// Delivers the one queued report to a collector that answers `answer` and
// returns the outcome; the test then looks at the outbox.
report::DeliveryOutcome DeliverTo(const std::string& agent_db, ScriptedCollector& collector) {
  auto outbox = Outbox::Open(agent_db);
  EXPECT_TRUE(outbox.ok());
  Enrollment e{collector.url(), "web-1", "agent-token", "", ""};
  report::CollectorClient client(e.collector, e.token, "", 3000);
  auto out = report::DeliverOutbox(DefaultHost(), **outbox, client, e, DeliveryOptions{}, kNov1Ns);
  EXPECT_TRUE(out.ok()) << out.status().message();
  return out.ok() ? *out : report::DeliveryOutcome{};
}

TEST(ReportBudgetTest, OnlyARecognisedValidationErrorRejectsAReport) {
  struct Case {
    const char* name;
    std::string answer;  // "" = the connection is dropped
    bool rejected;
  };
  const std::vector<Case> cases = {
      {"400 malformed request: std::bad_alloc",
       HttpAnswer(400, R"({"error":"bad_request","detail":"malformed request: std::bad_alloc"})"),
       false},
      {"400 without a body", HttpAnswer(400, ""), false},
      {"422 of another kind", HttpAnswer(422, R"({"error":"unprocessable"})"), false},
      {"500", HttpAnswer(500, R"({"error":"internal","detail":"x"})"), false},
      {"503", HttpAnswer(503, R"({"error":"unavailable","detail":"x"})"), false},
      {"429", HttpAnswer(429, R"({"error":"too_many_requests","detail":"x"})"), false},
      {"dropped connection", "", false},
      {"not HTTP", "SSH-2.0-OpenSSH_9.2\r\n", false},
      {"400 invalid_report",
       HttpAnswer(400, R"({"error":"invalid_report","detail":"events[0].kind: bad"})"), true},
      {"422 invalid_report",
       HttpAnswer(422, R"({"error":"invalid_report","detail":"events[0].kind: bad"})"), true},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.name);
    TempDir dir;
    const std::string agent_db = dir / "agent.db";
    {
      auto outbox = Outbox::Open(agent_db);
      ASSERT_TRUE(outbox.ok());
      ASSERT_TRUE((*outbox)->Enqueue(Numbered("web-1", 1, 3), kNov1Ns).ok());
    }
    ScriptedCollector collector([&](const ScriptedRequest&) { return k.answer; });
    report::DeliveryOutcome out = DeliverTo(agent_db, collector);
    auto outbox = Outbox::Open(agent_db);
    ASSERT_TRUE(outbox.ok());
    EXPECT_EQ(*(*outbox)->PendingCount(), k.rejected ? 0 : 1) << out.Note();
    EXPECT_EQ(*(*outbox)->RejectedCount(), k.rejected ? 1 : 0) << out.Note();
    EXPECT_EQ(out.rejected, k.rejected ? 1 : 0);
    EXPECT_EQ(out.sent, 0);
    if (!k.rejected) {
      EXPECT_EQ(PendingReports(agent_db)[0].attempts, 1);
      EXPECT_FALSE(out.error.ok());
    }
    EXPECT_EQ(collector.requests().size(), 1u);
  }
}

// A collector whose body cap is far below the agent's budget: 413, the
// agent shrinks the report and sends it again until it fits.
TEST(ReportBudgetTest, A413MakesTheAgentShrinkAndResend) {
  TempDir dir;
  const std::string agent_db = dir / "agent.db";
  CheckResult r = Numbered("web-1", 1, 20000);
  for (DriftEvent& e : r.events) e.severity = Severity::kMedium;
  r.events[12345].severity = Severity::kCritical;
  r.events[12345].path = "/etc/passwd";
  {
    auto outbox = Outbox::Open(agent_db);
    ASSERT_TRUE(outbox.ok());
    ASSERT_TRUE((*outbox)->Enqueue(r, kNov1Ns).ok());
  }
  constexpr size_t kCap = 256 << 10;
  ScriptedCollector collector([&](const ScriptedRequest& req) {
    if (req.body.size() > kCap) {
      return HttpAnswer(413, R"({"error":"payload_too_large","detail":"over the limit"})");
    }
    return HttpAnswer(200, R"({"accepted":true,"duplicate":false})");
  });
  report::DeliveryOutcome out = DeliverTo(agent_db, collector);
  EXPECT_EQ(out.sent, 1) << out.Note();
  EXPECT_GE(out.shrunk, 1) << out.Note();
  EXPECT_EQ(out.rejected, 0);
  EXPECT_TRUE(PendingReports(agent_db).empty());
  auto requests = collector.requests();
  ASSERT_EQ(requests.size(), static_cast<size_t>(out.shrunk) + 1);
  // Every attempt carried the same report id; the delivered one fits, keeps
  // the critical event and the exact counts.
  value last = value::parse(requests.back().body);
  for (const ScriptedRequest& q : requests) {
    EXPECT_EQ(value::parse(q.body).at("report_id").as_string(), last.at("report_id").as_string());
  }
  EXPECT_LE(requests.back().body.size(), kCap);
  auto delivered = CheckResultFromJson(last);
  ASSERT_TRUE(delivered.ok()) << delivered.status().message();
  ASSERT_TRUE(delivered->fold.totals.has_value());
  EXPECT_EQ(delivered->fold.totals->total, 20000);
  EXPECT_EQ(delivered->fold.totals->severities[static_cast<int>(Severity::kCritical)], 1);
  bool passwd = false;
  for (const DriftEvent& e : delivered->events) passwd |= e.path == "/etc/passwd";
  EXPECT_TRUE(passwd);
}

// The same against the real collector: its body cap (max_body_bytes)
// answers 413 and the agent shrinks until the report is taken.
TEST(ReportBudgetTest, TheCollectorsBodyCapIsAShrinkNotARejection) {
  TempDir dir;
  WriteFile(dir / "collector.yaml", "version: 1\nmax_body_bytes: 300000\n");
  Collector c(dir, dir / "collector.yaml");
  ASSERT_TRUE(c.Start()) << ReadAll(c.log());
  const std::string read = c.Token("read");
  const std::string agent_db = dir / "agent.db";
  Enrollment e{c.url(), "web-1", c.EnrollApi(c.Token("enroll"), "web-1"), "", ""};
  auto outbox = Outbox::Open(agent_db);
  ASSERT_TRUE(outbox.ok());
  ASSERT_TRUE((*outbox)->SaveEnrollment(e).ok());
  CheckResult r = Numbered("web-1", 1, 8000);
  r.events[4000].severity = Severity::kCritical;
  ASSERT_TRUE((*outbox)->Enqueue(r, kNov1Ns).ok());
  report::CollectorClient client(e.collector, e.token);
  auto out = report::DeliverOutbox(DefaultHost(), **outbox, client, e, DeliveryOptions{}, kNov1Ns);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_GE(out->sent, 2) << out->Note();
  EXPECT_GE(out->shrunk, 1) << out->Note();
  EXPECT_EQ(*(*outbox)->PendingCount(), 0);
  EXPECT_EQ(*(*outbox)->RejectedCount(), 0);
  value host = c.Get("/api/v1/hosts/web-1", read).json();
  EXPECT_EQ(host.at("last_report_events").as_number().to_int64(), 8000);
  EXPECT_EQ(Count(host.at("last_report_summary").at("severities"), "critical"), 1);
  EXPECT_EQ(AllDrift(c, read, "host=web-1&severity=critical").size(), 1u);
  EXPECT_EQ(AllDrift(c, read, "host=web-1").size(), 8000u);
  EXPECT_EQ(Count(host.at("last_report_summary").at("severities"), "high"), 7999);
  EXPECT_EQ(host.at("last_report_summary").at("parts").as_number().to_int64(), out->sent);
  EXPECT_EQ(c.Stop(), 0);
}

TEST(ReportBudgetTest, ARefusedReportIsCountedRecordedAndAlerted) {
  TempDir dir;
  std::mutex mu;
  std::vector<std::string> hooks;
  ScriptedCollector receiver([&](const ScriptedRequest& req) {
    std::lock_guard<std::mutex> lock(mu);
    hooks.push_back(req.body);
    return HttpAnswer(200, "{}");
  });
  WriteFile(dir / "collector.yaml",
            "version: 1\nalerts:\n  - name: ops\n    min_severity: high\n"
            "    webhook: " +
                receiver.url() + "/hook\n");
  Collector c(dir, dir / "collector.yaml");
  ASSERT_TRUE(c.Start()) << ReadAll(c.log());
  const std::string read = c.Token("read");
  const std::string agent = c.EnrollApi(c.Token("enroll"), "web-1");
  value bad = value::parse(ReportJson(Uuid(1), "web-1", {Added("/etc/x")}, kNov1Ns));
  bad["events"][0]["kind"] = value("exploded");
  Answer a = Http("POST", c.url() + "/api/v1/reports", agent, bad.serialize());
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.json().at("error").as_string(), "invalid_report");

  Answer m = c.Get("/metrics", read);
  EXPECT_NE(m.body.find("driftwatch_reports_refused_total{reason=\"invalid\"} 1\n"),
            std::string::npos)
      << m.body;
  value host = c.Get("/api/v1/hosts/web-1", read).json();
  EXPECT_EQ(host.at("reports_refused").at("count").as_number().to_int64(), 1);
  EXPECT_EQ(host.at("reports_refused").at("reason").as_string().rfind("invalid: events[0].kind", 0),
            0u)
      << host.at("reports_refused").serialize();
  value listed = c.Get("/api/v1/hosts", read).json().at("hosts").at(0);
  EXPECT_EQ(listed.at("reports_refused").at("count").as_number().to_int64(), 1);
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return !hooks.empty();
      },
      10))
      << ReadAll(c.log());
  std::lock_guard<std::mutex> lock(mu);
  value hook = value::parse(hooks[0]);
  EXPECT_EQ(hook.at("kind").as_string(), "report-refused");
  EXPECT_EQ(hook.at("host").as_string(), "web-1");
  EXPECT_EQ(hook.at("reason").as_string(), "invalid");
  EXPECT_EQ(hook.at("alert").as_string(), "ops");
  EXPECT_EQ(c.Stop(), 0);
}

}  // namespace
}  // namespace driftwatch::collector_it
