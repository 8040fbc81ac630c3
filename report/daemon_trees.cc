#include "report/daemon_trees.h"

#include "report/group_baseline.h"
#include "report/host_tree.h"

namespace driftwatch::report {

DaemonNote SyncTreeAfterCheck(Host& host, const std::string& db_path, const std::string& rules_path,
                              const Enrollment& cred, const CheckResult& result,
                              AgentFigures* figures) {
  if (!HasHostTree(result)) return {};
  auto stats = SyncHostTreeAs(host, db_path, cred, rules_path, result);
  figures->tree_sync_attempted = true;
  figures->tree_sync_failed = !stats.ok() || !stats->has_value();
  if (!stats.ok()) {
    return {true, "tree sync failed (the report is not affected): " + stats.status().message()};
  }
  if (!stats->has_value()) return {};
  figures->tree_objects_sent = (*stats)->sent_objects;
  figures->tree_bytes_sent = (*stats)->sent_bytes;
  return {false, TreeSyncNote(**stats)};
}

Result<std::string> UseGroupBaseline(Host& host, const DaemonConfig& config,
                                     const Result<std::optional<Enrollment>>& cred,
                                     std::optional<rules::Policy>* policy, DaemonNote* note) {
  if (!cred.ok()) return cred.status();
  DW_ASSIGN_OR_RETURN(rules::Policy rules, rules::Policy::Create({}));
  DW_ASSIGN_OR_RETURN(
      GroupBaselineFetch got,
      FetchGroupBaselineAs(host, *cred, config.db, config.root, config.rules, &rules));
  if (got.added) {
    *note = {false, "group baseline '" + got.name + "' revision " + std::to_string(got.revision) +
                        ": " + std::to_string(got.fetched_objects) + " tree objects fetched"};
  }
  *policy = std::move(rules);
  return got.name;
}

}  // namespace driftwatch::report
