// The PostgreSQL fleet store (docs/store-postgresql.md): hosts, queries,
// commands, alerts and migrations. Event ingest and retention are in
// pg_events.cc, tokens, enrollment, host removal and rename in
// pg_lifecycle.cc, the schema in pg_schema.cc.
#include "collector/pg_store.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "collector/inventory.h"
#include "collector/pg_conn.h"
#include "collector/pg_events.h"
#include "collector/pg_integrity.h"
#include "collector/pg_inventory.h"
#include "collector/pg_lifecycle.h"
#include "collector/pg_schema.h"
#include "collector/pg_trees.h"
#include "collector/store_rows.h"
#include "collector/store_url.h"

namespace driftwatch::collector {
namespace {

constexpr const char* kComponent = "collector-pg";

using store_rows::kCommandColumns;

// "SELECT " + the columns store_rows::ReadHost decodes + their FROM clause.
std::string HostSelect() {
  return std::string("SELECT ") + store_rows::kHostColumns + store_rows::kHostFrom;
}

// Columns: id, host_id, report_id, detected_ns, received_ns, body.
std::vector<CommandRecord> ReadCommands(const PgRows& r) {
  std::vector<CommandRecord> out;
  for (int i = 0; i < r.size(); ++i) out.push_back(store_rows::ReadCommand(PgRow(r, i)));
  return out;
}

// The version recorded in the database; 0 when the schema was never created.
Result<int> ReadVersion(PgConn& c) {
  DW_ASSIGN_OR_RETURN(
      auto t, c.Exec("version_table", "SELECT to_regclass('schema_versions') IS NOT NULL", {}));
  if (t.Text(0, 0) != "t") return 0;
  DW_ASSIGN_OR_RETURN(
      auto v, c.Exec("version_read", "SELECT version FROM schema_versions WHERE component = $1",
                     {std::string(kComponent)}));
  return v.size() == 0 ? 0 : static_cast<int>(v.Int(0, 0));
}

Status NewerSchema(int v) {
  return Status::Unsupported("collector store schema version " + std::to_string(v) +
                             " is not supported by this build (knows version " +
                             std::to_string(kPgSchemaVersion) + "); see docs/store-postgresql.md");
}

class PgStore : public FleetStore {
 public:
  PgStore(std::unique_ptr<PgPool> pool, int pool_size)
      : pool_(std::move(pool)),
        trees_(NewPgTreeStore(*pool_)),
        max_ingests_(std::max(1, pool_size - 1)) {}

  Status CheckVersion() {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    DW_ASSIGN_OR_RETURN(int v, ReadVersion(*c));
    if (v > kPgSchemaVersion) return NewerSchema(v);
    if (v < kPgSchemaVersion) {
      return Status::Unsupported("collector store schema version " + std::to_string(v) +
                                 " is older than this build's " + std::to_string(kPgSchemaVersion) +
                                 "; run `driftwatch-collector migrate --store URL`");
    }
    return Status::Ok();
  }

  Status AddToken(const std::string& sha, Role role, const std::string& host_id, int64_t now_ns,
                  const TokenLimits& limits) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    return pg_lifecycle::AddToken(*c, sha, role, host_id, now_ns, limits);
  }

  Result<std::optional<TokenInfo>> LookupToken(const std::string& sha) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    return pg_lifecycle::LookupToken(*c, sha);
  }

