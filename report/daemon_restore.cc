#include "report/daemon_restore.h"

#include <map>

#include "core/drift.h"

namespace driftwatch::report {
namespace {

constexpr size_t kMaxDetail = 1000;

}  // namespace

agent::RestoreOptions RemoteRestoreOptions(const AgentCommand& c,
                                           const agent::CheckOptions& check) {
  agent::RestoreOptions o;
  o.check = check;
  o.paths = c.paths;
  o.all = c.all;
  o.dry_run = c.dry_run;
  o.remove_added = c.remove_added;
  o.author = "collector";
  o.reason = c.reason.empty() ? "restore command " + std::to_string(c.id)
                              : c.reason + " (command " + std::to_string(c.id) + ")";
  return o;
}

std::string SummarizeRestore(const agent::RestoreResult& r, bool dry_run) {
  std::map<std::string, int64_t> counts;
  std::string refused;
  for (const agent::RestoreAction& a : r.actions) {
    if (a.ok) {
      ++counts[a.action];
    } else {
      if (!refused.empty()) refused += "; ";
      refused += EscapePath(a.path) + ": " + a.detail;
    }
  }
  std::string out = std::string(dry_run ? "would restore" : "restored") + " from baseline " +
                    r.baseline + " revision " + std::to_string(r.revision) + ":";
  if (counts.empty()) out += " nothing to do";
  bool first = true;
  for (const auto& [action, n] : counts) {
    out += std::string(first ? " " : ", ") + std::to_string(n) + " " + action;
    first = false;
  }
  if (r.refused > 0) out += "; " + std::to_string(r.refused) + " refused or failed: " + refused;
  if (out.size() > kMaxDetail) out = out.substr(0, kMaxDetail - 3) + "...";
  return out;
}

RemoteRestoreOutcome RunRemoteRestore(const AgentCommand& c, const agent::CheckOptions& check,
                                      bool allowed) {
  RemoteRestoreOutcome out;
  if (!allowed) {
    out.detail = kRemoteRestoreOff;
    return out;
  }
  if (c.paths.empty() && !c.all) {
    out.detail = "restore: the command names no paths and not all";
    return out;
  }
  auto r = agent::Restore(RemoteRestoreOptions(c, check));
  if (!r.ok()) {
    out.detail = "restore: " + r.status().message();
    return out;
  }
  out.ok = r->refused == 0;
  out.detail = SummarizeRestore(*r, c.dry_run);
  if (!c.dry_run) {
    for (const agent::RestoreAction& a : r->actions) {
      if (a.ok && a.action != "unchanged") out.changed = true;
    }
  }
  return out;
}

}  // namespace driftwatch::report
