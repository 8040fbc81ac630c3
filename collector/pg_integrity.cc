// Integrity in the PostgreSQL fleet store (pg_integrity.h).
#include "collector/pg_integrity.h"

#include <cpprest/json.h>

#include "collector/pg_events.h"

namespace driftwatch::collector {
namespace {

using web::json::value;

Status EnsureRow(PgConn& c, const std::string& host_id) {
  const std::string& g = chain::GenesisHead();
  return c
      .Exec("chain_host_make",
            "INSERT INTO chain_hosts(host_id, held_head, events_head, anchor_head) "
            "VALUES($1, $2, $2, $2) ON CONFLICT (host_id) DO NOTHING",
            {host_id, g})
      .status();
}

class PgLedger : public EscrowLedger {
 public:
  PgLedger(PgConn& c, const std::string& host_id, int64_t epoch)
      : c_(c), host_id_(host_id), epoch_(epoch) {}

  Result<std::string> HeadAt(int64_t seq) override {
    DW_ASSIGN_OR_RETURN(auto r, c_.Exec("chain_head_at",
                                        "SELECT head FROM chain_records WHERE host_id = $1 AND "
                                        "epoch = $2 AND seq = $3",
                                        {host_id_, PgInt(epoch_), PgInt(seq)}));
    if (r.size() == 0) {
      return Status::Internal("the escrow of host '" + host_id_ + "' has no record " +
                              std::to_string(seq) + " in epoch " + std::to_string(epoch_));
    }
    return r.Text(0, 0);
  }

  Result<std::optional<EscrowedBaseline>> LatestBaseline(const std::string& name) override {
    DW_ASSIGN_OR_RETURN(auto r, c_.Exec("chain_baseline_of",
                                        "SELECT revision, root, seq FROM chain_baselines WHERE "
                                        "host_id = $1 AND epoch = $2 AND name = $3",
                                        {host_id_, PgInt(epoch_), name}));
    if (r.size() == 0) return std::optional<EscrowedBaseline>();
    return std::optional<EscrowedBaseline>(
        EscrowedBaseline{name, r.Int(0, 0), r.Text(0, 1), r.Int(0, 2)});
  }

