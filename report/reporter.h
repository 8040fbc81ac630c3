// Reporting: queue a check result in the outbox and deliver the outbox to
// the collector, oldest first (docs/wire.md).
//
// Delivery stops at the first report that cannot be delivered now (collector
// down or past the deadline, 5xx, 429, an unrecognised 4xx, auth refused),
// so reports always arrive in order; it backs off exponentially per report
// (1 s doubling, capped at options.max_backoff_ns) from `now_ns`; a next
// attempt further than that cap in the future (the wall clock was set back
// since) counts as due.
// A report answered 413 is shrunk (Outbox::Shrink) and sent again at once,
// at most options.max_shrinks times per call; one already at the smallest
// budget backs off like an unavailable collector. Only a report the
// collector refuses as invalid (client.h) is marked rejected and skipped.
//
// Thread-safety: functions open their own database handles.
#ifndef DRIFTWATCH_REPORT_REPORTER_H_
#define DRIFTWATCH_REPORT_REPORTER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/drift.h"
#include "core/host.h"
#include "core/status.h"
#include "report/client.h"
#include "report/outbox.h"

namespace driftwatch::report {

// Queues `result` in the outbox (agent store), then tries to deliver
// everything queued, in order, at host.NowNs(). Returns the queued report id. Delivery failure
// is not an error (the outbox keeps it); it is reported in *delivery_note
// (may be null), and *delivered (may be null) says whether the collector
// took every queued report. Errors: the database cannot be opened or written.
Result<std::string> QueueAndDeliver(Host& host, const std::string& db_path,
                                    const CheckResult& result, std::string* delivery_note,
                                    bool* delivered = nullptr);

struct DeliveryOptions {
  bool respect_backoff = false;  // skip when the head report's next attempt is due later
  int64_t max_backoff_ns = int64_t{600} * 1000000000;
  int batch = 1000;      // reports per call at most
  int max_shrinks = 16;  // 413 answers handled per call
};

struct DeliveryOutcome {
  int sent = 0;
  int rejected = 0;
  int shrunk = 0;         // times a report was shrunk after a 413
  int64_t remaining = 0;  // pending after this call
  // What the collector's answers said about this host's chain that needs a
  // person (docs/integrity.md): a head that differs from the store's, an
  // integrity alert.
  std::vector<std::string> warnings;
  Status error;  // why delivery stopped early (ok when it did not)
  std::string Note() const;
};

// Delivers pending reports as host `enrollment.host_id`; backoff is
// reckoned from `now_ns`, and each report is stamped "sent" with
// host.NowNs() as it goes.
Result<DeliveryOutcome> DeliverOutbox(Host& host, Outbox& outbox, CollectorClient& client,
                                      const Enrollment& enrollment, const DeliveryOptions& options,
                                      int64_t now_ns);

// Whether a queued report whose next attempt is at next_attempt_ns is sent
// at now_ns: always without options.respect_backoff; else when it is due, or
// when it is further away than options.max_backoff_ns (scheduled before the
// wall clock was set back).
bool ReportDue(int64_t next_attempt_ns, int64_t now_ns, const DeliveryOptions& options);

// The wait after a report's attempts-th failed attempt: 1 s doubling, capped
// at max_backoff_ns.
int64_t ReportBackoffNs(int attempts, int64_t max_backoff_ns);

// Adds "host_id" and "sent" to a queued body (a JSON object text).
std::string StampReport(const std::string& body, const std::string& host_id, int64_t sent_ns);

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_REPORT_REPORTER_H_
