// `driftwatch check --report`: hands a finished check to the outbox.
#include <iostream>

#include "agent/check.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "core/host.h"
#include "report/agent_config.h"
#include "report/host_tree.h"
#include "report/reporter.h"
#include "report/self_integrity.h"
#include "rules/policy.h"

namespace driftwatch::cli {

namespace {

// The host's tree after its report; a failure is a warning (the report is
// queued already).
web::json::value SyncTree(Host& host, const std::string& db_path, const std::string& rules_path,
                          const CheckResult& result) {
  web::json::value out = web::json::value::null();
  if (!report::HasHostTree(result)) return out;
  Result<std::optional<report::TreeSyncStats>> stats = std::optional<report::TreeSyncStats>();
  auto policy =
      rules::LoadPolicyFile(host, rules_path.empty() ? agent::DefaultRulesPath() : rules_path);
  if (!policy.ok()) {
    stats = policy.status();
  } else {
    stats = report::SyncEnrolledHostTree(host, db_path, result, *policy);
  }
  if (!stats.ok()) {
    std::cerr << "warning: tree sync failed (the report is not affected): "
              << stats.status().message() << "\n";
    out = web::json::value::object();
    out["error"] = web::json::value::string(stats.status().message());
    return out;
  }
  if (!stats->has_value()) return out;
  const report::TreeSyncStats& s = **stats;
  std::cerr << report::TreeSyncNote(s) << "\n";
  out = web::json::value::object();
  out["offered"] = web::json::value::number(s.offered);
  out["sent_objects"] = web::json::value::number(s.sent_objects);
  out["sent_bytes"] = web::json::value::number(s.sent_bytes);
  out["rounds"] = web::json::value::number(s.rounds);
  out["full"] = web::json::value::boolean(s.full);
  return out;
}

}  // namespace

int ReportCheck(const std::string& db_path, const std::string& rules_path, CheckResult result,
                web::json::value* tree_sync) {
  // What runs goes with the report, and into the chain when it changed
  // (docs/integrity.md): the configuration is the daemon's, if installed.
  Host& host = DefaultHost();
  if (Status s = report::StampSelf(host, db_path, report::ExeDigest(host), rules_path,
                                   report::kDefaultAgentConfig, /*start=*/false, &result);
      !s.ok()) {
    return Fail(s.WithContext("--report: the report was not queued, so it will not be sent"));
  }
  std::string note;
  bool delivered = false;
  auto id = report::QueueAndDeliver(DefaultHost(), db_path, result, &note, &delivered);
  if (!id.ok()) {
    return Fail(
        id.status().WithContext("--report: the report was not queued, so it will not be "
                                "sent"));
  }
  std::cerr << "report " << *id << " queued";
  if (!note.empty()) std::cerr << "; " << note;
  std::cerr << "\n";
  // A collector that did not take the report would not take the tree
  // either: the next check sends it (its offer covers what changed since
  // the root the collector last confirmed).
  if (!delivered) return kExitOk;
  web::json::value synced = SyncTree(host, db_path, rules_path, result);
  if (tree_sync != nullptr) *tree_sync = std::move(synced);
  return kExitOk;
}

}  // namespace driftwatch::cli