  Result<std::vector<TokenRecord>> ListTokens() override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    return pg_lifecycle::ListTokens(*c);
  }

  Result<int64_t> RevokeToken(const std::string& id, int64_t now_ns) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    return pg_lifecycle::RevokeToken(*c, id, now_ns);
  }

  Status TouchToken(const std::string& sha, int64_t now_ns) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    return pg_lifecycle::TouchToken(*c, sha, now_ns);
  }

  Status EnrollHost(const std::string& host_id, const std::string& group,
                    const std::string& agent_version, const std::string& token_sha, int64_t now_ns,
                    const std::string& enroll_sha) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    return pg_lifecycle::EnrollHost(*c, host_id, group, agent_version, token_sha, now_ns,
                                    enroll_sha);
  }

  Status RemoveHost(const std::string& host_id, int64_t now_ns) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    return pg_lifecycle::RemoveHost(*c, host_id, now_ns);
  }

  Status RenameHost(const std::string& from, const std::string& to) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    return pg_lifecycle::RenameHost(*c, from, to);
  }

  Status TouchHost(const std::string& host_id, int64_t now_ns) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    return c
        ->Exec("host_touch",
               "UPDATE hosts SET last_seen_ns = greatest(last_seen_ns, $1) WHERE id = $2",
               {PgInt(now_ns), host_id})
        .status();
  }

  Status RecordRefusedReport(const std::string& host_id, const std::string& reason,
                             int64_t now_ns) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    DW_ASSIGN_OR_RETURN(auto r,
                        c->Exec("report_refused",
                                "INSERT INTO host_report_status(host_id, refused, refused_ns, "
                                "refused_reason) SELECT id, 1, $2, $3 FROM hosts WHERE id = $1 "
                                "ON CONFLICT (host_id) DO UPDATE SET refused = "
                                "host_report_status.refused + 1, refused_ns = excluded.refused_ns, "
                                "refused_reason = excluded.refused_reason RETURNING host_id",
                                {host_id, PgInt(now_ns), reason}));
    if (r.size() == 0) return Status::NotFound("unknown host '" + host_id + "'");
    return Status::Ok();
  }

  Result<std::vector<HostRecord>> ListHosts() override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    return ListHosts(*c);
  }

  Result<HostRecord> GetHost(const std::string& host_id) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    DW_ASSIGN_OR_RETURN(
        auto r, c->Exec("host_get", (HostSelect() + " WHERE hosts.id = $1").c_str(), {host_id}));
    if (r.size() == 0) return Status::NotFound("unknown host '" + host_id + "'");
    return store_rows::ReadHost(PgRow(r, 0));
  }

  Result<IngestResult> IngestReport(const ReportEnvelope& rep,
                                    const std::vector<AlertRoute>& routes) override {
    // Ingests of different hosts run in parallel, but never on every
    // pooled connection: one is always left for readers (/drift, the
    // dashboard), even while ingests wait for a host's ingest lock.
    IngestSlot slot(*this);
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    auto out = PgIngestReport(*c, partitions_, rep, routes);
    // 23514: no partition for the row; another collector's retention
    // dropped a month this one had cached. Forget it and create it again.
    if (!out.ok() && c->last_sqlstate() == "23514") {
      partitions_.Clear();
      out = PgIngestReport(*c, partitions_, rep, routes);
    }
    return out;
  }

  Result<std::vector<EventRecord>> QueryDrift(const DriftQuery& q) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    return PgQueryDrift(*c, q);
  }

  Result<std::vector<EventRecord>> PathHistory(const std::string& path,
                                               const EventPageQuery& page) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    return PgPathHistory(*c, path, page);
  }

  Result<FleetSummary> Summary(int64_t now_ns, int64_t silent_after_ns,
                               const HostListPage& page) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    FleetSummary out;
    // IsSilent in SQL: 3 * interval < age as interval <= (age - 1) / 3,
    // which cannot overflow.
