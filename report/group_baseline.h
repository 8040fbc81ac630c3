// The group's baseline on the agent (docs/wire.md "Trees", docs/operations.md
// "Group baselines"): the tree the collector keeps as the baseline of the
// host's group (made from a golden host or from the group's majority) is
// downloaded into the agent store and becomes the baseline `group:G`, which
// `driftwatch check --group-baseline` checks against.
//
// Objects are fetched top-down, only those the store lacks (a subtree the
// store holds is whole there: the store keeps trees with their children),
// each checked against its id by the client. A revision the store already
// holds with the same root is not added again. The baseline's snapshot
// records `root_path` and the rules it is checked with (their fingerprint),
// so that a check against it raises no "rules changed" notice.
//
// Errors: the collector's (client.h); kNotFound when the group has no
// baseline; kUnavailable when the collector lacks objects of its own tree.
//
// Thread-safety: opens its own database handle.
#ifndef DRIFTWATCH_REPORT_GROUP_BASELINE_H_
#define DRIFTWATCH_REPORT_GROUP_BASELINE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/drift.h"
#include "core/host.h"
#include "core/status.h"
#include "report/client.h"
#include "report/outbox.h"
#include "rules/policy.h"

namespace driftwatch::report {

struct GroupBaselineFetch {
  std::string name;            // "group:G"
  int64_t revision = 0;        // the collector's revision
  int64_t local_revision = 0;  // the revision of `name` in the agent store
  Hash128 root;
  int64_t fetched_objects = 0;
  bool added = false;  // false: the store already held this revision
};

// "group:" + group.
std::string GroupBaselineName(const std::string& group);

Result<GroupBaselineFetch> FetchGroupBaseline(Host& host, CollectorClient& client,
                                              const std::string& db_path,
                                              const std::string& root_path,
                                              const std::string& rules_path,
                                              const rules::Policy& policy);

// The same as the host of `cred` (kFailedPrecondition when not enrolled),
// the rules read from rules_path into *policy.
Result<GroupBaselineFetch> FetchGroupBaselineAs(Host& host, const std::optional<Enrollment>& cred,
                                                const std::string& db_path,
                                                const std::string& root_path,
                                                const std::string& rules_path,
                                                rules::Policy* policy);

// Whether `path` or a directory above it is host-specific
// (Policy::PeerIgnored).
bool HostSpecificPath(const rules::Policy& policy, std::string_view path);

// Leaves out of a check against a group baseline what is not the group's:
// events at host-specific paths or beneath one, and package events (the
// group's tree has files only). Returns how many were left out.
size_t LeaveOutForPeers(const rules::Policy& policy, CheckResult* result);

// `baseline: group` in agent.yaml: the daemon checks against its group's
// baseline.
inline constexpr const char* kGroupBaselineSetting = "group";

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_REPORT_GROUP_BASELINE_H_
