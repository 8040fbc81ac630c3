// The outbox: reports waiting for the collector, and the agent's enrollment
// state, kept in the agent's SQLite database (docs/wire.md, "Agent side").
//
// Every report is written here before it is sent and deleted only after the
// collector acknowledged it, so a collector that is down for a day loses
// nothing; reports leave in the order they were queued. The outbox holds at
// most `max_reports` reports: when full, the oldest ones are summarised into
// one "outbox-overflow" report (counts of reports and events by kind, time
// range) that takes their place at the head of the queue, so nothing is
// dropped silently. A report the collector refuses as invalid (400/422
// "invalid_report") is kept with state "rejected" for inspection and no
// longer blocks the queue.
//
// Reports fit a budget (core/report_fold.h): a check with more drift than
// one report may carry is queued as a folded head plus parts holding the
// critical and high events that did not fit, queued ahead of the head (the
// collector takes a host's latest counts from the last report it stores);
// Shrink() folds a queued report further when the collector answers 413.
//
// A check of the host carries the store's chain records that the collector
// was not yet seen to hold (docs/wire.md, "Integrity"): those after
// report_state "chain_acked", which the collector's answers move on
// (AckChain).
//
// Tables (component 'report' in schema_versions, version 1):
//   report_outbox(seq, report_id, created_ns, body, events, attempts,
//                 next_attempt_ns, last_error, state, overflow)
//   report_state(key, value)   -- collector, host_id, token, group, ca_file,
//                                 packages_digest, chain_acked
//
// Thread-safety: one Outbox per thread; several processes may share the
// database file (SQLite locking, busy timeout).
#ifndef DRIFTWATCH_REPORT_OUTBOX_H_
#define DRIFTWATCH_REPORT_OUTBOX_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/drift.h"
#include "core/host.h"
#include "core/report_fold.h"
#include "core/status.h"

namespace driftwatch::sqlite {
class Db;
}

namespace driftwatch::report {

constexpr int kReportSchemaVersion = 1;
constexpr int64_t kDefaultOutboxMax = 1000;
// The most chain record bodies one report carries; the next report carries
// on from there.
constexpr size_t kMaxReportChainBytes = 256 << 10;

struct Enrollment {
  std::string collector;  // base URL, e.g. http://127.0.0.1:8080
  std::string host_id;
  std::string token;  // the agent token (secret)
  std::string group;
  std::string ca_file;      // PEM bundle to verify an https collector; "" = system
  int64_t enrolled_ns = 0;  // when it enrolled; 0 = not recorded (before 0.x stores)
};

struct QueuedReport {
  int64_t seq = 0;
  std::string report_id;
  int64_t created_ns = 0;
  std::string body;  // wire JSON without "host_id" and "sent" (added when sending)
  int attempts = 0;
  int64_t next_attempt_ns = 0;
};

class Outbox {
 public:
  // Opens (creating tables in) the agent database at db_path. kUnsupported
  // when the database records a newer 'report' schema version.
  // `budget` bounds each queued report.
  static Result<std::unique_ptr<Outbox>> Open(const std::string& db_path,
                                              int64_t max_reports = kDefaultOutboxMax,
                                              const ReportBudget& budget = ReportBudget{});
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Queues a report of `result` under a new UUID v4 and returns the id; a
  // result over the budget is queued as that report (the folded head) and
  // its parts, each under its own id, in that order.
  // The package inventory goes in full only when its digest differs from
  // the one last queued in full (report_state "packages_digest"); otherwise
  // the report carries just the digest and count, so reports stay small.
  // A check of the host (source "", target not a container) carries the
  // chain: the records after chain_acked (after the store's length when
  // chain_acked is beyond it), at most chain::kMaxReportRecords of them
  // and kMaxReportChainBytes of bodies.
  Result<std::string> Enqueue(const CheckResult& result, int64_t now_ns);
  // The chain length the collector was last seen to hold (0: never).
  Result<int64_t> ChainAcked();
  // The collector's answer to a report: it holds `held` records ending in
  // `head`. When the store's own head after record `held` is `head`,
  // chain_acked becomes `held` and "" is returned; otherwise chain_acked
  // is kept and the answer is a warning naming both heads.
  Result<std::string> AckChain(int64_t held, const std::string& head);
  // Makes the next report carry the full package list again: called when
  // the collector answers that it lacks the list a digest names.
  Status ForgetPackagesDigest();

  // Pending reports, oldest first.
  Result<std::vector<QueuedReport>> Pending(int limit);
  Status Remove(int64_t seq);
  Status RecordFailure(int64_t seq, int attempts, int64_t next_attempt_ns,
                       const std::string& error);
  Status MarkRejected(int64_t seq, const std::string& error);
  // The collector found report `seq` too large (413): rewrites it folded to
  // half its size (half its listed events), under the same report id; the
  // parts a split needs (or the first half of a part split in two) are
  // queued just ahead of it, so that a head always follows its parts. False
  // when it is already at the smallest budget (kMinReportBudget) and
  // nothing was changed.
  Result<bool> Shrink(int64_t seq);
  Result<int64_t> PendingCount();
  // When the oldest pending report was queued; nullopt when none is.
  Result<std::optional<int64_t>> OldestPendingNs();
  Result<int64_t> RejectedCount();

  Result<std::optional<Enrollment>> LoadEnrollment();
  // Also forgets the confirmed tree: a new enrollment may be another
  // collector.
  Status SaveEnrollment(const Enrollment& e);

  // The root the collector last confirmed as this host's tree (docs/wire.md
  // "Trees"); nullopt when none is remembered (or what is stored is not a
  // root id).
  Result<std::optional<Hash128>> ConfirmedTree();
  Status SetConfirmedTree(const Hash128& root);

 private:
  Outbox(std::unique_ptr<sqlite::Db> db, int64_t max_reports, const ReportBudget& budget);
  // Inserts the head and parts of a fitted report under new ids; returns
  // the head's.
  Result<std::string> InsertFitted(std::vector<CheckResult> fitted, int64_t now_ns);
  Status Init();
  Status MakeRoom(int64_t now_ns);
  // Sets r->chain from the store's chain table (inside Enqueue's
  // transaction); nothing when the store has no chain yet.
  Status AttachChain(CheckResult* r);

  std::unique_ptr<sqlite::Db> db_;
  int64_t max_reports_;
  ReportBudget budget_;
};

// Outbox::Open of the agent store at db_path after agent::PrepareStoreFile
// (agent/store_file.h): a missing directory is made 0700 and a missing file
// 0600 through `host`, a store open to group or others is refused, and a
// failed open names its reason.
Result<std::unique_ptr<Outbox>> OpenAgentOutbox(Host& host, const std::string& db_path,
                                                int64_t max_reports = kDefaultOutboxMax);

// A random UUID v4 in canonical form.
Result<std::string> NewReportId();

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_REPORT_OUTBOX_H_
