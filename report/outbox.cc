#include "report/outbox.h"

#include <cpprest/json.h>
#include <openssl/rand.h>

#include <cstdlib>

#include "agent/store.h"
#include "agent/store_chain.h"
#include "agent/store_file.h"
#include "core/drift_json.h"
#include "core/hash.h"
#include "core/sqlite.h"

namespace driftwatch::report {
namespace {

using web::json::value;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS report_outbox(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, report_id TEXT NOT NULL UNIQUE,
  created_ns INTEGER NOT NULL, body TEXT NOT NULL, events INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, next_attempt_ns INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT 'pending',
  overflow TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS report_outbox_state ON report_outbox(state, seq);
CREATE TABLE IF NOT EXISTS report_state(key TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql";

// Counters of the reports folded into one overflow report.
struct Overflow {
  int64_t reports = 0;
  int64_t events = 0;
  int64_t added = 0, modified = 0, removed = 0, packages = 0;
  int64_t first_ns = 0, last_ns = 0;
  std::string target, baseline;
  int64_t baseline_revision = 0;

  value ToJson() const {
    value o = value::object();
    o["reports"] = value::number(reports);
    o["events"] = value::number(events);
    o["added"] = value::number(added);
    o["modified"] = value::number(modified);
    o["removed"] = value::number(removed);
    o["packages"] = value::number(packages);
    o["first_ns"] = value::number(first_ns);
    o["last_ns"] = value::number(last_ns);
    return o;
  }
};

int64_t IntField(const value& o, const char* k) {
  if (!o.is_object() || !o.has_field(k) || !o.at(k).is_number()) return 0;
  return o.at(k).as_number().to_int64();
}

// Folds one queued row (a report, or an earlier overflow summary) into acc.
void Fold(const std::string& body, const std::string& overflow, Overflow* acc) {
  value b, ov;
  try {
    b = value::parse(body);
    if (!overflow.empty()) ov = value::parse(overflow);
  } catch (const std::exception&) {
    ++acc->reports;  // written by this file; count it even if unreadable
    return;
  }
  auto time_of = [&](const char* k) -> int64_t {
    if (!b.has_field(k) || !b.at(k).is_string()) return 0;
    auto t = ParseRfc3339(b.at(k).as_string());
    return t.ok() ? *t : 0;
  };
  if (!overflow.empty()) {
    acc->reports += IntField(ov, "reports");
    acc->events += IntField(ov, "events");
    acc->added += IntField(ov, "added");
    acc->modified += IntField(ov, "modified");
    acc->removed += IntField(ov, "removed");
    acc->packages += IntField(ov, "packages");
    int64_t first = IntField(ov, "first_ns");
    if (acc->first_ns == 0 || (first != 0 && first < acc->first_ns)) acc->first_ns = first;
    acc->last_ns = std::max(acc->last_ns, IntField(ov, "last_ns"));
  } else if (b.has_field("part_of")) {
    // A part's events are counted in its head's summary.
    ++acc->reports;
  } else {
    ++acc->reports;
    const value s = b.has_field("summary") ? b.at("summary") : value::object();
    int64_t a = IntField(s, "added"), m = IntField(s, "modified"), r = IntField(s, "removed"),
            p = IntField(s, "packages");
    acc->added += a;
    acc->modified += m;
    acc->removed += r;
    acc->packages += p;
    acc->events += a + m + r + p;
    int64_t started = time_of("started");
    if (acc->first_ns == 0 || (started != 0 && started < acc->first_ns)) acc->first_ns = started;
    acc->last_ns = std::max(acc->last_ns, time_of("finished"));
  }
  if (b.has_field("target") && b.at("target").is_string()) acc->target = b.at("target").as_string();
  if (b.has_field("baseline") && b.at("baseline").is_string()) {
    acc->baseline = b.at("baseline").as_string();
  }
  acc->baseline_revision = IntField(b, "baseline_revision");
}

std::string WireBody(const CheckResult& r, const std::string& report_id) {
  value v = CheckResultToJson(r);
  v["format"] = value::number(1);
  v["report_id"] = value(report_id);
  v["agent_version"] = value(DRIFTWATCH_VERSION);
  return v.serialize();
}

}  // namespace

Result<std::string> NewReportId() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof(b)) != 1) return Status::Internal("no randomness for a report id");
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  std::string hex = HexEncode(std::string_view(reinterpret_cast<const char*>(b), sizeof(b)));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

Outbox::Outbox(std::unique_ptr<sqlite::Db> db, int64_t max_reports, const ReportBudget& budget)
    : db_(std::move(db)), max_reports_(std::max<int64_t>(max_reports, 2)), budget_(budget) {}

Outbox::~Outbox() = default;

Result<std::unique_ptr<Outbox>> Outbox::Open(const std::string& db_path, int64_t max_reports,
                                             const ReportBudget& budget) {
  DW_ASSIGN_OR_RETURN(auto db, sqlite::Db::Open(db_path, agent::AgentDbOptions()));
  std::unique_ptr<Outbox> out(new Outbox(std::move(db), max_reports, budget));
  DW_RETURN_IF_ERROR(out->Init());
  return out;
}

Result<std::unique_ptr<Outbox>> OpenAgentOutbox(Host& host, const std::string& db_path,
                                                int64_t max_reports) {
  DW_RETURN_IF_ERROR(agent::PrepareStoreFile(host, db_path));
  auto outbox = Outbox::Open(db_path, max_reports);
  if (!outbox.ok()) return agent::ExplainStoreOpenError(host, db_path, outbox.status());
  return outbox;
}

Status Outbox::Init() {
  return sqlite::InTransaction(*db_, [&]() -> Status {
    DW_RETURN_IF_ERROR(
        db_->Exec("CREATE TABLE IF NOT EXISTS schema_versions(component TEXT PRIMARY KEY, "
                  "version INTEGER NOT NULL)"));
    DW_ASSIGN_OR_RETURN(auto s, db_->Prepare("SELECT version FROM schema_versions WHERE "
                                             "component = 'report'"));
    DW_ASSIGN_OR_RETURN(bool found, s.Step());
    if (found && s.Int(0) != kReportSchemaVersion) {
      return Status::Unsupported(db_->path() + ": report outbox schema version " +
                                 std::to_string(s.Int(0)) + " is not supported by this build " +
                                 "(knows version " + std::to_string(kReportSchemaVersion) + ")");
    }
    DW_RETURN_IF_ERROR(db_->Exec(kSchema));
    if (!found) {
      DW_ASSIGN_OR_RETURN(auto ins, db_->Prepare("INSERT INTO schema_versions(component, version) "
                                                 "VALUES('report', ?)"));
      DW_RETURN_IF_ERROR(ins.Bind(1, int64_t{kReportSchemaVersion}).Run());
    }
    return Status::Ok();
  });
}

Status Outbox::MakeRoom(int64_t now_ns) {
  DW_ASSIGN_OR_RETURN(int64_t count, PendingCount());
  if (count < max_reports_) return Status::Ok();
  // Fold the oldest reports into one, leaving room for it and the new one.
  const int64_t fold = count - max_reports_ + 2;
  DW_ASSIGN_OR_RETURN(auto s, db_->Prepare("SELECT seq, body, overflow FROM report_outbox WHERE "
                                           "state = 'pending' ORDER BY seq LIMIT ?"));
  s.Bind(1, fold);
  Overflow acc;
  std::vector<int64_t> seqs;
  while (true) {
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    seqs.push_back(s.Int(0));
    Fold(s.Text(1), s.Text(2), &acc);
  }
  if (seqs.empty()) return Status::Ok();
  CheckResult summary;
  summary.target = acc.target;
  summary.baseline = acc.baseline;
  summary.baseline_revision = acc.baseline_revision;
  summary.started_ns = acc.first_ns ? acc.first_ns : now_ns;
  summary.finished_ns = acc.last_ns ? acc.last_ns : now_ns;
  summary.warnings.push_back(
      "outbox-overflow: " + std::to_string(acc.reports) + " reports with " +
      std::to_string(acc.events) + " drift events (" + std::to_string(acc.added) + " added, " +
      std::to_string(acc.modified) + " modified, " + std::to_string(acc.removed) + " removed, " +
      std::to_string(acc.packages) + " package) from " + FormatRfc3339Nanos(summary.started_ns) +
      " to " + FormatRfc3339Nanos(summary.finished_ns) +
      " were summarised because the outbox holds at most " + std::to_string(max_reports_) +
      " reports");
  DW_ASSIGN_OR_RETURN(std::string id, NewReportId());
  DW_ASSIGN_OR_RETURN(auto up, db_->Prepare("UPDATE report_outbox SET report_id = ?, body = ?, "
                                            "events = 0, attempts = 0, next_attempt_ns = 0, "
                                            "overflow = ? WHERE seq = ?"));
  DW_RETURN_IF_ERROR(up.Bind(1, id)
                         .Bind(2, WireBody(summary, id))
                         .Bind(3, acc.ToJson().serialize())
                         .Bind(4, seqs.front())
                         .Run());
  DW_ASSIGN_OR_RETURN(auto del, db_->Prepare("DELETE FROM report_outbox WHERE seq = ?"));
  for (size_t i = 1; i < seqs.size(); ++i) {
    DW_RETURN_IF_ERROR(del.Bind(1, seqs[i]).Run());
    del.Reset();
  }
  return Status::Ok();
}

Result<std::string> Outbox::InsertFitted(std::vector<CheckResult> fitted, int64_t now_ns) {
  DW_ASSIGN_OR_RETURN(std::string head_id, NewReportId());
  DW_ASSIGN_OR_RETURN(auto s, db_->Prepare("INSERT INTO report_outbox(report_id, created_ns, "
                                           "body, events) VALUES(?, ?, ?, ?)"));
  // Parts first, the head last: the collector takes a host's latest state
  // (counts, subtrees, root) from the last report it stores, the head.
  for (size_t k = 1; k <= fitted.size(); ++k) {
    const size_t i = k % fitted.size();
    std::string id = head_id;
    if (i > 0) {
      DW_ASSIGN_OR_RETURN(id, NewReportId());
      fitted[i].fold.part_of = head_id;
    }
    DW_RETURN_IF_ERROR(MakeRoom(now_ns));
    DW_RETURN_IF_ERROR(s.Bind(1, id)
                           .Bind(2, now_ns)
                           .Bind(3, WireBody(fitted[i], id))
                           .Bind(4, static_cast<int64_t>(fitted[i].events.size()))
                           .Run());
    s.Reset();
  }
  return head_id;
}

Result<std::string> Outbox::Enqueue(const CheckResult& result, int64_t now_ns) {
  std::string id;
  DW_RETURN_IF_ERROR(sqlite::InTransaction(*db_, [&]() -> Status {
    CheckResult copy = result;
    if (result.packages) {
      // Full list only when the collector may not hold it yet (outbox.h).
      DW_ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT value FROM report_state WHERE key = "
                                               "'packages_digest'"));
      DW_ASSIGN_OR_RETURN(bool row, q.Step());
      const std::string digest = result.packages->digest.Hex();
      const bool changed = !row || q.Text(0) != digest;
      copy.packages->full = changed;
      if (!changed) copy.packages->list.clear();
      if (changed) {
        DW_ASSIGN_OR_RETURN(auto up, db_->Prepare("INSERT OR REPLACE INTO report_state(key, "
                                                  "value) VALUES('packages_digest', ?)"));
        DW_RETURN_IF_ERROR(up.Bind(1, digest).Run());
      }
    }
    if (result.source.empty() && result.target.rfind("container:", 0) != 0) {
      DW_RETURN_IF_ERROR(AttachChain(&copy));
    }
    DW_ASSIGN_OR_RETURN(id, InsertFitted(FitReport(std::move(copy), budget_), now_ns));
    return Status::Ok();
  }));
  return id;
}

