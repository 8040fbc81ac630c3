// The SQLite fleet store (host inventories: sqlite_inventory.cc; event
// queries: sqlite_events.cc; tokens, enrollment, host removal and rename:
// sqlite_lifecycle.cc; the fleet's trees: sqlite_trees.cc; schema and its
// versions: sqlite_rows.cc, docs/collector.md).
#include "collector/sqlite_store.h"

#include <cpprest/json.h>

#include <algorithm>
#include <mutex>

#include <sys/stat.h>

#include "collector/inventory.h"
#include "collector/sqlite_commands.h"
#include "collector/sqlite_events.h"
#include "collector/sqlite_file.h"
#include "collector/sqlite_integrity.h"
#include "collector/sqlite_inventory.h"
#include "collector/sqlite_lifecycle.h"
#include "collector/sqlite_rows.h"
#include "collector/sqlite_store_batch.h"
#include "collector/sqlite_store_ingest.h"
#include "collector/sqlite_trees.h"
#include "collector/store_rows.h"
#include "core/drift_json.h"
#include "core/sqlite.h"

namespace driftwatch::collector {
namespace {

using sqlite_rows::SqliteRow;
using store_rows::kHostColumns;
using store_rows::kHostFrom;

class SqliteStore : public FleetStore {
 public:
  SqliteStore(std::unique_ptr<sqlite::Db> db, std::string path)
      : db_(std::move(db)), path_(std::move(path)), trees_(NewSqliteTreeStore(*db_, mu_)) {}

  Status Init() {
    if (!InMemory()) {
      struct stat st {};
      if (stat(path_.c_str(), &st) != 0) return ErrnoStatus(path_, errno);
      dev_ = st.st_dev;
      ino_ = st.st_ino;
    }
    return sqlite_rows::CreateOrUpgradeSchema(*db_);
  }

  Status AddToken(const std::string& sha, Role role, const std::string& host_id, int64_t now_ns,
                  const TokenLimits& limits) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_lifecycle::AddToken(*db_, sha, role, host_id, now_ns, limits);
  }

  Result<std::optional<TokenInfo>> LookupToken(const std::string& sha) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_lifecycle::LookupToken(*db_, sha);
  }

