// The agent store's hash chain (store.h; schema v6 in docs/store.md, the
// records in docs/integrity.md).
#include "agent/store.h"

namespace driftwatch::agent {

using sqlite::Stmt;

Result<chain::Record> Store::AppendRecordLocked(std::string_view kind, int64_t time_ns,
                                                std::string body) {
  if (kind.empty()) return Status::InvalidArgument("a chain record needs a kind");
  if (body.size() > chain::kMaxBodyBytes) {
    return Status::InvalidArgument("chain record '" + std::string(kind) + "': body of " +
                                   std::to_string(body.size()) + " bytes, more than " +
                                   std::to_string(chain::kMaxBodyBytes));
  }
  // The head before it is the one stored: the new record extends the chain
  // as it is on disk, and a damaged head stays visible to verification.
  DW_ASSIGN_OR_RETURN(Stmt last, db_->Prepare("SELECT seq, head FROM chain"
                                              " ORDER BY seq DESC LIMIT 1"));
  DW_ASSIGN_OR_RETURN(bool found, last.Step());
  chain::Record r;
  r.seq = found ? last.Int(0) + 1 : 1;
  const std::string prev = found ? last.Text(1) : chain::GenesisHead();
  r.kind = std::string(kind);
  r.time_ns = time_ns;
  r.body = std::move(body);
  std::string head = chain::NextHead(prev, chain::RecordHash(r));
  if (head.empty()) {
    return Status::Corruption(db_->path() + ": chain record " + std::to_string(r.seq - 1) +
                              " has a head that is not 64 hex digits; run driftwatch store verify");
  }
  DW_ASSIGN_OR_RETURN(Stmt ins, db_->Prepare("INSERT INTO chain(seq, kind, time_ns, body, head)"
                                             " VALUES(?, ?, ?, ?, ?)"));
  DW_RETURN_IF_ERROR(
      ins.Bind(1, r.seq).Bind(2, r.kind).Bind(3, r.time_ns).Bind(4, r.body).Bind(5, head).Run());
  return r;
}

Result<chain::Record> Store::AppendRecord(std::string_view kind, int64_t time_ns,
                                          std::string body) {
  std::lock_guard<std::mutex> lock(mu_);
  chain::Record out;
  DW_RETURN_IF_ERROR(sqlite::InTransaction(*db_, [&]() -> Status {
    DW_ASSIGN_OR_RETURN(out, AppendRecordLocked(kind, time_ns, std::move(body)));
    return Status::Ok();
  }));
  return out;
}

Result<ChainState> Store::ChainHead() {
  std::lock_guard<std::mutex> lock(mu_);
  DW_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT seq, head FROM chain"
                                           " ORDER BY seq DESC LIMIT 1"));
  DW_ASSIGN_OR_RETURN(bool found, q.Step());
  if (!found) return ChainState{0, chain::GenesisHead()};
  return ChainState{q.Int(0), q.Text(1)};
}

Result<std::vector<std::pair<chain::Record, std::string>>> Store::ChainRecords(int64_t after_seq,
                                                                               size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  DW_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT seq, kind, time_ns, body, head FROM chain"
                                           " WHERE seq > ? ORDER BY seq LIMIT ?"));
  q.Bind(1, after_seq).Bind(2, limit > size_t{INT64_MAX} ? INT64_MAX : static_cast<int64_t>(limit));
  std::vector<std::pair<chain::Record, std::string>> out;
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.emplace_back(chain::Record{q.Int(0), q.Text(1), q.Int(2), q.Text(3)}, q.Text(4));
  }
  return out;
}

}  // namespace driftwatch::agent