Status Outbox::AttachChain(CheckResult* r) {
  DW_ASSIGN_OR_RETURN(auto t, db_->Prepare("SELECT count(*) FROM sqlite_master WHERE type = "
                                           "'table' AND name = 'chain'"));
  DW_ASSIGN_OR_RETURN(bool row, t.Step());
  if (!row || t.Int(0) == 0) return Status::Ok();
  t.Reset();
  DW_ASSIGN_OR_RETURN(int64_t acked, ChainAcked());
  DW_ASSIGN_OR_RETURN(auto last, db_->Prepare("SELECT COALESCE(MAX(seq), 0) FROM chain"));
  DW_ASSIGN_OR_RETURN(row, last.Step());
  const int64_t length = row ? last.Int(0) : 0;
  last.Reset();
  // A chain shorter than what the collector holds (rows removed since) is
  // sent as it is: the collector sees the rewind.
  chain::ReportChain c;
  c.from = std::min(acked, length);
  DW_ASSIGN_OR_RETURN(auto records,
                      agent::ReadChainRecords(*db_, c.from, chain::kMaxReportRecords));
  size_t bytes = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    bytes += records[i].first.body.size();
    if (bytes > kMaxReportChainBytes && i > 0) {
      records.resize(i);
      break;
    }
  }
  if (records.empty()) {
    c.length = c.from;
    DW_ASSIGN_OR_RETURN(c.head, agent::ChainHeadAt(*db_, c.from));
  } else {
    c.length = records.back().first.seq;
    c.head = records.back().second;
    for (auto& [record, head] : records) c.records.push_back(std::move(record));
  }
  r->chain = std::move(c);
  return Status::Ok();
}

