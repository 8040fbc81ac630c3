#include "report/signing_trust.h"

#include "agent/baseline_statement.h"
#include "agent/store.h"
#include "core/sqlite.h"

namespace driftwatch::report {
namespace {

constexpr const char* kPinnedKey = "collector_signing_key";

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
    return Status::Corruption(db_path + ": the pinned collector key does not parse: " +
                              key.status().message());
  }
  return std::optional<sign::PublicKey>(std::move(key).value());
}

Status SavePinnedKey(const std::string& db_path, const sign::PublicKey& key) {
  DW_ASSIGN_OR_RETURN(auto db, sqlite::Db::Open(db_path, agent::AgentDbOptions()));
  DW_RETURN_IF_ERROR(db->Exec(kStateTable));
  DW_ASSIGN_OR_RETURN(auto up, db->Prepare("INSERT OR REPLACE INTO report_state(key, value) "
                                           "VALUES(?, ?)"));
  return up.Bind(1, std::string_view(kPinnedKey)).Bind(2, key.Pem()).Run();
}

Result<std::vector<sign::PublicKey>> TrustedKeys(Host& host,
                                                 const std::vector<std::string>& key_files,
                                                 const std::string& db_path) {
  auto keys = agent::LoadPublicKeys(host, key_files);
  if (!keys.ok()) return keys.status().WithContext("trusted_keys");
  DW_ASSIGN_OR_RETURN(auto pinned, LoadPinnedKey(db_path));
  if (pinned) keys->push_back(*pinned);
  return keys;
}

Status SignatureGate(Host& host, const DaemonConfig& config, const std::string& db_path,
                     const std::string& baseline) {
  if (!config.require_signed_baselines) return Status::Ok();
  DW_ASSIGN_OR_RETURN(auto trusted, TrustedKeys(host, config.trusted_keys, db_path));
  DW_ASSIGN_OR_RETURN(auto store, agent::Store::Open(host, db_path));
  return agent::RequireSignedBaseline(*store, baseline, trusted);
}

}  // namespace driftwatch::report
