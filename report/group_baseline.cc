#include "report/group_baseline.h"

#include <algorithm>
#include <deque>
#include <set>

#include "agent/store.h"
#include "core/entry.h"

namespace driftwatch::report {

std::string GroupBaselineName(const std::string& group) { return "group:" + group; }

Result<GroupBaselineFetch> FetchGroupBaseline(Host& host, CollectorClient& client,
                                              const std::string& db_path,
                                              const std::string& root_path,
                                              const std::string& rules_path,
                                              const rules::Policy& policy) {
  DW_ASSIGN_OR_RETURN(std::optional<GroupBaselineInfo> info, client.GetGroupBaseline());
  if (!info) {
    return Status::NotFound("the collector holds no baseline for this host's group");
  }
  GroupBaselineFetch out;
  out.name = GroupBaselineName(info->group);
  out.revision = info->revision;
  out.root = info->root;
  DW_ASSIGN_OR_RETURN(auto store, agent::Store::Open(host, db_path));

  // Top-down, breadth first: ids whose objects the store lacks.
  std::deque<Hash128> queue = {info->root};
  std::set<Hash128> seen;
  while (!queue.empty()) {
    std::vector<Hash128> batch;
    while (!queue.empty() && batch.size() < kMaxFetchIds) {
      Hash128 id = queue.front();
      queue.pop_front();
      if (id.IsZero() || !seen.insert(id).second) continue;
      if (store->Get(id).ok()) continue;  // held, with its subtrees
      batch.push_back(id);
    }
    if (batch.empty()) continue;
    DW_ASSIGN_OR_RETURN(TreeFetchAnswer a, client.FetchTrees(batch));
    if (!a.missing.empty()) {
      return Status::Unavailable("the collector lacks object " + a.missing.front().Hex() +
                                 " of its group baseline " + info->root.Hex());
    }
    for (const Hash128& id : a.more) {
      seen.erase(id);
      queue.push_back(id);
    }
    for (TreeObjectData& o : a.objects) {
      DW_ASSIGN_OR_RETURN(Tree t, ParseTree(o.data));
      for (const Entry& e : t.entries) {
        if (e.type == EntryType::kDir && !e.subtree.IsZero()) queue.push_back(e.subtree);
      }
      DW_RETURN_IF_ERROR(store->Put(o.id, std::move(o.data)));
      ++out.fetched_objects;
    }
  }
  DW_RETURN_IF_ERROR(store->Flush());

  DW_ASSIGN_OR_RETURN(std::optional<agent::BaselineRow> latest, store->LatestBaseline(out.name));
  if (latest) {
    DW_ASSIGN_OR_RETURN(agent::SnapshotRow snap, store->GetSnapshot(latest->snapshot_id));
    if (snap.root == info->root && snap.root_path == root_path &&
        snap.rules_hash == policy.Fingerprint().Hex()) {
      out.local_revision = latest->revision;
      return out;
    }
  }
  agent::SnapshotRow row;
  row.kind = "baseline";
  row.target = host.Hostname();
  row.root_path = root_path;
  row.rules_hash = policy.Fingerprint().Hex();
  row.rules_path = rules_path;
  row.content_hash = policy.ContentFingerprint().Hex();
  row.root = info->root;
  row.created_ns = info->created_ns != 0 ? info->created_ns : host.NowNs();
  DW_ASSIGN_OR_RETURN(int64_t snapshot_id, store->AddSnapshot(row));
  const std::string why = "group baseline revision " + std::to_string(info->revision) + " (" +
                          info->source + ")" + (info->why.empty() ? "" : ": " + info->why);
  DW_ASSIGN_OR_RETURN(agent::BaselineRow added,
                      store->AddBaseline(out.name, snapshot_id, host.NowNs(), info->by, why));
  out.local_revision = added.revision;
  out.added = true;
  return out;
}

Result<GroupBaselineFetch> FetchGroupBaselineAs(Host& host, const std::optional<Enrollment>& cred,
                                                const std::string& db_path,
                                                const std::string& root_path,
                                                const std::string& rules_path,
                                                rules::Policy* policy) {
  if (!cred) {
    return Status::FailedPrecondition(
        "not enrolled with a collector (run driftwatch enroll): the group's baseline is kept "
        "there");
  }
  DW_ASSIGN_OR_RETURN(*policy, rules::LoadPolicyFile(host, rules_path));
  CollectorClient client(cred->collector, cred->token, cred->ca_file);
  return FetchGroupBaseline(host, client, db_path, root_path, rules_path, *policy);
}

bool HostSpecificPath(const rules::Policy& policy, std::string_view path) {
  while (path.size() > 1) {
    if (policy.PeerIgnored(path)) return true;
    const size_t slash = path.rfind('/');
    path = path.substr(0, slash == 0 ? 1 : slash);
  }
  return false;
}

size_t LeaveOutForPeers(const rules::Policy& policy, CheckResult* result) {
  auto& ev = result->events;
  const size_t before = ev.size();
  ev.erase(std::remove_if(ev.begin(), ev.end(),
                          [&](const DriftEvent& e) {
                            return e.kind == DriftKind::kPackageInstalled ||
                                   e.kind == DriftKind::kPackageRemoved ||
                                   e.kind == DriftKind::kPackageChanged ||
                                   HostSpecificPath(policy, e.path);
                          }),
           ev.end());
  return before - ev.size();
}

}  // namespace driftwatch::report