Result<int64_t> Outbox::ChainAcked() {
  DW_ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT value FROM report_state WHERE key = "
                                           "'chain_acked'"));
  DW_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? std::max<int64_t>(0, std::strtoll(q.Text(0).c_str(), nullptr, 10)) : 0;
}

Result<std::string> Outbox::AckChain(int64_t held, const std::string& head) {
  std::string warning;
  DW_RETURN_IF_ERROR(sqlite::InTransaction(*db_, [&]() -> Status {
    std::string own;
    if (held >= 0) {
      auto at = agent::ChainHeadAt(*db_, held);
      // No chain table: nothing of ours to compare with.
      if (at.ok()) own = *at;
    }
    if (own.empty() || own != head) {
      warning = "the collector holds this host's chain up to record " + std::to_string(held) +
                " with head " + head + ", but this store's head there is " +
                (own.empty() ? "absent" : own) + "; keeping the acknowledged length";
      return Status::Ok();
    }
    DW_ASSIGN_OR_RETURN(auto up, db_->Prepare("INSERT OR REPLACE INTO report_state(key, value) "
                                              "VALUES('chain_acked', ?)"));
    return up.Bind(1, std::to_string(held)).Run();
  }));
  return warning;
}

Result<bool> Outbox::Shrink(int64_t seq) {
  bool shrunk = false;
  DW_RETURN_IF_ERROR(sqlite::InTransaction(*db_, [&]() -> Status {
    DW_ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT report_id, body, created_ns FROM "
                                             "report_outbox WHERE seq = ?"));
    q.Bind(1, seq);
    DW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::NotFound("no queued report " + std::to_string(seq));
    const std::string id = q.Text(0);
    const std::string body = q.Text(1);
    const int64_t created_ns = q.Int(2);
    std::error_code ec;
    value v = value::parse(body, ec);
    if (ec) return Status::Corruption("queued report " + id + ": " + ec.message());
    DW_ASSIGN_OR_RETURN(CheckResult r, CheckResultFromJson(v));
    ReportBudget half;
    half.max_bytes = body.size() / 2;
    half.max_events = r.events.size() / 2;
    if (body.size() <= kMinReportBudget.max_bytes &&
        r.events.size() <= kMinReportBudget.max_events) {
      return Status::Ok();
    }
    // `keep` stays in this row (same id); `before` go in new rows ahead of
    // it, so that parts still reach the collector before their head.
    CheckResult keep;
    std::vector<CheckResult> before;
    std::string head_id = id;
    if (r.fold.IsPart()) {
      // A part holds critical and high events only: split it in two.
      head_id = r.fold.part_of;
      CheckResult first = r;
      first.events.resize(r.events.size() / 2);
      r.events.erase(r.events.begin(), r.events.begin() + static_cast<long>(r.events.size() / 2));
      before.push_back(std::move(first));
      keep = std::move(r);
    } else {
      std::vector<CheckResult> fitted = FitReport(std::move(r), half);
      keep = std::move(fitted[0]);
      for (size_t i = 1; i < fitted.size(); ++i) before.push_back(std::move(fitted[i]));
    }
    const std::string keep_body = WireBody(keep, id);
    if (keep_body.size() >= body.size() && before.empty()) return Status::Ok();
    const int64_t n = static_cast<int64_t>(before.size());
    int64_t keep_seq = seq;
    if (n > 0) {
      // Make room: every row from this one on moves n places back (through
      // negative values, so that no two rows ever share a seq).
      DW_ASSIGN_OR_RETURN(auto mv, db_->Prepare("UPDATE report_outbox SET seq = -(seq + ?) "
                                                "WHERE seq >= ?"));
      DW_RETURN_IF_ERROR(mv.Bind(1, n).Bind(2, seq).Run());
      DW_RETURN_IF_ERROR(db_->Exec("UPDATE report_outbox SET seq = -seq WHERE seq < 0"));
      keep_seq = seq + n;
      DW_ASSIGN_OR_RETURN(auto ins, db_->Prepare("INSERT INTO report_outbox(seq, report_id, "
                                                 "created_ns, body, events) "
                                                 "VALUES(?, ?, ?, ?, ?)"));
      for (int64_t i = 0; i < n; ++i) {
        CheckResult& p = before[static_cast<size_t>(i)];
        DW_ASSIGN_OR_RETURN(std::string pid, NewReportId());
        p.fold.part_of = head_id;
        DW_RETURN_IF_ERROR(ins.Bind(1, seq + i)
                               .Bind(2, pid)
                               .Bind(3, created_ns)
                               .Bind(4, WireBody(p, pid))
                               .Bind(5, static_cast<int64_t>(p.events.size()))
                               .Run());
        ins.Reset();
      }
    }
    if (keep.fold.IsPart() && n > 0) {
      // The head, still queued behind its parts, counts the new ones.
      DW_ASSIGN_OR_RETURN(auto hq, db_->Prepare("SELECT seq, body FROM report_outbox WHERE "
                                                "report_id = ? AND state = 'pending'"));
      hq.Bind(1, head_id);
      DW_ASSIGN_OR_RETURN(bool found, hq.Step());
      if (found) {
        const int64_t head_seq = hq.Int(0);
        value hv = value::parse(hq.Text(1), ec);
        if (!ec && hv.is_object() && hv.has_field("parts") && hv.at("parts").is_number()) {
          hv["parts"] = value::number(hv.at("parts").as_number().to_int64() + n);
          DW_ASSIGN_OR_RETURN(auto hu, db_->Prepare("UPDATE report_outbox SET body = ? WHERE "
                                                    "seq = ?"));
          DW_RETURN_IF_ERROR(hu.Bind(1, hv.serialize()).Bind(2, head_seq).Run());
        }
      }
    }
    DW_ASSIGN_OR_RETURN(auto up, db_->Prepare("UPDATE report_outbox SET body = ?, events = ? "
                                              "WHERE seq = ?"));
    DW_RETURN_IF_ERROR(up.Bind(1, keep_body)
                           .Bind(2, static_cast<int64_t>(keep.events.size()))
                           .Bind(3, keep_seq)
                           .Run());
    shrunk = true;
    return Status::Ok();
  }));
  return shrunk;
}

