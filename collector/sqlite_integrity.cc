// Integrity in the SQLite fleet store (sqlite_integrity.h).
#include "collector/sqlite_integrity.h"

#include <cpprest/json.h>

namespace driftwatch::collector::sqlite_integrity {
namespace {

using web::json::value;

// The host's row of chain_hosts, made when missing.
Status EnsureRow(sqlite::Db& db, const std::string& host_id) {
  DW_ASSIGN_OR_RETURN(auto s, db.Prepare("INSERT OR IGNORE INTO chain_hosts(host_id, held_head, "
                                         "events_head, anchor_head) VALUES(?, ?, ?, ?)"));
  const std::string& g = chain::GenesisHead();
  return s.Bind(1, host_id).Bind(2, g).Bind(3, g).Bind(4, g).Run();
}

class SqliteLedger : public EscrowLedger {
 public:
  SqliteLedger(sqlite::Db& db, const std::string& host_id, int64_t epoch)
      : db_(db), host_id_(host_id), epoch_(epoch) {}

  Result<std::string> HeadAt(int64_t seq) override {
    DW_ASSIGN_OR_RETURN(auto s, db_.Prepare("SELECT head FROM chain_records WHERE host_id = ? "
                                            "AND epoch = ? AND seq = ?"));
    s.Bind(1, host_id_).Bind(2, epoch_).Bind(3, seq);
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) {
      return Status::Internal("the escrow of host '" + host_id_ + "' has no record " +
                              std::to_string(seq) + " in epoch " + std::to_string(epoch_));
    }
    std::string head = s.Text(0);
    s.Reset();
    return head;
  }

  Result<std::optional<EscrowedBaseline>> LatestBaseline(const std::string& name) override {
    DW_ASSIGN_OR_RETURN(auto s, db_.Prepare("SELECT revision, root, seq FROM chain_baselines "
                                            "WHERE host_id = ? AND epoch = ? AND name = ?"));
    s.Bind(1, host_id_).Bind(2, epoch_).Bind(3, name);
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<EscrowedBaseline>();
    EscrowedBaseline b{name, s.Int(0), s.Text(1), s.Int(2)};
    s.Reset();
    return std::optional<EscrowedBaseline>(std::move(b));
  }

 private:
  sqlite::Db& db_;
  const std::string& host_id_;
  int64_t epoch_;
};

// Stores a finding; an open alert of the same kind, epoch and seq (a fork
// seen again at the next report) is not raised twice.
Status RaiseAlert(sqlite::Db& db, const std::string& host_id, int64_t epoch,
                  const IntegrityFinding& f, int64_t now_ns, int64_t* raised) {
  if (!f.explained && f.seq > 0) {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT 1 FROM integrity_alerts WHERE host_id = ? "
                                           "AND kind = ? AND epoch = ? AND seq = ? AND "
                                           "resolved_ns = 0"));
    s.Bind(1, host_id).Bind(2, f.kind).Bind(3, epoch).Bind(4, f.seq);
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    s.Reset();
    if (row) return Status::Ok();
  }
  DW_ASSIGN_OR_RETURN(
      auto s, db.Prepare("INSERT INTO integrity_alerts(host_id, kind, severity, epoch, seq, "
                         "detail, detected_ns, resolved_ns, resolved_by, resolution) "
                         "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  s.Bind(1, host_id)
      .Bind(2, f.kind)
      .Bind(3, f.severity)
      .Bind(4, epoch)
      .Bind(5, f.seq)
      .Bind(6, f.detail)
      .Bind(7, now_ns)
      .Bind(8, f.explained ? now_ns : int64_t{0})
      .Bind(9, std::string(f.explained ? "collector" : ""))
      .Bind(10, f.explanation);
  DW_RETURN_IF_ERROR(s.Run());
  ++*raised;
  return Status::Ok();
}

}  // namespace

