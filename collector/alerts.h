// Alert delivery: webhooks (JSON, or a Slack-compatible {"text": ...} body)
// and syslog for drift at or above a route's severity (config.h).
//
// Alerts are queued by the store inside the ingest transaction, one per
// (event, route), so a duplicate report never alerts twice and a crash
// never loses an alert. The dispatcher thread delivers due alerts, marks them
// delivered on a 2xx answer, and retries failures with exponential backoff
// (1 s doubling, capped at 5 min). Each body carries "alert_id" so that a
// receiver can drop a redelivery after a lost answer.
//
// A report the collector refused (api.h RefusedReport) raises a
// "report-refused" alert for its host on every route whose min_severity is
// high or lower and whose groups include the host's: ReportRefused() queues
// it in memory (at most one per host, the latest reason, counting the
// refusals it stands for; at most kMaxRefusalAlerts hosts) and the
// dispatcher delivers it like the others, with the same backoff. These
// alerts are not in the store: a collector restart drops undelivered ones
// (the host keeps its refused count, shown by the API and the dashboard).
//
// Time is the Host's wall clock (core/host.h): RunOnce(now_ns) delivers what
// is due at now_ns and schedules retries from host.NowNs(). Webhooks are
// sent through a WebhookPoster: PostWebhook in the server, a recording one
// in tests.
//
// Thread-safety: Wake() and ReportRefused() from any thread; Start/Stop from
// the owner.
#ifndef DRIFTWATCH_COLLECTOR_ALERTS_H_
#define DRIFTWATCH_COLLECTOR_ALERTS_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "collector/api.h"
#include "collector/config.h"
#include "collector/live_config.h"
#include "collector/store.h"
#include "core/host.h"

namespace driftwatch::collector {

// Sends one alert body (JSON) to a webhook URL; ok on a 2xx answer, else
// kUnavailable saying why.
using WebhookPoster = std::function<Status(const std::string& url, const std::string& body)>;

// The webhook POST of cpprestsdk, with a 5 s timeout.
Status PostWebhook(const std::string& url, const std::string& body);

// The wait after an alert's attempts-th failed delivery: 1 s doubling,
// capped at 5 min.
int64_t AlertBackoffNs(int attempts);

class AlertDispatcher {
 public:
  // Borrows everything; they must outlive the dispatcher. Routes are read
  // from `config` once per delivery pass, so a reload's routes apply from
  // the next pass on; a queued alert whose route a reload removed is
  // dropped.
  AlertDispatcher(FleetStore& store, const LiveConfig& config, Metrics& metrics, Host& host,
                  WebhookPoster post = PostWebhook);
  ~AlertDispatcher();
  AlertDispatcher(const AlertDispatcher&) = delete;
  AlertDispatcher& operator=(const AlertDispatcher&) = delete;

  void Start();
  void Stop();
  void Wake();
  void ReportRefused(const RefusedReport& r);

  // Delivers the alerts due at now_ns; returns how many were delivered.
  int RunOnce(int64_t now_ns);

 private:
  void Loop();
  Status Deliver(const AlertRule& rule, const PendingAlert& alert);
  int DeliverRefusals(const CollectorConfig& config, int64_t now_ns);

  struct RefusalAlert {
    RefusedReport report;
    int64_t refusals = 0;
    std::vector<std::string> routes_left;  // routes not yet delivered to
    int attempts = 0;
    int64_t next_ns = 0;
  };

  FleetStore& store_;
  const LiveConfig& config_;
  Metrics& metrics_;
  Host& host_;
  const WebhookPoster post_;
  std::thread thread_;
  std::mutex mu_;  // guards stop_ and wake_
  std::condition_variable cv_;
  bool stop_ = false;
  bool wake_ = false;
  std::vector<RefusalAlert> refusals_;  // guarded by mu_
};

inline constexpr size_t kMaxRefusalAlerts = 1000;

// The webhook body of one alert (pure; for tests and docs).
std::string AlertBody(const AlertRule& rule, const PendingAlert& alert);
// The webhook body of a report-refused alert standing for `refusals` refusals.
std::string RefusalAlertBody(const AlertRule& rule, const RefusedReport& r, int64_t refusals);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_ALERTS_H_