Status Outbox::ForgetPackagesDigest() {
  DW_ASSIGN_OR_RETURN(auto s, db_->Prepare("DELETE FROM report_state WHERE key = "
                                           "'packages_digest'"));
  return s.Run();
}

Result<std::vector<QueuedReport>> Outbox::Pending(int limit) {
  DW_ASSIGN_OR_RETURN(auto s, db_->Prepare("SELECT seq, report_id, created_ns, body, attempts, "
                                           "next_attempt_ns FROM report_outbox WHERE state = "
                                           "'pending' ORDER BY seq LIMIT ?"));
  s.Bind(1, int64_t{limit});
  std::vector<QueuedReport> out;
  while (true) {
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    QueuedReport q;
    q.seq = s.Int(0);
    q.report_id = s.Text(1);
    q.created_ns = s.Int(2);
    q.body = s.Text(3);
    q.attempts = static_cast<int>(s.Int(4));
    q.next_attempt_ns = s.Int(5);
    out.push_back(std::move(q));
  }
  return out;
}

Status Outbox::Remove(int64_t seq) {
  DW_ASSIGN_OR_RETURN(auto s, db_->Prepare("DELETE FROM report_outbox WHERE seq = ?"));
  return s.Bind(1, seq).Run();
}

Status Outbox::RecordFailure(int64_t seq, int attempts, int64_t next_attempt_ns,
                             const std::string& error) {
  DW_ASSIGN_OR_RETURN(auto s, db_->Prepare("UPDATE report_outbox SET attempts = ?, "
                                           "next_attempt_ns = ?, last_error = ? WHERE seq = ?"));
  return s.Bind(1, int64_t{attempts}).Bind(2, next_attempt_ns).Bind(3, error).Bind(4, seq).Run();
}