#define DW_HOST_SILENT                                                                      \
  "(hosts.last_report_ns = 0 OR CASE WHEN hosts.interval_ns > 0 THEN hosts.interval_ns <= " \
  "($1::bigint - hosts.last_report_ns - 1) / 3 ELSE $1::bigint - hosts.last_report_ns > "   \
  "$2::bigint END)"
    static const std::string kCounts =
        std::string(
            "SELECT count(*), count(*) FILTER (WHERE hosts.last_report_events > 0), "
            "count(*) FILTER (WHERE " DW_HOST_SILENT
            "), count(*) FILTER (WHERE coalesce(s.refused, 0) > 0), "
            "coalesce(sum(coalesce(s.refused, 0)), 0)") +
        store_rows::kHostFrom;
    DW_ASSIGN_OR_RETURN(auto n, c->Exec("summary_counts", kCounts.c_str(),
                                        {PgInt(now_ns), PgInt(silent_after_ns)}));
    if (n.size() > 0) {
      out.hosts = n.Int(0, 0);
      out.drifted_hosts = n.Int(0, 1);
      out.silent_hosts = n.Int(0, 2);
      out.refused_hosts = n.Int(0, 3);
      out.reports_refused = n.Int(0, 4);
    }
    if (page.limit > 0) {
      // $4: attention only. Ids compare bytewise (COLLATE "C"), as they sort.
      static const std::string kPage =
          HostSelect() +
          " WHERE hosts.id COLLATE \"C\" > $3 AND (NOT $4::bool OR hosts.last_report_events > 0 "
          "OR " DW_HOST_SILENT
          " OR coalesce(s.refused, 0) > 0 OR EXISTS (SELECT 1 FROM integrity_alerts ia WHERE "
          "ia.host_id = hosts.id AND ia.resolved_ns = 0)) ORDER BY hosts.id COLLATE \"C\" "
          "LIMIT $5";
      DW_ASSIGN_OR_RETURN(auto r, c->Exec("summary_hosts", kPage.c_str(),
                                          {PgInt(now_ns), PgInt(silent_after_ns), page.after,
                                           std::string(page.attention ? "true" : "false"),
                                           PgInt(int64_t{page.limit} + 1)}));
      for (int i = 0; i < r.size(); ++i) out.host_list.push_back(store_rows::ReadHost(PgRow(r, i)));
      if (out.host_list.size() > static_cast<size_t>(page.limit)) {
        out.host_list.pop_back();
        out.more = true;
      }
    }
