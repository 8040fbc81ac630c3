// Group commit for the SQLite fleet store (docs/collector.md, "Ingest and
// group commit"): reports that arrive while another batch is being written
// queue up, and the next caller to find no batch under way writes every
// queued report in one transaction and one COMMIT (one WAL sync), then
// answers them all.
//
// Each report still stands alone:
//  - it runs inside its own SAVEPOINT, so a report that fails (unknown host,
//    a chain that does not recompute, a constraint) rolls back its own rows
//    and fails alone while the others of the batch commit;
//  - its duplicate check sees every report committed before and every
//    report earlier in the same batch (one connection, one transaction), so
//    a report_id sent twice at once is stored once;
//  - no caller gets an answer before the COMMIT that makes its report
//    durable returned; when the COMMIT fails, or SQLite rolled the whole
//    transaction back (a full disk, an I/O error), every report of the
//    batch fails with that error and nothing is acknowledged.
//
// Thread-safety: Submit may be called from any number of threads. The
// batch is written while `db_mu` is held; the queue has its own mutex, so
// reports are prepared and queued while a batch is being written.
#ifndef DRIFTWATCH_COLLECTOR_SQLITE_STORE_BATCH_H_
#define DRIFTWATCH_COLLECTOR_SQLITE_STORE_BATCH_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

#include "collector/sqlite_store_ingest.h"
#include "core/sqlite.h"

namespace driftwatch::collector {

class SqliteIngestBatcher {
 public:
  // Batches are written to `db` while holding `db_mu`, which guards every
  // other use of `db`; both outlive the batcher. At most `max_batch`
  // reports go into one transaction.
  SqliteIngestBatcher(sqlite::Db& db, std::mutex& db_mu, size_t max_batch = 64)
      : db_(db), db_mu_(db_mu), max_batch_(max_batch) {}

  // Stores `report` (FleetStore::IngestReport's answer) once the batch
  // holding it has committed.
  Result<IngestResult> Submit(const sqlite_ingest::PreparedReport& report);

  // Batches written and reports in them since construction (for tests and
  // the benchmark's profile).
  struct Stats {
    int64_t batches = 0;
    int64_t reports = 0;
    int64_t max_batch = 0;
  };
  Stats stats();
  // Reports queued and not yet taken into a batch.
  size_t queued();

 private:
  struct Waiter {
    const sqlite_ingest::PreparedReport* report;
    std::optional<Result<IngestResult>> result;
  };
  // Writes `batch` in one transaction and fills each result.
  void WriteBatch(Waiter* const* batch, size_t n);

  sqlite::Db& db_;
  std::mutex& db_mu_;
  const size_t max_batch_;

  std::mutex mu_;  // guards queue_, leading_, stats_, and the results of queued waiters
  std::condition_variable cv_;
  std::deque<Waiter*> queue_;
  bool leading_ = false;  // a caller is writing a batch
  Stats stats_;
};

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_SQLITE_STORE_BATCH_H_