Status Outbox::MarkRejected(int64_t seq, const std::string& error) {
  DW_ASSIGN_OR_RETURN(auto s, db_->Prepare("UPDATE report_outbox SET state = 'rejected', "
                                           "last_error = ? WHERE seq = ?"));
  return s.Bind(1, error).Bind(2, seq).Run();
}

Result<std::optional<int64_t>> Outbox::OldestPendingNs() {
  DW_ASSIGN_OR_RETURN(auto s, db_->Prepare("SELECT min(created_ns) FROM report_outbox WHERE "
                                           "state = 'pending'"));
  DW_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row || s.IsNull(0)) return std::optional<int64_t>();
  return std::optional<int64_t>(s.Int(0));
}

Result<int64_t> Outbox::PendingCount() {
  DW_ASSIGN_OR_RETURN(auto s, db_->Prepare("SELECT count(*) FROM report_outbox WHERE state = "
                                           "'pending'"));
  DW_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.Int(0) : 0;
}

Result<int64_t> Outbox::RejectedCount() {
  DW_ASSIGN_OR_RETURN(auto s, db_->Prepare("SELECT count(*) FROM report_outbox WHERE state = "
                                           "'rejected'"));
  DW_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.Int(0) : 0;
}

Result<std::optional<Enrollment>> Outbox::LoadEnrollment() {
  DW_ASSIGN_OR_RETURN(auto s, db_->Prepare("SELECT key, value FROM report_state"));
  Enrollment e;
  bool any = false;
  while (true) {
    DW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    std::string k = s.Text(0), v = s.Text(1);
    any = true;
    if (k == "collector") e.collector = v;
    if (k == "host_id") e.host_id = v;
    if (k == "token") e.token = v;
    if (k == "group") e.group = v;
    if (k == "ca_file") e.ca_file = v;
    if (k == "enrolled_ns") e.enrolled_ns = std::strtoll(v.c_str(), nullptr, 10);
  }
  if (!any || e.token.empty()) return std::optional<Enrollment>();
  return std::optional<Enrollment>(e);
}

