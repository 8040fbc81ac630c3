// Group commit of reports into the SQLite fleet store
// (sqlite_store_batch.h).
#include "collector/sqlite_store_batch.h"

#include <algorithm>
#include <vector>

namespace driftwatch::collector {

Result<IngestResult> SqliteIngestBatcher::Submit(const sqlite_ingest::PreparedReport& report) {
  Waiter me{&report, std::nullopt};
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(&me);
  while (!me.result) {
    if (leading_) {
      cv_.wait(lock);
      continue;
    }
    // No batch under way: this caller writes the queue's head, which holds
    // its own report unless more than max_batch_ queued before it (then it
    // loops and leads again, or is answered by the next leader).
    leading_ = true;
    std::vector<Waiter*> batch;
    const size_t n = std::min(max_batch_, queue_.size());
    batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    lock.unlock();
    WriteBatch(batch.data(), batch.size());
    lock.lock();
    leading_ = false;
    stats_.batches++;
    stats_.reports += static_cast<int64_t>(n);
    stats_.max_batch = std::max(stats_.max_batch, static_cast<int64_t>(n));
    cv_.notify_all();
  }
  return std::move(*me.result);
}

SqliteIngestBatcher::Stats SqliteIngestBatcher::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

size_t SqliteIngestBatcher::queued() {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void SqliteIngestBatcher::WriteBatch(Waiter* const* batch, size_t n) {
  // Results are kept here and published under mu_ once the COMMIT is known:
  // a waiter must not see its answer before the batch is durable.
  std::vector<std::optional<Result<IngestResult>>> results(n);
  {
    std::lock_guard<std::mutex> db_lock(db_mu_);
    auto tx = sqlite::Transaction::Begin(db_);
    if (!tx.ok()) {
      for (size_t i = 0; i < n; ++i) results[i] = tx.status();
    } else {
      // Set when SQLite rolled the whole transaction back under a failed
      // report (a full disk, an I/O error): the reports before it are gone.
      std::optional<Status> lost;
      for (size_t i = 0; i < n && !lost; ++i) {
        if (Status s = db_.Exec("SAVEPOINT report"); !s.ok()) {
          lost = s;
          break;
        }
        auto r = sqlite_ingest::ApplyIngest(db_, *batch[i]->report);
        // A duplicate wrote nothing; a failure may have written part.
        const char* end =
            r.ok() && !r->duplicate ? "RELEASE report" : "ROLLBACK TO report; RELEASE report";
        if (Status s = db_.Exec(end); !s.ok()) {
          lost = r.ok() ? s : r.status();
          break;
        }
        results[i] = std::move(r);
      }
      Status committed = lost ? *lost : tx->Commit();
      if (!committed.ok()) {
        for (size_t i = 0; i < n; ++i) {
          if (!results[i] || results[i]->ok()) results[i] = committed;
        }
      }
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < n; ++i) batch[i]->result = std::move(results[i]);
}

}  // namespace driftwatch::collector