Status Ingest(sqlite::Db& db, const ReportEnvelope& rep, IngestResult* out) {
  const CheckResult& r = rep.result;
  if (!r.chain && !r.self) return Status::Ok();
  DW_RETURN_IF_ERROR(EnsureRow(db, rep.host_id));
  HeldChain held;
  std::optional<chain::SelfDigests> self;
  {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT epoch, held_length, held_head, adopted, "
                                           "self_ns, self_exe, self_rules, self_config, "
                                           "self_version FROM chain_hosts WHERE host_id = ?"));
    s.Bind(1, rep.host_id);
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Status::Internal("chain_hosts row missing for '" + rep.host_id + "'");
    held = {s.Int(0), s.Int(1), s.Text(2), s.Int(3) != 0};
    if (s.Int(4) != 0) self = chain::SelfDigests{s.Text(5), s.Text(6), s.Text(7), s.Text(8)};
    s.Reset();
  }
  if (r.chain) {
    SqliteLedger ledger(db, rep.host_id, held.epoch);
    DW_ASSIGN_OR_RETURN(ChainVerdict v, JudgeChain(held, *r.chain, ledger));
    for (const auto& [rec, head] : v.escrow) {
      // A plain INSERT: an escrowed record is never replaced.
      DW_ASSIGN_OR_RETURN(
          auto s, db.Prepare("INSERT INTO chain_records(host_id, epoch, seq, kind, time_ns, "
                             "body, head, received_ns) VALUES(?, ?, ?, ?, ?, ?, ?, ?)"));
      DW_RETURN_IF_ERROR(s.Bind(1, rep.host_id)
                             .Bind(2, held.epoch)
                             .Bind(3, rec.seq)
                             .Bind(4, rec.kind)
                             .Bind(5, rec.time_ns)
                             .Bind(6, rec.body)
                             .Bind(7, head)
                             .Bind(8, rep.received_ns)
                             .Run());
    }
    for (const EscrowedBaseline& b : v.baselines) {
      DW_ASSIGN_OR_RETURN(auto s,
                          db.Prepare("INSERT OR REPLACE INTO chain_baselines(host_id, epoch, name, "
                                     "revision, root, seq) VALUES(?, ?, ?, ?, ?, ?)"));
      DW_RETURN_IF_ERROR(s.Bind(1, rep.host_id)
                             .Bind(2, held.epoch)
                             .Bind(3, b.name)
                             .Bind(4, b.revision)
                             .Bind(5, b.root)
                             .Bind(6, b.seq)
                             .Run());
    }
    {
      DW_ASSIGN_OR_RETURN(auto s, db.Prepare("UPDATE chain_hosts SET held_length = ?, "
                                             "held_head = ?, adopted = ? WHERE host_id = ?"));
      DW_RETURN_IF_ERROR(s.Bind(1, v.next.length)
                             .Bind(2, v.next.head)
                             .Bind(3, int64_t{v.next.adopted ? 1 : 0})
                             .Bind(4, rep.host_id)
                             .Run());
    }
    for (const IntegrityFinding& f : v.findings) {
      DW_RETURN_IF_ERROR(
          RaiseAlert(db, rep.host_id, held.epoch, f, rep.received_ns, &out->integrity_alerts));
    }
    out->chain = v.answer;
  }
  if (r.self) {
    SelfContext ctx;
    ctx.previous = self;
    if (r.packages && r.packages->full) {
      ctx.report_package_version = DriftwatchPackageVersion(r.packages->list);
      DW_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT version FROM host_packages WHERE "
                                             "host_id = ? AND name = 'driftwatch' LIMIT 1"));
      s.Bind(1, rep.host_id);
      DW_ASSIGN_OR_RETURN(bool row, s.Step());
      if (row) ctx.stored_package_version = s.Text(0);
      s.Reset();
    }
    static const std::vector<chain::Record> kNone;
    for (const IntegrityFinding& f : JudgeSelf(ctx, *r.self, r.chain ? r.chain->records : kNone)) {
      DW_RETURN_IF_ERROR(
          RaiseAlert(db, rep.host_id, held.epoch, f, rep.received_ns, &out->integrity_alerts));
    }
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("UPDATE chain_hosts SET self_ns = ?, self_exe = ?, "
                                           "self_rules = ?, self_config = ?, self_version = ? "
                                           "WHERE host_id = ?"));
    DW_RETURN_IF_ERROR(s.Bind(1, rep.received_ns)
                           .Bind(2, r.self->exe)
                           .Bind(3, r.self->rules)
                           .Bind(4, r.self->config)
                           .Bind(5, r.self->version)
                           .Bind(6, rep.host_id)
                           .Run());
  }
  return Status::Ok();
}