Status Outbox::SaveEnrollment(const Enrollment& e) {
  return sqlite::InTransaction(*db_, [&]() -> Status {
    DW_ASSIGN_OR_RETURN(auto s, db_->Prepare("INSERT OR REPLACE INTO report_state(key, value) "
                                             "VALUES(?, ?)"));
    for (auto [k, v] : {std::pair{"collector", &e.collector}, std::pair{"host_id", &e.host_id},
                        std::pair{"token", &e.token}, std::pair{"group", &e.group},
                        std::pair{"ca_file", &e.ca_file}}) {
      DW_RETURN_IF_ERROR(s.Bind(1, k).Bind(2, *v).Run());
      s.Reset();
    }
    DW_ASSIGN_OR_RETURN(auto forget, db_->Prepare("DELETE FROM report_state WHERE key = "
                                                  "'tree_confirmed'"));
    DW_RETURN_IF_ERROR(forget.Run());
    if (e.enrolled_ns == 0) return Status::Ok();
    return s.Bind(1, "enrolled_ns").Bind(2, std::to_string(e.enrolled_ns)).Run();
  });
}

Result<std::optional<Hash128>> Outbox::ConfirmedTree() {
  DW_ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT value FROM report_state WHERE key = "
                                           "'tree_confirmed'"));
  DW_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<Hash128>();
  auto root = Hash128::FromHex(q.Text(0));
  // Unreadable: as if none, so the next sync negotiates the whole tree.
  if (!root.ok()) return std::optional<Hash128>();
  return std::optional<Hash128>(*root);
}

Status Outbox::SetConfirmedTree(const Hash128& root) {
  DW_ASSIGN_OR_RETURN(auto up, db_->Prepare("INSERT OR REPLACE INTO report_state(key, value) "
                                            "VALUES('tree_confirmed', ?)"));
  return up.Bind(1, root.Hex()).Run();
}

}  // namespace driftwatch::report
