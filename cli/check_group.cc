// `driftwatch check --group-baseline`: the baseline of the host's group at
// the collector (report/group_baseline.h), checked with the host-specific
// paths left out (docs/rules.md "Peers").
#include <iostream>

#include "cli/commands.h"
#include "core/host.h"
#include "report/group_baseline.h"
#include "report/outbox.h"
#include "rules/policy.h"

namespace driftwatch::cli {

Status UseGroupBaseline(agent::CheckOptions* opts) {
  Host& host = DefaultHost();
  std::optional<report::Enrollment> enrollment;
  {
    DW_ASSIGN_OR_RETURN(auto outbox, report::OpenAgentOutbox(host, opts->db_path));
    DW_ASSIGN_OR_RETURN(enrollment, outbox->LoadEnrollment());
  }
  DW_ASSIGN_OR_RETURN(rules::Policy policy, rules::Policy::Create({}));
  DW_ASSIGN_OR_RETURN(report::GroupBaselineFetch got,
                      report::FetchGroupBaselineAs(host, enrollment, opts->db_path, opts->root,
                                                   opts->rules_path, &policy));
  if (got.added) {
    std::cerr << "baseline '" << got.name << "' rev " << got.local_revision
              << ": the group's baseline revision " << got.revision << " (" << got.fetched_objects
              << " tree objects fetched)\n";
  }
  opts->baseline = got.name;
  return Status::Ok();
}

Status LeaveOutForPeers(const std::string& rules_path, CheckResult* result) {
  DW_ASSIGN_OR_RETURN(rules::Policy policy, rules::LoadPolicyFile(DefaultHost(), rules_path));
  report::LeaveOutForPeers(policy, result);
  return Status::Ok();
}

}  // namespace driftwatch::cli