Result<EventChainWriter> EventChainWriter::Open(sqlite::Db& db, const std::string& host_id) {
  DW_RETURN_IF_ERROR(EnsureRow(db, host_id));
  DW_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT events_length, events_head FROM chain_hosts "
                                         "WHERE host_id = ?"));
  s.Bind(1, host_id);
  DW_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::Internal("chain_hosts row missing for '" + host_id + "'");
  EventChainWriter w;
  w.host_id_ = host_id;
  w.length_ = s.Int(0);
  w.head_ = s.Text(1);
  s.Reset();
  return w;
}

std::pair<int64_t, std::string> EventChainWriter::Next(int64_t detected_ns,
                                                       const std::string& report_id,
                                                       const std::string& event_json,
                                                       const std::string& diff) {
  ++length_;
  head_ = chain::NextHead(head_, chain::RecordHash(EventChainRecord(length_, detected_ns, report_id,
                                                                    event_json, diff)));
  changed_ = true;
  return {length_, head_};
}

Status EventChainWriter::Finish(sqlite::Db& db) {
  if (!changed_) return Status::Ok();
  DW_ASSIGN_OR_RETURN(auto s, db.Prepare("UPDATE chain_hosts SET events_length = ?, "
                                         "events_head = ? WHERE host_id = ?"));
  return s.Bind(1, length_).Bind(2, head_).Bind(3, host_id_).Run();
}

Status MoveAnchors(sqlite::Db& db) {
  return db.Exec(
      "UPDATE chain_hosts SET anchor_seq = p.seq, anchor_head = p.head FROM ("
      "SELECT e.host_id AS host_id, e.chain_seq AS seq, e.chain_head AS head FROM events e "
      "JOIN temp.prune t ON t.id = e.id WHERE e.chain_seq > 0 AND e.chain_seq = ("
      "SELECT max(e2.chain_seq) FROM events e2 JOIN temp.prune t2 ON t2.id = e2.id "
      "WHERE e2.host_id = e.host_id)) p "
      "WHERE chain_hosts.host_id = p.host_id AND p.seq > chain_hosts.anchor_seq");
}

Result<std::vector<IntegrityAlert>> ListAlerts(sqlite::Db& db, const IntegrityQuery& q) {
  std::string sql =
      "SELECT id, host_id, kind, severity, epoch, seq, detail, detected_ns, resolved_ns, "
      "resolved_by, resolution FROM integrity_alerts WHERE 1";
  if (!q.host.empty()) sql += " AND host_id = ?1";
  if (q.open_only) sql += " AND resolved_ns = 0";
  sql += " ORDER BY id DESC LIMIT ?2";
  DW_ASSIGN_OR_RETURN(auto s, db.Prepare(sql));
  if (!q.host.empty()) s.Bind(1, q.host);
  s.Bind(2, int64_t{q.limit});
  std::vector<IntegrityAlert> out;
  while (true) {
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back({s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4), s.Int(5), s.Text(6),
                   s.Int(7), s.Int(8), s.Text(9), s.Text(10)});
  }
  return out;
}

Result<HostChain> GetChain(sqlite::Db& db, const std::string& host_id) {
  {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT 1 FROM hosts WHERE id = ?"));
    s.Bind(1, host_id);
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    s.Reset();
    if (!row) return Status::NotFound("unknown host '" + host_id + "'");
  }
  HostChain c;
  c.host_id = host_id;
  DW_ASSIGN_OR_RETURN(
      auto s, db.Prepare("SELECT epoch, held_length, held_head, adopted, epoch_started_ns, "
                         "epoch_reason, self_ns, self_exe, self_rules, self_config, "
                         "self_version, events_length, events_head, anchor_seq, anchor_head, "
                         "(SELECT count(*) FROM integrity_alerts a WHERE a.host_id = "
                         "chain_hosts.host_id AND a.resolved_ns = 0) "
                         "FROM chain_hosts WHERE host_id = ?"));
  s.Bind(1, host_id);
  DW_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return c;
  c.held = {s.Int(0), s.Int(1), s.Text(2), s.Int(3) != 0};
  c.epoch_started_ns = s.Int(4);
  c.epoch_reason = s.Text(5);
  c.self_ns = s.Int(6);
  if (c.self_ns != 0) c.self = chain::SelfDigests{s.Text(7), s.Text(8), s.Text(9), s.Text(10)};
  c.events = {s.Int(11), s.Text(12), s.Int(13), s.Text(14)};
  c.open_alerts = s.Int(15);
  s.Reset();
  return c;
}

