#include "report/host_tree.h"

#include "agent/store.h"
#include "report/client.h"
#include "report/outbox.h"

namespace driftwatch::report {

bool HasHostTree(const CheckResult& result) {
  return result.source.empty() && !result.root.IsZero() &&
         result.target.rfind("container:", 0) != 0;
}

Result<std::optional<TreeSyncStats>> SyncHostTree(Host& host, const std::string& db_path,
                                                  CollectorClient& client,
                                                  const CheckResult& result,
                                                  const rules::Policy& policy) {
  if (!HasHostTree(result)) return std::optional<TreeSyncStats>();
  DW_ASSIGN_OR_RETURN(auto outbox, OpenAgentOutbox(host, db_path));
  DW_ASSIGN_OR_RETURN(std::optional<Hash128> confirmed, outbox->ConfirmedTree());
  DW_ASSIGN_OR_RETURN(auto store, agent::Store::Open(host, db_path));
  DW_ASSIGN_OR_RETURN(std::vector<std::string> host_specific,
                      HostSpecificPaths(*store, result.root, policy));
  DW_ASSIGN_OR_RETURN(TreeSyncStats stats,
                      SyncTree(client, *store, result.root, confirmed, host_specific));
  DW_RETURN_IF_ERROR(outbox->SetConfirmedTree(result.root));
  return std::optional<TreeSyncStats>(stats);
}

Result<std::optional<TreeSyncStats>> SyncEnrolledHostTree(Host& host, const std::string& db_path,
                                                          const CheckResult& result,
                                                          const rules::Policy& policy) {
  if (!HasHostTree(result)) return std::optional<TreeSyncStats>();
  std::optional<Enrollment> enrollment;
  {
    DW_ASSIGN_OR_RETURN(auto outbox, OpenAgentOutbox(host, db_path));
    DW_ASSIGN_OR_RETURN(enrollment, outbox->LoadEnrollment());
  }
  if (!enrollment) return std::optional<TreeSyncStats>();
  CollectorClient client(enrollment->collector, enrollment->token, enrollment->ca_file);
  return SyncHostTree(host, db_path, client, result, policy);
}

Result<std::optional<TreeSyncStats>> SyncHostTreeAs(Host& host, const std::string& db_path,
                                                    const Enrollment& cred,
                                                    const std::string& rules_path,
                                                    const CheckResult& result) {
  if (!HasHostTree(result)) return std::optional<TreeSyncStats>();
  DW_ASSIGN_OR_RETURN(rules::Policy policy, rules::LoadPolicyFile(host, rules_path));
  CollectorClient client(cred.collector, cred.token, cred.ca_file);
  return SyncHostTree(host, db_path, client, result, policy);
}

std::string TreeSyncNote(const TreeSyncStats& stats) {
  std::string out = "tree: " + std::to_string(stats.offered) + " objects offered, " +
                    std::to_string(stats.sent_objects) + " sent (" +
                    std::to_string(stats.sent_bytes) + " bytes) in " +
                    std::to_string(stats.rounds) + " requests";
  if (stats.full) out += ", all objects offered again";
  return out;
}

}  // namespace driftwatch::report