 private:
  PgConn& c_;
  const std::string& host_id_;
  int64_t epoch_;
};

Status RaiseAlert(PgConn& c, const std::string& host_id, int64_t epoch, const IntegrityFinding& f,
                  int64_t now_ns, int64_t* raised) {
  if (!f.explained && f.seq > 0) {
    DW_ASSIGN_OR_RETURN(auto r, c.Exec("integrity_open_same",
                                       "SELECT 1 FROM integrity_alerts WHERE host_id = $1 AND "
                                       "kind = $2 AND epoch = $3 AND seq = $4 AND "
                                       "resolved_ns = 0",
                                       {host_id, f.kind, PgInt(epoch), PgInt(f.seq)}));
    if (r.size() > 0) return Status::Ok();
  }
  DW_RETURN_IF_ERROR(
      c.Exec("integrity_raise",
             "INSERT INTO integrity_alerts(host_id, kind, severity, epoch, seq, detail, "
             "detected_ns, resolved_ns, resolved_by, resolution) "
             "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
             {host_id, f.kind, f.severity, PgInt(epoch), PgInt(f.seq), f.detail, PgInt(now_ns),
              PgInt(f.explained ? now_ns : 0), std::string(f.explained ? "collector" : ""),
              f.explanation})
          .status());
  ++*raised;
  return Status::Ok();
}

}  // namespace

Result<std::string> PgStoredDriftwatchVersion(PgConn& c, const std::string& host_id) {
  DW_ASSIGN_OR_RETURN(auto p, c.Exec("chain_pkg_version",
                                     "SELECT version FROM host_packages WHERE host_id = $1 "
                                     "AND name = 'driftwatch' LIMIT 1",
                                     {host_id}));
  return p.size() > 0 ? p.Text(0, 0) : std::string();
}

Status PgIngestIntegrity(PgConn& c, const ReportEnvelope& rep,
                         const std::string& stored_package_version, IngestResult* out,
                         std::vector<int64_t>* seqs, std::vector<std::string>* heads) {
  const CheckResult& r = rep.result;
  DW_RETURN_IF_ERROR(EnsureRow(c, rep.host_id));
  // The host's chain row is the lock that serializes its ingests.
  DW_ASSIGN_OR_RETURN(auto row,
                      c.Exec("chain_host_lock",
                             "SELECT epoch, held_length, held_head, adopted, self_ns, self_exe, "
                             "self_rules, self_config, self_version, events_length, events_head "
                             "FROM chain_hosts WHERE host_id = $1 FOR UPDATE",
                             {rep.host_id}));
  if (row.size() == 0) return Status::Internal("chain_hosts row missing for '" + rep.host_id + "'");
  const HeldChain held{row.Int(0, 0), row.Int(0, 1), row.Text(0, 2), row.Text(0, 3) == "t"};
  if (r.chain) {
    PgLedger ledger(c, rep.host_id, held.epoch);
    DW_ASSIGN_OR_RETURN(ChainVerdict v, JudgeChain(held, *r.chain, ledger));
    for (const auto& [rec, head] : v.escrow) {
      // A plain INSERT: an escrowed record is never replaced.
      DW_RETURN_IF_ERROR(c.Exec("chain_escrow",
                                "INSERT INTO chain_records(host_id, epoch, seq, kind, time_ns, "
                                "body, head, received_ns) VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
                                {rep.host_id, PgInt(held.epoch), PgInt(rec.seq), rec.kind,
                                 PgInt(rec.time_ns), rec.body, head, PgInt(rep.received_ns)})
                             .status());
    }
    for (const EscrowedBaseline& b : v.baselines) {
      DW_RETURN_IF_ERROR(
          c.Exec("chain_baseline_put",
                 "INSERT INTO chain_baselines(host_id, epoch, name, revision, root, seq) "
                 "VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT (host_id, epoch, name) DO UPDATE "
                 "SET revision = excluded.revision, root = excluded.root, seq = excluded.seq",
                 {rep.host_id, PgInt(held.epoch), b.name, PgInt(b.revision), b.root, PgInt(b.seq)})
              .status());
    }
    DW_RETURN_IF_ERROR(c.Exec("chain_held_put",
                              "UPDATE chain_hosts SET held_length = $2, held_head = $3, "
                              "adopted = $4 WHERE host_id = $1",
                              {rep.host_id, PgInt(v.next.length), v.next.head,
                               std::string(v.next.adopted ? "true" : "false")})
                           .status());
    for (const IntegrityFinding& f : v.findings) {
      DW_RETURN_IF_ERROR(
          RaiseAlert(c, rep.host_id, held.epoch, f, rep.received_ns, &out->integrity_alerts));
    }
    out->chain = v.answer;
  }
  if (r.self) {
    SelfContext ctx;
    if (row.Int(0, 4) != 0) {
      ctx.previous =
          chain::SelfDigests{row.Text(0, 5), row.Text(0, 6), row.Text(0, 7), row.Text(0, 8)};
    }
    if (r.packages && r.packages->full) {
      ctx.report_package_version = DriftwatchPackageVersion(r.packages->list);
      ctx.stored_package_version = stored_package_version;
    }
    static const std::vector<chain::Record> kNone;
    for (const IntegrityFinding& f : JudgeSelf(ctx, *r.self, r.chain ? r.chain->records : kNone)) {
      DW_RETURN_IF_ERROR(
          RaiseAlert(c, rep.host_id, held.epoch, f, rep.received_ns, &out->integrity_alerts));
    }
    DW_RETURN_IF_ERROR(c.Exec("chain_self_put",
                              "UPDATE chain_hosts SET self_ns = $2, self_exe = $3, "
                              "self_rules = $4, self_config = $5, self_version = $6 "
                              "WHERE host_id = $1",
                              {rep.host_id, PgInt(rep.received_ns), r.self->exe, r.self->rules,
                               r.self->config, r.self->version})
                           .status());
  }
  int64_t length = row.Int(0, 9);
  std::string head = row.Text(0, 10);
  for (size_t i = 0; i < r.events.size(); ++i) {
    ++length;
    head = chain::NextHead(
        head, chain::RecordHash(EventChainRecord(length, r.finished_ns, rep.report_id,
                                                 rep.events_json[i], r.events[i].diff)));
    seqs->push_back(length);
    heads->push_back(head);
  }
  if (!r.events.empty()) {
    DW_RETURN_IF_ERROR(c.Exec("chain_events_put",
                              "UPDATE chain_hosts SET events_length = $2, events_head = $3 "
                              "WHERE host_id = $1",
                              {rep.host_id, PgInt(length), head})
                           .status());
  }
  return Status::Ok();
}

Result<std::vector<IntegrityAlert>> PgListIntegrityAlerts(PgConn& c, const IntegrityQuery& q) {
  DW_ASSIGN_OR_RETURN(
      auto r, c.Exec("integrity_list",
                     "SELECT id, host_id, kind, severity, epoch, seq, detail, detected_ns, "
                     "resolved_ns, resolved_by, resolution FROM integrity_alerts WHERE "
                     "($1::text IS NULL OR host_id = $1) AND (NOT $2::bool OR resolved_ns = 0) "
                     "ORDER BY id DESC LIMIT $3",
                     {q.host.empty() ? PgParam() : PgParam(q.host),
                      std::string(q.open_only ? "true" : "false"), PgInt(q.limit)}));
  std::vector<IntegrityAlert> out;
  for (int i = 0; i < r.size(); ++i) {
    out.push_back({r.Int(i, 0), r.Text(i, 1), r.Text(i, 2), r.Text(i, 3), r.Int(i, 4), r.Int(i, 5),
                   r.Text(i, 6), r.Int(i, 7), r.Int(i, 8), r.Text(i, 9), r.Text(i, 10)});
  }
  return out;
}

Result<HostChain> PgGetHostChain(PgConn& c, const std::string& host_id) {
  DW_ASSIGN_OR_RETURN(auto h,
                      c.Exec("chain_host_exists", "SELECT 1 FROM hosts WHERE id = $1", {host_id}));
  if (h.size() == 0) return Status::NotFound("unknown host '" + host_id + "'");
  HostChain out;
  out.host_id = host_id;
  DW_ASSIGN_OR_RETURN(
      auto r, c.Exec("chain_host_read",
                     "SELECT epoch, held_length, held_head, adopted, epoch_started_ns, "
                     "epoch_reason, self_ns, self_exe, self_rules, self_config, self_version, "
                     "events_length, events_head, anchor_seq, anchor_head, "
                     "(SELECT count(*) FROM integrity_alerts a WHERE a.host_id = $1 AND "
                     "a.resolved_ns = 0) FROM chain_hosts WHERE host_id = $1",
                     {host_id}));
  if (r.size() == 0) return out;
  out.held = {r.Int(0, 0), r.Int(0, 1), r.Text(0, 2), r.Text(0, 3) == "t"};
  out.epoch_started_ns = r.Int(0, 4);
  out.epoch_reason = r.Text(0, 5);
  out.self_ns = r.Int(0, 6);
  if (out.self_ns != 0) {
    out.self = chain::SelfDigests{r.Text(0, 7), r.Text(0, 8), r.Text(0, 9), r.Text(0, 10)};
  }
  out.events = {r.Int(0, 11), r.Text(0, 12), r.Int(0, 13), r.Text(0, 14)};
  out.open_alerts = r.Int(0, 15);
  return out;
}

Result<int64_t> PgTrustReset(PgConn& c, const std::string& host_id, const std::string& by,
                             const std::string& reason, int64_t now_ns) {
  PgTx tx(c);
  DW_RETURN_IF_ERROR(tx.Begin());
  // The ingest lock first, as host removal takes it: the locks are taken in
  // the order an ingest takes them, and no report of the host is judged
  // across the reset.
  DW_RETURN_IF_ERROR(PgLockHostIngest(c, host_id));
  DW_ASSIGN_OR_RETURN(
      auto h, c.Exec("trust_host_lock", "SELECT 1 FROM hosts WHERE id = $1 FOR UPDATE", {host_id}));
  if (h.size() == 0) return Status::NotFound("unknown host '" + host_id + "'");
  DW_RETURN_IF_ERROR(EnsureRow(c, host_id));
  // The escrowed records of the old epoch stay; the new one holds nothing.
  DW_ASSIGN_OR_RETURN(
      auto e, c.Exec("trust_reset",
                     "UPDATE chain_hosts SET epoch = epoch + 1, held_length = 0, held_head = $2, "
                     "adopted = false, epoch_started_ns = $3, epoch_reason = $4 "
                     "WHERE host_id = $1 RETURNING epoch",
                     {host_id, chain::GenesisHead(), PgInt(now_ns), reason}));
  DW_RETURN_IF_ERROR(c.Exec("trust_resolve",
                            "UPDATE integrity_alerts SET resolved_ns = $2, resolved_by = $3, "
                            "resolution = $4 WHERE host_id = $1 AND resolved_ns = 0",
                            {host_id, PgInt(now_ns), by, "trust reset: " + reason})
                         .status());
  const int64_t epoch = e.size() > 0 ? e.Int(0, 0) : 0;
  DW_RETURN_IF_ERROR(tx.Commit());
  return epoch;
}

Result<std::vector<EventChainFinding>> PgVerifyEventChains(
    PgConn& c, const std::string& host_id, const std::map<std::string, ExportedHead>& expected) {
  DW_ASSIGN_OR_RETURN(auto hosts,
                      c.Exec("chain_verify_hosts",
                             "SELECT host_id, events_length, events_head, anchor_seq, anchor_head "
                             "FROM chain_hosts WHERE ($1::text IS NULL OR host_id = $1) "
                             "ORDER BY host_id",
                             {host_id.empty() ? PgParam() : PgParam(host_id)}));
  std::vector<EventChainFinding> out;
  for (int h = 0; h < hosts.size(); ++h) {
    const std::string host = hosts.Text(h, 0);
    const EventChainHead want{hosts.Int(h, 1), hosts.Text(h, 2), hosts.Int(h, 3), hosts.Text(h, 4)};
    std::optional<ExportedHead> exported;
    if (auto it = expected.find(host); it != expected.end()) exported = it->second;
    EventChainVerifier v(host, want, exported);
    // In pages of seq, so that memory does not grow with the history.
    int64_t after = want.anchor_seq;
    while (true) {
      DW_ASSIGN_OR_RETURN(
          auto r, c.Exec("chain_verify_events",
                         "SELECT id, chain_seq, detected_ns, report_id, body, "
                         "coalesce(diff, ''), chain_head FROM events WHERE host_id = $1 AND "
                         "chain_seq > $2 ORDER BY chain_seq LIMIT 5000",
                         {host, PgInt(after)}));
      for (int i = 0; i < r.size(); ++i) {
        v.Add({r.Int(i, 0), r.Int(i, 1), r.Int(i, 2), r.Text(i, 3), r.Text(i, 4), r.Text(i, 5),
               r.Text(i, 6)});
        after = r.Int(i, 1);
      }
      if (r.size() < 5000) break;
    }
    for (EventChainFinding& f : v.Finish()) out.push_back(std::move(f));
  }
  return out;
}

}  // namespace driftwatch::collector