Result<int64_t> TrustReset(sqlite::Db& db, const std::string& host_id, const std::string& by,
                           const std::string& reason, int64_t now_ns) {
  {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT 1 FROM hosts WHERE id = ?"));
    s.Bind(1, host_id);
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    s.Reset();
    if (!row) return Status::NotFound("unknown host '" + host_id + "'");
  }
  DW_RETURN_IF_ERROR(EnsureRow(db, host_id));
  {
    // The escrowed records of the old epoch stay; the new one holds nothing.
    DW_ASSIGN_OR_RETURN(
        auto s, db.Prepare("UPDATE chain_hosts SET epoch = epoch + 1, held_length = 0, "
                           "held_head = ?, adopted = 0, epoch_started_ns = ?, epoch_reason = ? "
                           "WHERE host_id = ?"));
    DW_RETURN_IF_ERROR(
        s.Bind(1, chain::GenesisHead()).Bind(2, now_ns).Bind(3, reason).Bind(4, host_id).Run());
  }
  {
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare("UPDATE integrity_alerts SET resolved_ns = ?, "
                                           "resolved_by = ?, resolution = ? WHERE host_id = ? "
                                           "AND resolved_ns = 0"));
    DW_RETURN_IF_ERROR(
        s.Bind(1, now_ns).Bind(2, by).Bind(3, "trust reset: " + reason).Bind(4, host_id).Run());
  }
  DW_ASSIGN_OR_RETURN(auto s, db.Prepare("SELECT epoch FROM chain_hosts WHERE host_id = ?"));
  s.Bind(1, host_id);
  DW_ASSIGN_OR_RETURN(bool row, s.Step());
  const int64_t epoch = row ? s.Int(0) : 0;
  s.Reset();
  return epoch;
}

Result<std::vector<EventChainFinding>> VerifyEvents(
    sqlite::Db& db, const std::string& host_id,
    const std::map<std::string, ExportedHead>& expected) {
  std::vector<std::pair<std::string, EventChainHead>> hosts;
  {
    std::string sql =
        "SELECT host_id, events_length, events_head, anchor_seq, anchor_head FROM chain_hosts";
    if (!host_id.empty()) sql += " WHERE host_id = ?1";
    sql += " ORDER BY host_id";
    DW_ASSIGN_OR_RETURN(auto s, db.Prepare(sql));
    if (!host_id.empty()) s.Bind(1, host_id);
    while (true) {
      DW_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      hosts.emplace_back(s.Text(0), EventChainHead{s.Int(1), s.Text(2), s.Int(3), s.Text(4)});
    }
  }
  std::vector<EventChainFinding> out;
  for (const auto& [host, want] : hosts) {
    std::optional<ExportedHead> exported;
    if (auto it = expected.find(host); it != expected.end()) exported = it->second;
    EventChainVerifier v(host, want, exported);
    DW_ASSIGN_OR_RETURN(
        auto s, db.Prepare("SELECT e.id, e.chain_seq, e.detected_ns, coalesce(r.report_id, ''), "
                           "e.body, coalesce(e.diff, ''), e.chain_head FROM events e LEFT JOIN "
                           "reports r ON r.seq = e.report_seq WHERE e.host_id = ? AND "
                           "e.chain_seq > ? ORDER BY e.chain_seq"));
    s.Bind(1, host).Bind(2, want.anchor_seq);
    while (true) {
      DW_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      v.Add({s.Int(0), s.Int(1), s.Int(2), s.Text(3), s.Text(4), s.Text(5), s.Text(6)});
    }
    for (EventChainFinding& f : v.Finish()) out.push_back(std::move(f));
  }
  return out;
}

}  // namespace driftwatch::collector::sqlite_integrity
