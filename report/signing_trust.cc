#include "report/signing_trust.h"

#include "agent/baseline_statement.h"
#include "agent/store.h"
#include "core/signed_statement.h"
#include "core/sqlite.h"

namespace driftwatch::report {
namespace {

constexpr const char* kPinnedKey = "collector_signing_key";
constexpr const char* kRetiredPrefix = "collector_signing_key_retired_";

// The same table the outbox creates (report/outbox.h); created here too so
// that pinning works on a store the outbox has not opened yet.
constexpr const char* kStateTable =
    "CREATE TABLE IF NOT EXISTS report_state(key TEXT PRIMARY KEY, value TEXT NOT NULL)";

}  // namespace

Result<std::optional<sign::PublicKey>> LoadPinnedKey(const std::string& db_path) {
  auto db = sqlite::Db::Open(db_path, agent::AgentDbOptions());
  if (!db.ok()) return db.status();
  DW_RETURN_IF_ERROR((*db)->Exec(kStateTable));
  DW_ASSIGN_OR_RETURN(auto q, (*db)->Prepare("SELECT value FROM report_state WHERE key = ?"));
  q.Bind(1, std::string_view(kPinnedKey));
  DW_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<sign::PublicKey>();
  auto key = sign::PublicKey::FromPem(q.Text(0));
  if (!key.ok()) {
    return Status::Corruption(
        db_path + ": the pinned collector key does not parse: " + key.status().message());
  }
  return std::optional<sign::PublicKey>(std::move(key).value());
}

Status SavePinnedKey(const std::string& db_path, const sign::PublicKey& key) {
  DW_ASSIGN_OR_RETURN(auto earlier, LoadPinnedKey(db_path));
  DW_ASSIGN_OR_RETURN(auto db, sqlite::Db::Open(db_path, agent::AgentDbOptions()));
  DW_RETURN_IF_ERROR(db->Exec(kStateTable));
  return sqlite::InTransaction(*db, [&]() -> Status {
    DW_ASSIGN_OR_RETURN(auto up, db->Prepare("INSERT OR REPLACE INTO report_state(key, value) "
                                             "VALUES(?, ?)"));
    // A key pinned before stays trusted for the signatures it made (a
    // rotation at the collector, docs/operations.md), not for commands.
    if (earlier && !(*earlier == key)) {
      DW_RETURN_IF_ERROR(
          up.Bind(1, std::string(kRetiredPrefix) + earlier->Id()).Bind(2, earlier->Pem()).Run());
    }
    return up.Bind(1, std::string_view(kPinnedKey)).Bind(2, key.Pem()).Run();
  });
}

Result<std::vector<sign::PublicKey>> LoadRetiredPinnedKeys(const std::string& db_path) {
  DW_ASSIGN_OR_RETURN(auto db, sqlite::Db::Open(db_path, agent::AgentDbOptions()));
  DW_RETURN_IF_ERROR(db->Exec(kStateTable));
  DW_ASSIGN_OR_RETURN(auto q, db->Prepare("SELECT key, value FROM report_state WHERE key LIKE "
                                          "'collector_signing_key_retired_%' ORDER BY key"));
  std::vector<sign::PublicKey> out;
  while (true) {
    DW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    auto key = sign::PublicKey::FromPem(q.Text(1));
    if (!key.ok()) {
      return Status::Corruption(db_path + ": " + q.Text(0) +
                                " does not parse: " + key.status().message());
    }
    out.push_back(std::move(key).value());
  }
  return out;
}

Result<std::vector<sign::PublicKey>> TrustedKeys(Host& host,
                                                 const std::vector<std::string>& key_files,
                                                 const std::string& db_path) {
  auto keys = agent::LoadPublicKeys(host, key_files);
  if (!keys.ok()) return keys.status().WithContext("trusted_keys");
  DW_ASSIGN_OR_RETURN(auto pinned, LoadPinnedKey(db_path));
  if (pinned) keys->push_back(*pinned);
  DW_ASSIGN_OR_RETURN(auto retired, LoadRetiredPinnedKeys(db_path));
  for (sign::PublicKey& k : retired) keys->push_back(std::move(k));
  return keys;
}

Status SignatureGate(Host& host, const DaemonConfig& config, const std::string& db_path,
                     const std::string& baseline) {
  if (!config.require_signed_baselines) return Status::Ok();
  DW_ASSIGN_OR_RETURN(auto trusted, TrustedKeys(host, config.trusted_keys, db_path));
  DW_ASSIGN_OR_RETURN(auto store, agent::Store::Open(host, db_path));
  return agent::RequireSignedBaseline(*store, baseline, trusted);
}

Status VerifyCommandSignature(const AgentCommand& c, const std::optional<sign::PublicKey>& pinned,
                              const std::string& host_id) {
  if (!pinned) return Status::Ok();
  if (c.kind != "baseline" && c.kind != "accept" && c.kind != "restore") return Status::Ok();
  sign::CommandFields f{c.id, host_id, c.kind, c.paths, c.all, c.remove_added, c.dry_run, c.reason};
  return sign::VerifyCommand(*pinned, f, c.signature);
}

Status AddStatementFields(Host& host, const std::string& db_path, BaselineAck* ack) {
  DW_ASSIGN_OR_RETURN(auto store, agent::Store::Open(host, db_path));
  DW_ASSIGN_OR_RETURN(sign::Statement s, agent::StatementOf(*store, ack->name, ack->revision));
  ack->target = s.target;
  ack->rules = s.rules;
  return Status::Ok();
}

Result<std::string> AttachAnsweredSignature(Host& host, const DaemonConfig& config,
                                            const std::string& signed_file) {
  DW_ASSIGN_OR_RETURN(auto trusted, TrustedKeys(host, config.trusted_keys, config.db));
  DW_ASSIGN_OR_RETURN(auto store, agent::Store::Open(host, config.db));
  DW_ASSIGN_OR_RETURN(agent::StoredSignature s,
                      agent::AttachSignature(*store, signed_file, trusted, host.NowNs()));
  return "baseline '" + s.name + "' revision " + std::to_string(s.revision) + " signed by key " +
         s.key + " (chain record " + std::to_string(s.seq) + ")";
}

}  // namespace driftwatch::report
