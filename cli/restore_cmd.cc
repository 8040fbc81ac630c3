// driftwatch restore: put drifted paths back the way a baseline has them.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iostream>

#include "agent/check.h"
#include "agent/restore.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/restore_output.h"
#include "core/drift.h"
#include "core/drift_json.h"
#include "core/host.h"

namespace driftwatch::cli {
namespace {

struct RestoreFlags {
  std::vector<std::string> paths;
  bool all = false;
  std::string baseline = "default";
  bool dry_run = false;
  bool remove_added = false;
  std::string reason;
  std::string root;
  std::string rules;
  std::string db;
  std::string format = "text";
};

Result<std::string> Absolute(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) == nullptr) return ErrnoStatus("getcwd", errno);
  return std::string(cwd) + "/" + path;
}

}  // namespace

namespace {

web::json::value RestoreResultToJson(const agent::RestoreResult& r, bool dry_run) {
  web::json::value v = web::json::value::object();
  v["baseline"] = web::json::value::string(r.baseline);
  v["revision"] = web::json::value::number(r.revision);
  v["dry_run"] = web::json::value::boolean(dry_run);
  v["refused"] = web::json::value::number(r.refused);
  v["history_id"] = web::json::value::number(r.history_id);
  v["actions"] = RestoreActionsToJson(r.actions);
  return v;
}

}  // namespace

web::json::value RestoreActionsToJson(const std::vector<agent::RestoreAction>& actions) {
  web::json::value arr = web::json::value::array();
  size_t i = 0;
  for (const agent::RestoreAction& a : actions) {
    web::json::value v = web::json::value::object();
    v["path"] = web::json::value::string(EscapePath(a.path));
    v["action"] = web::json::value::string(a.action);
    v["detail"] = web::json::value::string(a.detail);
    v["ok"] = web::json::value::boolean(a.ok);
    arr[i++] = v;
  }
  return arr;
}

std::string FormatRestoreAction(const agent::RestoreAction& a) {
  std::string action = a.ok ? a.action : a.action == "refused" ? a.action : a.action + " failed";
  action.resize(std::max<size_t>(action.size(), 9), ' ');
  return action + " " + EscapePath(a.path) + ": " + a.detail;
}

int PrintRestore(const agent::RestoreResult& r, bool dry_run, bool json) {
  if (json) {
    std::cout << RestoreResultToJson(r, dry_run).serialize() << "\n";
  } else {
    for (const agent::RestoreAction& a : r.actions) std::cout << FormatRestoreAction(a) << "\n";
    std::cout << (dry_run ? "dry run, nothing changed: " : "") << r.actions.size()
              << (r.actions.size() == 1 ? " action" : " actions") << " from baseline " << r.baseline
              << " revision " << r.revision << ", " << r.refused
              << (r.refused == 1 ? " path" : " paths") << " refused or failed";
    if (r.history_id > 0) std::cout << " (history entry " << r.history_id << ")";
    std::cout << "\n";
  }
  return r.refused > 0 ? kExitDrift : kExitOk;
}

std::string FormatRestoreEntry(const agent::RestoreRow& r) {
  std::string out = FormatTime(r.created_ns) + "  restore by " + r.author + " from baseline " +
                    r.baseline + " revision " + std::to_string(r.revision) + ": " + r.reason + "\n";
  for (const agent::RestoreAction& a : r.actions) out += "    " + FormatRestoreAction(a) + "\n";
  return out;
}

web::json::value RestoreEntryToJson(const agent::RestoreRow& r) {
  web::json::value v = web::json::value::object();
  v["kind"] = web::json::value::string("restore");
  v["restore"] = web::json::value::number(r.id);
  v["time"] = web::json::value::string(FormatRfc3339Nanos(r.created_ns));
  v["author"] = web::json::value::string(r.author);
  v["reason"] = web::json::value::string(r.reason);
  v["baseline"] = web::json::value::string(r.baseline);
  v["revision"] = web::json::value::number(r.revision);
  v["refused"] = web::json::value::number(r.refused);
  v["actions"] = RestoreActionsToJson(r.actions);
  return v;
}

namespace {

int RunRestore(const RestoreFlags& f) {
  if (f.all == !f.paths.empty()) {
    return Fail(Status::InvalidArgument("restore: give PATH... or --all (one of them)"));
  }
  agent::RestoreOptions o;
  o.check.host = &DefaultHost();
  o.check.db_path = f.db.empty() ? agent::DefaultDbPath() : f.db;
  o.check.baseline = f.baseline;
  auto rules = Absolute(f.rules.empty() ? agent::DefaultRulesPath() : f.rules);
  auto root = Absolute(f.root.empty() ? "/" : f.root);
  if (!rules.ok()) return Fail(rules.status());
  if (!root.ok()) return Fail(root.status());
  o.check.rules_path = *rules;
  o.check.root = *root;
  while (o.check.root.size() > 1 && o.check.root.back() == '/') o.check.root.pop_back();
  Status defaults = agent::ApplyBaselineDefaults(&o.check, !f.root.empty(), !f.rules.empty());
  if (!defaults.ok()) return Fail(defaults);
  o.paths = f.paths;
  o.all = f.all;
  o.dry_run = f.dry_run;
  o.remove_added = f.remove_added;
  o.author = CurrentUser();
  o.reason = f.reason;
  auto result = agent::Restore(o);
  if (!result.ok()) return Fail(result.status());
  return PrintRestore(*result, f.dry_run, f.format == "json");
}

}  // namespace

void AddRestoreCommand(CLI::App& root) {
  auto f = std::make_shared<RestoreFlags>();
  CLI::App* cmd =
      cmdline::AddCommand(root, "restore", "put drifted paths back the way the baseline has them",
                          [f] { return RunRestore(*f); });
  cmd->add_option("PATH", f->paths,
                  "a path or glob to restore (a directory brings what is under it)");
  cmd->add_flag("--all", f->all, "restore every drifted path");
  cmd->add_option("--baseline", f->baseline, "the baseline to restore from (default: default)")
      ->type_name("NAME");
  cmd->add_flag("--dry-run", f->dry_run, "print what would be done, change nothing");
  cmd->add_flag("--remove-added", f->remove_added,
                "also remove paths the baseline does not have (directories with what they hold)");
  cmd->add_option("--reason", f->reason, "why; kept in the restore history")
      ->type_name("TEXT")
      ->required()
      ->check(cmdline::NonEmpty());
  cmd->add_option("--root", f->root, "the tree to restore (default: the baseline's)")
      ->type_name("DIR")
      ->check(cmdline::NonEmpty());
  cmd->add_option("--rules", f->rules, "the rule file (default: the baseline's)")
      ->type_name("FILE");
  AddDbFlag(cmd, &f->db);
  AddFormatFlag(cmd, &f->format);
}

}  // namespace driftwatch::cli