#undef DW_HOST_SILENT
    DW_ASSIGN_OR_RETURN(
        auto r,
        c->Exec("severity_counts",
                "SELECT severity, sum(n) FROM event_counts GROUP BY severity ORDER BY severity",
                {}));
    int64_t counts[5] = {0, 0, 0, 0, 0};
    for (int i = 0; i < r.size(); ++i) {
      int64_t sev = r.Int(i, 0);
      if (sev >= 1 && sev <= 4) counts[sev] = r.Int(i, 1);
    }
    for (int sev = 1; sev <= 4; ++sev) {
      out.events_by_severity.emplace_back(static_cast<Severity>(sev), counts[sev]);
    }
    return out;
  }

  Result<int64_t> QueueCommand(const std::string& host_id, const std::string& kind,
                               int64_t now_ns) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    DW_ASSIGN_OR_RETURN(auto r, c->Exec("command_queue",
                                        "INSERT INTO commands(host_id, kind, created_ns) "
                                        "SELECT id, $2, $3 FROM hosts WHERE id = $1 RETURNING id",
                                        {host_id, kind, PgInt(now_ns)}));
    if (r.size() == 0) return Status::NotFound("unknown host '" + host_id + "'");
    return r.Int(0, 0);
  }

  Result<std::vector<int64_t>> QueueCommandForGroup(const std::string& group,
                                                    const std::string& kind,
                                                    int64_t now_ns) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    DW_ASSIGN_OR_RETURN(auto r, c->Exec("command_queue_group",
                                        "INSERT INTO commands(host_id, kind, created_ns) "
                                        "SELECT id, $2, $3 FROM hosts WHERE $1 = '' OR grp = $1 "
                                        "ORDER BY id COLLATE \"C\" RETURNING id",
                                        {group, kind, PgInt(now_ns)}));
    std::vector<int64_t> ids;
    for (int i = 0; i < r.size(); ++i) ids.push_back(r.Int(i, 0));
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  Result<std::vector<CommandRecord>> TakeCommands(const std::string& host_id,
                                                  int64_t now_ns) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    // Rows another collector is handing out right now are skipped, not
    // waited for: each command goes to exactly one caller.
    DW_ASSIGN_OR_RETURN(
        auto r, c->Exec("command_take",
                        "UPDATE commands SET handed_out_ns = $2 WHERE id IN ("
                        "SELECT id FROM commands WHERE host_id = $1 AND handed_out_ns = 0 "
                        "ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED) RETURNING id, host_id, "
                        "kind, created_ns, handed_out_ns, acked_ns, ok, detail, paths, args",
                        {host_id, PgInt(now_ns)}));
    auto out = ReadCommands(r);
    std::sort(out.begin(), out.end(),
              [](const CommandRecord& a, const CommandRecord& b) { return a.id < b.id; });
    return out;
  }

  Status AckCommand(const std::string& host_id, int64_t command_id, const CommandAck& ack,
                    int64_t now_ns) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    PgTx tx(*c);
    DW_RETURN_IF_ERROR(tx.Begin());
    // Only a command handed out and not yet acknowledged takes an ack; a
    // concurrent ack of the same command waits for this row's lock and then
    // finds acked_ns set.
    DW_ASSIGN_OR_RETURN(auto r, c->Exec("command_ack",
                                        "UPDATE commands SET acked_ns = $1, ok = $2, detail = $3 "
                                        "WHERE id = $4 AND host_id = $5 AND handed_out_ns <> 0 "
                                        "AND acked_ns = 0",
                                        {PgInt(now_ns), std::string(ack.ok ? "t" : "f"), ack.detail,
                                         PgInt(command_id), host_id}));
    if (r.affected() == 0) {
      DW_ASSIGN_OR_RETURN(auto q, c->Exec("command_ack_state",
                                          "SELECT handed_out_ns, acked_ns FROM commands "
                                          "WHERE id = $1 AND host_id = $2",
                                          {PgInt(command_id), host_id}));
      if (q.size() == 0) return AckRefusal(host_id, command_id, std::nullopt);
      return AckRefusal(host_id, command_id, CommandState{q.Int(0, 0), q.Int(0, 1)});
    }
    if (ack.ok && ack.baseline_revision > 0) {
      std::string root = ack.baseline_root ? ack.baseline_root->Hex() : "";
      DW_RETURN_IF_ERROR(
          c->Exec("command_ack_baseline",
                  "UPDATE hosts SET baseline = $1, baseline_revision = $2, "
                  "baseline_since_ns = $3, root = CASE WHEN $4 = '' THEN root ELSE $4 END, "
                  "last_seen_ns = greatest(last_seen_ns, $5) WHERE id = $6",
                  {ack.baseline, PgInt(ack.baseline_revision),
                   PgInt(ack.baseline_created_ns ? ack.baseline_created_ns : now_ns), root,
                   PgInt(now_ns), host_id})
              .status());
      DW_RETURN_IF_ERROR(
          PgRecordBaseline(*c, host_id, ack.baseline, ack.baseline_revision, root,
                           ack.baseline_created_ns ? ack.baseline_created_ns : now_ns, now_ns));
    }
    return tx.Commit();
  }

  Result<std::vector<CommandRecord>> ListCommands(const std::string& host_id) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    DW_ASSIGN_OR_RETURN(auto r, c->Exec("command_list",
                                        (std::string("SELECT ") + kCommandColumns +
                                         " FROM commands WHERE host_id = $1 ORDER BY id")
                                            .c_str(),
                                        {host_id}));
    return ReadCommands(r);
  }

  Result<int64_t> QueueAccept(const std::string& host_id, const std::vector<std::string>& paths,
                              int64_t now_ns) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    DW_ASSIGN_OR_RETURN(auto r, c->Exec("command_accept",
                                        "INSERT INTO commands(host_id, kind, created_ns, paths) "
                                        "SELECT id, 'accept', $2, $3 FROM hosts WHERE id = $1 "
                                        "RETURNING id",
                                        {host_id, PgInt(now_ns), PathsToJson(paths)}));
    if (r.size() == 0) return Status::NotFound("unknown host '" + host_id + "'");
    return r.Int(0, 0);
  }

  Result<std::vector<int64_t>> QueueRestore(const std::string& host_id, const std::string& group,
                                            const CommandRecord& restore, int64_t now_ns) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    CommandRecord args = restore;
    args.kind = "restore";
    DW_ASSIGN_OR_RETURN(auto r,
                        c->Exec("command_restore",
                                "INSERT INTO commands(host_id, kind, created_ns, paths, args) "
                                "SELECT id, 'restore', $3, $4, $5 FROM hosts WHERE "
                                "($1 <> '' AND id = $1) OR ($1 = '' AND ($2 = '' OR grp = $2)) "
                                "ORDER BY id COLLATE \"C\" RETURNING id",
                                {host_id, group, PgInt(now_ns), PathsToJson(restore.paths),
                                 RestoreArgsToJson(args)}));
    if (!host_id.empty() && r.size() == 0) {
      return Status::NotFound("unknown host '" + host_id + "'");
    }
    std::vector<int64_t> ids;
    for (int i = 0; i < r.size(); ++i) ids.push_back(r.Int(i, 0));
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  Result<std::string> EventDiff(int64_t event_id) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    DW_ASSIGN_OR_RETURN(auto r,
                        c->Exec("event_diff", "SELECT coalesce(diff, '') FROM events WHERE id = $1",
                                {PgInt(event_id)}));
    if (r.size() == 0) return Status::NotFound("no event " + std::to_string(event_id));
    return r.Text(0, 0);
  }

  Result<HostInventory> GetInventory(const std::string& host_id) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    DW_RETURN_IF_ERROR(HostExists(*c, host_id));
    return PgReadInventory(*c, host_id);
  }

  Result<std::vector<BaselineRevision>> ListBaselines(const std::string& host_id) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    DW_RETURN_IF_ERROR(HostExists(*c, host_id));
    return PgReadBaselines(*c, host_id);
  }

  Result<std::vector<ImageUsage>> ListImages() override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    return PgReadImages(*c);
  }

  Result<std::vector<FleetContainer>> ListContainers(const ContainerQuery& q) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    return PgReadContainers(*c, q);
  }

  Result<std::vector<PendingAlert>> DueAlerts(int64_t now_ns, int limit) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    DW_ASSIGN_OR_RETURN(auto r,
                        c->Exec("alerts_due",
                                "SELECT a.id, a.route, a.event_id, a.attempts, e.id, e.host_id, "
                                "e.report_id, e.detected_ns, e.received_ns, e.body FROM alerts a "
                                "JOIN events e ON e.id = a.event_id WHERE a.delivered_ns = 0 AND "
                                "a.next_ns <= $1 ORDER BY a.id LIMIT $2",
                                {PgInt(now_ns), PgInt(limit)}));
    std::vector<PendingAlert> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(store_rows::ReadAlert(PgRow(r, i)));
    return out;
  }

  Status MarkAlertDelivered(int64_t alert_id, int64_t now_ns) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    return c
        ->Exec("alert_delivered",
               "UPDATE alerts SET delivered_ns = $1, attempts = attempts + 1 WHERE id = $2",
               {PgInt(now_ns), PgInt(alert_id)})
        .status();
  }

  Status RescheduleAlert(int64_t alert_id, int attempts, int64_t next_ns,
                         const std::string& error) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    return c
        ->Exec("alert_reschedule",
               "UPDATE alerts SET attempts = $1, next_ns = $2, last_error = $3 WHERE id = $4",
               {PgInt(attempts), PgInt(next_ns), error, PgInt(alert_id)})
        .status();
  }

  Result<int64_t> PruneEvents(int64_t cutoff_ns, int batch) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    return PgPruneEvents(*c, partitions_, cutoff_ns, batch);
  }

  TreeStore& trees() override { return *trees_; }

  Status CheckHealth() override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    DW_ASSIGN_OR_RETURN(auto r, c->Exec("health",
                                        "SELECT (SELECT count(*) FROM hosts), "
                                        "(SELECT max(seq) FROM reports)",
                                        {}));
    (void)r;
    return Status::Ok();
  }

  Result<StoreCounts> Counts() override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    DW_ASSIGN_OR_RETURN(auto r, c->Exec("counts", store_rows::kCountsSelect, {}));
    return store_rows::ReadCounts(PgRow(r, 0));
  }

  Result<std::vector<IntegrityAlert>> ListIntegrityAlerts(const IntegrityQuery& q) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    return PgListIntegrityAlerts(*c, q);
  }

  Result<HostChain> GetHostChain(const std::string& host_id) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    return PgGetHostChain(*c, host_id);
  }

  Result<int64_t> TrustReset(const std::string& host_id, const std::string& by,
                             const std::string& reason, int64_t now_ns) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    return PgTrustReset(*c, host_id, by, reason, now_ns);
  }

  Result<std::vector<EventChainFinding>> VerifyEventChains(
      const std::string& host_id, const std::map<std::string, ExportedHead>& expected) override {
    DW_ASSIGN_OR_RETURN(auto c, pool_->Acquire());
    return PgVerifyEventChains(*c, host_id, expected);
  }

 private:
  static Status HostExists(PgConn& c, const std::string& host_id) {
    DW_ASSIGN_OR_RETURN(auto r,
                        c.Exec("host_exists", "SELECT 1 FROM hosts WHERE id = $1", {host_id}));
    if (r.size() == 0) return Status::NotFound("unknown host '" + host_id + "'");
    return Status::Ok();
  }

  static Result<std::vector<HostRecord>> ListHosts(PgConn& c) {
    DW_ASSIGN_OR_RETURN(
        auto r,
        c.Exec("host_list", (HostSelect() + " ORDER BY hosts.id COLLATE \"C\"").c_str(), {}));
    std::vector<HostRecord> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(store_rows::ReadHost(PgRow(r, i)));
    return out;
  }

  // One of the max_ingests_ ingests allowed at once, held for the whole
  // ingest.
  class IngestSlot {
   public:
    explicit IngestSlot(PgStore& s) : s_(s) {
      std::unique_lock<std::mutex> lock(s_.ingest_mu_);
      s_.ingest_cv_.wait(lock, [this] { return s_.ingests_ < s_.max_ingests_; });
      ++s_.ingests_;
    }
    ~IngestSlot() {
      std::lock_guard<std::mutex> lock(s_.ingest_mu_);
      --s_.ingests_;
      s_.ingest_cv_.notify_one();
    }

   private:
    PgStore& s_;
  };

  std::unique_ptr<PgPool> pool_;
  const std::unique_ptr<TreeStore> trees_;  // borrows pool_
  PgPartitions partitions_;
  const int max_ingests_;
  std::mutex ingest_mu_;  // guards ingests_
  std::condition_variable ingest_cv_;
  int ingests_ = 0;  // ingests under way
};

}  // namespace

