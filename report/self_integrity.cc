#include "report/self_integrity.h"

#include "agent/check.h"
#include "agent/store_chain.h"
#include "report/signing_trust.h"
#include "rules/policy.h"

namespace driftwatch::report {

std::string ExeDigest(Host& host) {
  auto bytes = host.ReadFile("/proc/self/exe", kMaxSelfFileBytes);
  return bytes.ok() ? chain::Sha256Hex(*bytes) : "";
}

Result<std::string> FileDigest(Host& host, const std::string& path) {
  if (path.empty()) return std::string();
  auto bytes = host.ReadFile(path, kMaxSelfFileBytes);
  if (!bytes.ok()) {
    if (bytes.status().code() == StatusCode::kNotFound) return std::string();
    return bytes.status().WithContext(path);
  }
  return chain::Sha256Hex(*bytes);
}

Result<chain::SelfDigests> SelfDigestsOf(Host& host, const std::string& exe_digest,
                                         const std::string& rules_path,
                                         const std::string& config_path) {
  chain::SelfDigests out;
  out.exe = exe_digest;
  DW_ASSIGN_OR_RETURN(out.rules, FileDigest(host, rules_path));
  DW_ASSIGN_OR_RETURN(out.config, FileDigest(host, config_path));
  out.version = DRIFTWATCH_VERSION;
  return out;
}

Status RecordSelf(Host& host, agent::Store& store, const chain::SelfDigests& self,
                  const std::string& rules_path, const std::string& config_path, bool start) {
  const int64_t now = host.NowNs();
  std::string body = agent::AgentStartRecordBody(self.exe, self.version);
  if (start) {
    DW_RETURN_IF_ERROR(store.AppendRecord(chain::kAgentStart, now, std::move(body)).status());
  } else {
    DW_RETURN_IF_ERROR(store.AppendIfChanged(chain::kAgentStart, now, std::move(body)).status());
  }
  if (!rules_path.empty() && !self.rules.empty()) {
    // Rules that do not parse still get their digest recorded: the check
    // that follows fails on them with the reason.
    auto policy = rules::LoadPolicyFile(host, rules_path);
    const std::string fingerprint = policy.ok() ? policy->Fingerprint().Hex() : "";
    DW_RETURN_IF_ERROR(
        store
            .AppendIfChanged(chain::kRules, now,
                             agent::RulesRecordBody(rules_path, self.rules, fingerprint),
                             rules_path)
            .status());
  }
  if (!config_path.empty() && !self.config.empty()) {
    DW_RETURN_IF_ERROR(store
                           .AppendIfChanged(chain::kConfig, now,
                                            agent::ConfigRecordBody(config_path, self.config),
                                            config_path)
                           .status());
  }
  return Status::Ok();
}

Status StampSelf(Host& host, const std::string& db_path, const std::string& exe_digest,
                 const std::string& rules_path, const std::string& config_path, bool start,
                 CheckResult* result) {
  const std::string rules = rules_path.empty() ? agent::DefaultRulesPath() : rules_path;
  DW_ASSIGN_OR_RETURN(chain::SelfDigests self, SelfDigestsOf(host, exe_digest, rules, config_path));
  DW_ASSIGN_OR_RETURN(std::unique_ptr<agent::Store> store, agent::Store::Open(host, db_path));
  DW_RETURN_IF_ERROR(RecordSelf(host, *store, self, rules, config_path, start));
  if (result != nullptr) result->self = std::move(self);
  return Status::Ok();
}

Status RecordEnroll(Host& host, const std::string& db_path, const std::string& collector,
                    const std::string& host_id, const std::string& group) {
  // The store first: it makes (and checks) the file and its directory.
  DW_ASSIGN_OR_RETURN(std::unique_ptr<agent::Store> store, agent::Store::Open(host, db_path));
  DW_ASSIGN_OR_RETURN(std::optional<sign::PublicKey> pinned, LoadPinnedKey(db_path));
  const std::string signing_key = pinned ? pinned->Id() : "";
  return store
      ->AppendRecord(chain::kEnroll, host.NowNs(),
                     agent::EnrollRecordBody(collector, host_id, group, signing_key))
      .status();
}

}  // namespace driftwatch::report