  Result<std::vector<TokenRecord>> ListTokens() override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_lifecycle::ListTokens(*db_);
  }

  Result<int64_t> RevokeToken(const std::string& id, int64_t now_ns) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_lifecycle::RevokeToken(*db_, id, now_ns);
  }

  Status TouchToken(const std::string& sha, int64_t now_ns) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_lifecycle::TouchToken(*db_, sha, now_ns);
  }

  Status EnrollHost(const std::string& host_id, const std::string& group,
                    const std::string& agent_version, const std::string& token_sha, int64_t now_ns,
                    const std::string& enroll_sha) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_lifecycle::EnrollHost(*db_, host_id, group, agent_version, token_sha, now_ns,
                                        enroll_sha);
  }

  Status RemoveHost(const std::string& host_id, int64_t now_ns) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_lifecycle::RemoveHost(*db_, host_id, now_ns);
  }

  Status RenameHost(const std::string& from, const std::string& to) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_lifecycle::RenameHost(*db_, from, to);
  }

  Status TouchHost(const std::string& host_id, int64_t now_ns) override {
    std::lock_guard<std::mutex> lock(mu_);
    DW_ASSIGN_OR_RETURN(auto s, db_->Prepare("UPDATE hosts SET last_seen_ns = max(last_seen_ns, ?) "
                                             "WHERE id = ?"));
    return s.Bind(1, now_ns).Bind(2, host_id).Run();
  }

  Result<std::vector<HostRecord>> ListHosts() override {
    std::lock_guard<std::mutex> lock(mu_);
    return ListHostsLocked();
  }

  Result<HostRecord> GetHost(const std::string& host_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    DW_ASSIGN_OR_RETURN(auto s, db_->Prepare(std::string("SELECT ") + kHostColumns + kHostFrom +
                                             " WHERE hosts.id = ?"));
    s.Bind(1, host_id);
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Status::NotFound("unknown host '" + host_id + "'");
    return store_rows::ReadHost(SqliteRow(s));
  }

  // The report's columns are computed before it queues; the group commit
  // (sqlite_store_batch.h) writes it with the reports queued beside it.
  Result<IngestResult> IngestReport(const ReportEnvelope& rep,
                                    const std::vector<AlertRoute>& routes) override {
    const sqlite_ingest::PreparedReport prepared = sqlite_ingest::PrepareIngest(rep, routes);
    return batcher_.Submit(prepared);
  }

  Status RecordRefusedReport(const std::string& host_id, const std::string& reason,
                             int64_t now_ns) override {
    std::lock_guard<std::mutex> lock(mu_);
    DW_RETURN_IF_ERROR(HostExists(host_id));
    DW_ASSIGN_OR_RETURN(
        auto s, db_->Prepare("INSERT INTO host_report_status(host_id, refused, refused_ns, "
                             "refused_reason) VALUES(?, 1, ?, ?) ON CONFLICT(host_id) DO UPDATE "
                             "SET refused = refused + 1, refused_ns = excluded.refused_ns, "
                             "refused_reason = excluded.refused_reason"));
    return s.Bind(1, host_id).Bind(2, now_ns).Bind(3, reason).Run();
  }

  Result<std::vector<EventRecord>> QueryDrift(const DriftQuery& q) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_events::Query(*db_, q);
  }

  Result<std::vector<EventRecord>> PathHistory(const std::string& path,
                                               const EventPageQuery& page) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_events::PathHistory(*db_, path, page);
  }

  Result<FleetSummary> Summary(int64_t now_ns, int64_t silent_after_ns,
                               const HostListPage& page) override {
    std::lock_guard<std::mutex> lock(mu_);
    FleetSummary out;
    // IsSilent in SQL: 3 * interval < age as interval <= (age - 1) / 3,
    // which cannot overflow.
    static const std::string kSilent =
        "(hosts.last_report_ns = 0 OR CASE WHEN hosts.interval_ns > 0 THEN hosts.interval_ns <= "
        "(?1 - hosts.last_report_ns - 1) / 3 ELSE ?1 - hosts.last_report_ns > ?2 END)";
    {
      DW_ASSIGN_OR_RETURN(
          auto c, db_->Prepare("SELECT count(*), coalesce(sum(hosts.last_report_events > 0), 0), "
                               "coalesce(sum(" +
                               kSilent +
                               "), 0), coalesce(sum(coalesce(s.refused, 0) > 0), 0), "
                               "coalesce(sum(coalesce(s.refused, 0)), 0)" +
                               kHostFrom));
      c.Bind(1, now_ns).Bind(2, silent_after_ns);
      DW_ASSIGN_OR_RETURN(bool row, c.Step());
      if (row) {
        out.hosts = c.Int(0);
        out.drifted_hosts = c.Int(1);
        out.silent_hosts = c.Int(2);
        out.refused_hosts = c.Int(3);
        out.reports_refused = c.Int(4);
      }
    }
    if (page.limit > 0) {
      std::string sql = std::string("SELECT ") + kHostColumns + kHostFrom + " WHERE hosts.id > ?3";
      if (page.attention) {
        sql += " AND (hosts.last_report_events > 0 OR " + kSilent +
               " OR coalesce(s.refused, 0) > 0 OR EXISTS (SELECT 1 FROM integrity_alerts ia "
               "WHERE ia.host_id = hosts.id AND ia.resolved_ns = 0))";
      }
      DW_ASSIGN_OR_RETURN(auto h, db_->Prepare(sql + " ORDER BY hosts.id LIMIT ?4"));
      h.Bind(1, now_ns).Bind(2, silent_after_ns).Bind(3, page.after);
      h.Bind(4, int64_t{page.limit} + 1);
      while (true) {
        DW_ASSIGN_OR_RETURN(bool row, h.Step());
        if (!row) break;
        out.host_list.push_back(store_rows::ReadHost(SqliteRow(h)));
      }
      if (out.host_list.size() > static_cast<size_t>(page.limit)) {
        out.host_list.pop_back();
        out.more = true;
      }
    }
    DW_ASSIGN_OR_RETURN(auto s, db_->Prepare("SELECT severity, n FROM event_counts ORDER BY "
                                             "severity"));
    int64_t counts[5] = {0, 0, 0, 0, 0};
    while (true) {
      DW_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      int64_t sev = s.Int(0);
      if (sev >= 1 && sev <= 4) counts[sev] = s.Int(1);
    }
    for (int sev = 1; sev <= 4; ++sev) {
      out.events_by_severity.emplace_back(static_cast<Severity>(sev), counts[sev]);
    }
    return out;
  }

  Result<int64_t> QueueCommand(const std::string& host_id, const std::string& kind,
                               int64_t now_ns) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_commands::Queue(*db_, host_id, kind, now_ns);
  }

  Result<std::vector<int64_t>> QueueCommandForGroup(const std::string& group,
                                                    const std::string& kind,
                                                    int64_t now_ns) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_commands::QueueForGroup(*db_, group, kind, now_ns);
  }

  Result<std::vector<CommandRecord>> TakeCommands(const std::string& host_id,
                                                  int64_t now_ns) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_commands::Take(*db_, host_id, now_ns);
  }

  Status AckCommand(const std::string& host_id, int64_t command_id, const CommandAck& ack,
                    int64_t now_ns) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_commands::Ack(*db_, host_id, command_id, ack, now_ns);
  }

  Result<std::vector<CommandRecord>> ListCommands(const std::string& host_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_commands::List(*db_, host_id);
  }

  Result<int64_t> QueueAccept(const std::string& host_id, const std::vector<std::string>& paths,
                              int64_t now_ns) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_commands::QueueAccept(*db_, host_id, paths, now_ns);
  }

  Result<std::vector<int64_t>> QueueRestore(const std::string& host_id, const std::string& group,
                                            const CommandRecord& restore, int64_t now_ns) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_commands::QueueRestore(*db_, host_id, group, restore, now_ns);
  }

  Result<std::string> EventDiff(int64_t event_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_events::Diff(*db_, event_id);
  }

  Result<HostInventory> GetInventory(const std::string& host_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    DW_RETURN_IF_ERROR(HostExists(host_id));
    return sqlite_inventory::Read(*db_, host_id);
  }

  Result<std::vector<BaselineRevision>> ListBaselines(const std::string& host_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    DW_RETURN_IF_ERROR(HostExists(host_id));
    return sqlite_inventory::Baselines(*db_, host_id);
  }

  Result<std::vector<ImageUsage>> ListImages() override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_inventory::Images(*db_);
  }
  Result<std::vector<FleetContainer>> ListContainers(const ContainerQuery& q) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_inventory::Containers(*db_, q);
  }

  Result<std::vector<PendingAlert>> DueAlerts(int64_t now_ns, int limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    DW_ASSIGN_OR_RETURN(
        auto s, db_->Prepare("SELECT a.id, a.route, a.event_id, a.attempts, e.id, e.host_id, "
                             "r.report_id, e.detected_ns, r.received_ns, e.body FROM alerts a "
                             "JOIN events e ON e.id = a.event_id JOIN reports r ON "
                             "r.seq = e.report_seq WHERE a.delivered_ns = 0 AND a.next_ns <= ? "
                             "ORDER BY a.id LIMIT ?"));
    s.Bind(1, now_ns).Bind(2, int64_t{limit});
    std::vector<PendingAlert> out;
    while (true) {
      DW_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(store_rows::ReadAlert(SqliteRow(s)));
    }
    return out;
  }

  Status MarkAlertDelivered(int64_t alert_id, int64_t now_ns) override {
    std::lock_guard<std::mutex> lock(mu_);
    DW_ASSIGN_OR_RETURN(auto s, db_->Prepare("UPDATE alerts SET delivered_ns = ?, attempts = "
                                             "attempts + 1 WHERE id = ?"));
    return s.Bind(1, now_ns).Bind(2, alert_id).Run();
  }

  Status RescheduleAlert(int64_t alert_id, int attempts, int64_t next_ns,
                         const std::string& error) override {
    std::lock_guard<std::mutex> lock(mu_);
    DW_ASSIGN_OR_RETURN(auto s, db_->Prepare("UPDATE alerts SET attempts = ?, next_ns = ?, "
                                             "last_error = ? WHERE id = ?"));
    return s.Bind(1, int64_t{attempts}).Bind(2, next_ns).Bind(3, error).Bind(4, alert_id).Run();
  }

  Result<int64_t> PruneEvents(int64_t cutoff_ns, int batch) override {
    std::lock_guard<std::mutex> lock(mu_);
    DW_ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(*db_));
    DW_RETURN_IF_ERROR(db_->Exec(
        "CREATE TEMP TABLE IF NOT EXISTS prune(id INTEGER PRIMARY KEY, severity INTEGER)"));
    DW_RETURN_IF_ERROR(db_->Exec("DELETE FROM temp.prune"));
    {
      // A host's events go as a prefix of its event chain, so that the
      // anchor (its latest pruned event) starts what stays: an event older
      // than the cutoff waits for the newer ones chained before it.
      DW_ASSIGN_OR_RETURN(auto s,
                          db_->Prepare("INSERT INTO temp.prune SELECT id, severity FROM events e "
                                       "WHERE detected_ns < ?1 AND (chain_seq = 0 OR chain_seq < "
                                       "coalesce((SELECT min(k.chain_seq) FROM events k WHERE "
                                       "k.host_id = e.host_id AND k.detected_ns >= ?1 AND "
                                       "k.chain_seq > 0), chain_seq + 1)) "
                                       "ORDER BY chain_seq, detected_ns LIMIT ?2"));
      DW_RETURN_IF_ERROR(s.Bind(1, cutoff_ns).Bind(2, int64_t{batch}).Run());
    }
    int64_t n = db_->Changes();
    DW_RETURN_IF_ERROR(sqlite_integrity::MoveAnchors(*db_));
    DW_RETURN_IF_ERROR(
        db_->Exec("UPDATE event_counts SET n = n - (SELECT count(*) FROM temp.prune p WHERE "
                  "p.severity = event_counts.severity)"));
    DW_RETURN_IF_ERROR(
        db_->Exec("DELETE FROM alerts WHERE event_id IN (SELECT id FROM temp.prune)"));
    DW_RETURN_IF_ERROR(db_->Exec("DELETE FROM events WHERE id IN (SELECT id FROM temp.prune)"));
    DW_RETURN_IF_ERROR(tx.Commit());
    return n;
  }

  Result<StoreCounts> Counts() override {
    std::lock_guard<std::mutex> lock(mu_);
    StoreCounts c;
    DW_ASSIGN_OR_RETURN(auto s, db_->Prepare(store_rows::kCountsSelect));
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row) c = store_rows::ReadCounts(SqliteRow(s));
    return c;
  }

  Result<std::vector<IntegrityAlert>> ListIntegrityAlerts(const IntegrityQuery& q) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_integrity::ListAlerts(*db_, q);
  }

  Result<HostChain> GetHostChain(const std::string& host_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_integrity::GetChain(*db_, host_id);
  }

  Result<int64_t> TrustReset(const std::string& host_id, const std::string& by,
                             const std::string& reason, int64_t now_ns) override {
    std::lock_guard<std::mutex> lock(mu_);
    DW_ASSIGN_OR_RETURN(sqlite::Transaction tx, sqlite::Transaction::Begin(*db_));
    DW_ASSIGN_OR_RETURN(int64_t epoch,
                        sqlite_integrity::TrustReset(*db_, host_id, by, reason, now_ns));
    DW_RETURN_IF_ERROR(tx.Commit());
    return epoch;
  }

  Result<std::vector<EventChainFinding>> VerifyEventChains(
      const std::string& host_id, const std::map<std::string, ExportedHead>& expected) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_integrity::VerifyEvents(*db_, host_id, expected);
  }

  TreeStore& trees() override { return *trees_; }

  // A fresh read-only connection, so that the answer comes from the file
  // and not from this connection's page cache, and never waits for mu_.
  Status CheckHealth() override {
    if (InMemory()) {
      std::lock_guard<std::mutex> lock(mu_);
      return HealthQuery(*db_);
    }
    struct stat st {};
    if (stat(path_.c_str(), &st) != 0) return ErrnoStatus(path_, errno);
    if (st.st_dev != dev_ || st.st_ino != ino_) {
      return Status::IoError(path_ +
                             ": the database file was replaced since the collector opened it");
    }
    DW_ASSIGN_OR_RETURN(auto db, sqlite::Db::Open(path_, SqliteStoreOptions(/*read_only=*/true)));
    return HealthQuery(*db);
  }

 private:
  // A database in memory (tests, fuzzing) has no file to check.
  bool InMemory() const { return path_ == ":memory:" || path_.empty(); }

  static Status HealthQuery(sqlite::Db& db) {
    DW_ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT (SELECT count(*) FROM hosts), "
                                           "(SELECT max(id) FROM events), "
                                           "(SELECT max(seq) FROM reports), "
                                           "(SELECT count(*) FROM tokens)"));
    DW_ASSIGN_OR_RETURN(bool row, q.Step());
    (void)row;
    return Status::Ok();
  }

  Status HostExists(const std::string& host_id) {
    DW_ASSIGN_OR_RETURN(auto s, db_->Prepare("SELECT 1 FROM hosts WHERE id = ?"));
    s.Bind(1, host_id);
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Status::NotFound("unknown host '" + host_id + "'");
    return Status::Ok();
  }

  Result<std::vector<HostRecord>> ListHostsLocked() {
    DW_ASSIGN_OR_RETURN(auto s, db_->Prepare(std::string("SELECT ") + kHostColumns + kHostFrom +
                                             " ORDER BY hosts.id"));
    std::vector<HostRecord> out;
    while (true) {
      DW_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(store_rows::ReadHost(SqliteRow(s)));
    }
    return out;
  }

  std::mutex mu_;  // guards db_ (one connection, its statement cache)
  std::unique_ptr<sqlite::Db> db_;
  SqliteIngestBatcher batcher_{*db_, mu_};  // writes reports to db_ under mu_
  const std::string path_;
  dev_t dev_ = 0;  // the file opened, to notice it replaced
  ino_t ino_ = 0;
  const std::unique_ptr<TreeStore> trees_;  // borrows db_ and mu_
};

}  // namespace

