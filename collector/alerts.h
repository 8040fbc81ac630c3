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
// Thread-safety: Wake() from any thread; Start/Stop from the owner.
#ifndef DRIFTWATCH_COLLECTOR_ALERTS_H_
#define DRIFTWATCH_COLLECTOR_ALERTS_H_

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "collector/api.h"
#include "collector/config.h"
#include "collector/store.h"

namespace driftwatch::collector {

class AlertDispatcher {
 public:
  // Borrows everything; they must outlive the dispatcher.
  AlertDispatcher(FleetStore& store, const CollectorConfig& config, Metrics& metrics);
  ~AlertDispatcher();
  AlertDispatcher(const AlertDispatcher&) = delete;
  AlertDispatcher& operator=(const AlertDispatcher&) = delete;

  void Start();
  void Stop();
  void Wake();

  // Delivers the alerts due at now_ns; returns how many were delivered.
  int RunOnce(int64_t now_ns);

 private:
  void Loop();
  Status Deliver(const AlertRule& rule, const PendingAlert& alert);

  FleetStore& store_;
  const CollectorConfig& config_;
  Metrics& metrics_;
  std::thread thread_;
  std::mutex mu_;  // guards stop_ and wake_
  std::condition_variable cv_;
  bool stop_ = false;
  bool wake_ = false;
};

// The webhook body of one alert (pure; for tests and docs).
std::string AlertBody(const AlertRule& rule, const PendingAlert& alert);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_ALERTS_H_
