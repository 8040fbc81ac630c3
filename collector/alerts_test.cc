// The alert dispatcher's retries and backoff on a MemHost clock, with a
// webhook poster that records every exchange and fails as scripted.
#include "collector/alerts.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cpprest/json.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "collector/sqlite_store.h"
#include "core/drift_json.h"
#include "tests/testing/mem_host.h"

namespace driftwatch::collector {
namespace {

using testutil::MemHost;

constexpr int64_t kSec = 1000000000;

// Answers each URL with failures first (as many as scripted), then 2xx, and
// records "T URL WHAT" lines, T in whole seconds since t0.
class RecordingWebhooks {
 public:
  RecordingWebhooks(MemHost& host, int64_t t0) : host_(host), t0_(t0) {}
  void FailFirst(const std::string& url, int n) { failures_[url] = n; }
  WebhookPoster Poster() {
    return [this](const std::string& url, const std::string& body) {
      web::json::value v = web::json::value::parse(body);
      std::string what = v.has_field("alert_id")
                             ? "alert " + std::to_string(v.at("alert_id").as_number().to_int64())
                             : v.at("kind").as_string() + " x" +
                                   std::to_string(v.at("refusals").as_number().to_int64());
      const bool fail = failures_[url] > 0;
      if (fail) --failures_[url];
      log_.push_back(std::to_string((host_.NowNs() - t0_) / kSec) + "s " + url + " " + what +
                     (fail ? " -> 503" : " -> 200"));
      return fail ? Status::Unavailable("webhook answered 503") : Status::Ok();
    };
  }
  const std::vector<std::string>& log() const { return log_; }

 private:
  MemHost& host_;
  const int64_t t0_;
  std::map<std::string, int> failures_;
  std::vector<std::string> log_;
};

class AlertDispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dw_alerts_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto s = OpenSqliteStore(dir_ + "/c.db");
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s).value();
    ASSERT_TRUE(store_->EnrollHost("h", "web", "1", "sha-h", t0_, "").ok());
    CollectorConfig config;
    config.alerts = {AlertRule{"ops", Severity::kHigh, {}, "http://hooks.test/ops", false, false},
                     AlertRule{"db", Severity::kLow, {"db"}, "http://hooks.test/db", false, false}};
    live_.Set(config);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  // One report of host h with one event of severity `s`.
  void Ingest(const std::string& id, Severity s) {
    ReportEnvelope env;
    env.report_id = id;
    env.host_id = "h";
    env.received_ns = host_.NowNs();
    env.result.target = "h";
    env.result.baseline = "default";
    env.result.finished_ns = host_.NowNs();
    DriftEvent e;
    e.path = "/etc/" + id;
    e.kind = DriftKind::kModified;
    e.severity = s;
    env.result.events.push_back(e);
    env.events_json.push_back(DriftEventToJson(e).serialize());
    std::vector<AlertRoute> routes = {{"ops", Severity::kHigh, {}}, {"db", Severity::kLow, {"db"}}};
    ASSERT_TRUE(store_->IngestReport(env, routes).ok());
  }

  // Runs a delivery pass every second for `seconds` seconds.
  void RunFor(AlertDispatcher& d, int seconds) {
    for (int i = 0; i < seconds; ++i) {
      d.RunOnce(host_.NowNs());
      host_.AdvanceNs(kSec);
    }
  }

  std::string dir_;
  MemHost host_;
  const int64_t t0_ = host_.NowNs();
  std::unique_ptr<FleetStore> store_;
  LiveConfig live_;
  Metrics metrics_;
  RecordingWebhooks hooks_{host_, t0_};
};

TEST_F(AlertDispatcherTest, FailedWebhookIsRetriedWithDoublingBackoff) {
  Ingest("r1", Severity::kCritical);
  Ingest("r2", Severity::kLow);  // below every route of group web: no alert
  hooks_.FailFirst("http://hooks.test/ops", 3);
  AlertDispatcher d(*store_, live_, metrics_, host_, hooks_.Poster());
  RunFor(d, 20);
  EXPECT_EQ(hooks_.log(), (std::vector<std::string>{
                              "0s http://hooks.test/ops alert 1 -> 503",
                              "1s http://hooks.test/ops alert 1 -> 503",
                              "3s http://hooks.test/ops alert 1 -> 503",
                              "7s http://hooks.test/ops alert 1 -> 200",
                          }));
  EXPECT_EQ(metrics_.alerts_failed.load(), 3);
  EXPECT_EQ(metrics_.alerts_sent.load(), 1);
}

TEST_F(AlertDispatcherTest, BackoffIsCappedAtFiveMinutes) {
  std::vector<int64_t> waits;
  for (int attempts = 1; attempts <= 12; ++attempts)
    waits.push_back(AlertBackoffNs(attempts) / kSec);
  EXPECT_EQ(waits, (std::vector<int64_t>{1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300}));
}

TEST_F(AlertDispatcherTest, RefusedReportsAlertOncePerHostAndRetry) {
  hooks_.FailFirst("http://hooks.test/ops", 1);
  AlertDispatcher d(*store_, live_, metrics_, host_, hooks_.Poster());
  const RefusedReport r{"h", "web", "invalid", "bad event", host_.NowNs()};
  d.ReportRefused(r);
  RunFor(d, 1);  // fails at 0 s, due again at 1 s
  d.ReportRefused(r);
  d.ReportRefused(r);  // the same host: folded into one alert
  RunFor(d, 5);
  EXPECT_EQ(hooks_.log(), (std::vector<std::string>{
                              "0s http://hooks.test/ops report-refused x1 -> 503",
                              "1s http://hooks.test/ops report-refused x3 -> 200",
                          }));
}

// A realtime event's alert says who made the change and who undid it.
TEST(AlertBodyTest, RealtimeEventsNameTheirActor) {
  DriftEvent e;
  e.path = "/etc/passwd";
  e.kind = DriftKind::kModified;
  e.severity = Severity::kCritical;
  Actor vim;
  vim.pid = 4242;
  vim.exe = "/usr/bin/vim";
  vim.uid = 1000;
  vim.login = "alice";
  e.actor = vim;
  e.transient = true;
  Actor cp;
  cp.pid = 99;
  cp.exited = true;
  e.reverted_by = cp;
  PendingAlert alert;
  alert.id = 7;
  alert.event.host_id = "web-1";
  alert.event.event_json = DriftEventToJson(e).serialize();
  AlertRule slack;
  slack.slack = true;
  EXPECT_EQ(web::json::value::parse(AlertBody(slack, alert)).at("text").as_string(),
            "driftwatch: critical drift on web-1: modified /etc/passwd by /usr/bin/vim, pid "
            "4242, uid 1000 (login alice) (transient: reverted by pid 99, exited) [alert 7]");
}

}  // namespace
}  // namespace driftwatch::collector