sqlite::DbOptions SqliteStoreOptions(bool read_only) {
  sqlite::DbOptions options;
  options.read_only = read_only;
  options.wal = true;
  options.foreign_keys = true;
  // Callers answer HTTP requests: only a full disk is told apart.
  options.name = "sqlite";
  options.codes = sqlite::ErrorCodes::kIoError;
  options.full_disk_note =
      "the collector's database disk is full; nothing was stored, retry when space is freed";
  return options;
}

Result<std::unique_ptr<FleetStore>> OpenSqliteStore(const std::string& path) {
  DW_RETURN_IF_ERROR(PrepareSqliteFile(path));
  auto opened = sqlite::Db::Open(path, SqliteStoreOptions());
  if (!opened.ok()) return opened.status().WithContext(path);
  std::unique_ptr<sqlite::Db> db = std::move(opened).value();
  // An answer to a report says it is stored: the WAL is synced at every
  // COMMIT (not only at checkpoints, as with NORMAL), so an acknowledged
  // report survives a power loss too. Group commit (sqlite_store_batch.h)
  // pays that sync once per batch.
  DW_RETURN_IF_ERROR(db->SetPragma("synchronous", "FULL").WithContext(path));
  auto store = std::make_unique<SqliteStore>(std::move(db), path);
  DW_RETURN_IF_ERROR(store->Init().WithContext(path));
  return std::unique_ptr<FleetStore>(std::move(store));
}

}  // namespace driftwatch::collector