Result<int> MigratePgStore(const std::string& url) {
  DW_ASSIGN_OR_RETURN(auto c, PgConn::Connect(url, 10));
  int before = -1;
  for (const PgMigration& m : PgMigrations()) {
    PgTx tx(*c);
    DW_RETURN_IF_ERROR(tx.Begin());
    DW_RETURN_IF_ERROR(
        c->Exec("schema_lock", "SELECT pg_advisory_xact_lock($1)", {PgInt(kPgSchemaLock)})
            .status());
    DW_RETURN_IF_ERROR(
        c->ExecScript("CREATE TABLE IF NOT EXISTS schema_versions(component TEXT PRIMARY KEY, "
                      "version INTEGER NOT NULL)"));
    DW_ASSIGN_OR_RETURN(int v, ReadVersion(*c));
    if (before < 0) before = v;
    if (v > kPgSchemaVersion) return NewerSchema(v);
    if (v >= m.version) continue;  // the rollback undoes nothing of note
    DW_RETURN_IF_ERROR(c->ExecScript(m.sql).WithContext("migration " + std::to_string(m.version)));
    DW_RETURN_IF_ERROR(c->Exec("version_write",
                               "INSERT INTO schema_versions(component, version) VALUES($1, $2) "
                               "ON CONFLICT (component) DO UPDATE SET version = $2",
                               {std::string(kComponent), PgInt(m.version)})
                           .status());
    DW_RETURN_IF_ERROR(tx.Commit());
  }
  return before < 0 ? 0 : before;
}

Result<std::unique_ptr<FleetStore>> OpenPgStore(const std::string& url,
                                                const PgStoreOptions& options) {
  DW_ASSIGN_OR_RETURN(auto pool, PgPool::Open(url, options.pool_size, options.connect_timeout_s));
  auto store = std::make_unique<PgStore>(std::move(pool), options.pool_size);
  DW_RETURN_IF_ERROR(store->CheckVersion());
  return std::unique_ptr<FleetStore>(std::move(store));
}

bool HavePostgres() { return true; }

}  // namespace driftwatch::collector
