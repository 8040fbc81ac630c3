// driftwatch rules | baseline | check | scan | history.
#include <unistd.h>
#include <algorithm>

#include <iostream>

#include "agent/check.h"
#include "agent/scanner.h"
#include "agent/store.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/progress.h"
#include "core/drift_json.h"
#include "core/host.h"
#include "rules/glob.h"
#include "rules/policy.h"

namespace driftwatch::cli {
namespace {

const std::vector<FlagSpec> kCommonFlags = {
    {"db"}, {"rules"}, {"root"}, {"jobs"}, {"format"}, {"quiet", false}, {"full", false},
};

std::vector<FlagSpec> With(std::vector<FlagSpec> extra) {
  extra.insert(extra.end(), kCommonFlags.begin(), kCommonFlags.end());
  return extra;
}

Result<bool> WantJson(const Args& args) {
  std::string f = args.GetOr("format", "text");
  if (f != "text" && f != "json") {
    return Status::InvalidArgument("--format must be text or json, not '" + f + "'");
  }
  return f == "json";
}

Result<agent::CheckOptions> OptionsFrom(const Args& args) {
  agent::CheckOptions o;
  o.host = &DefaultHost();
  o.db_path = args.GetOr("db", agent::DefaultDbPath());
  o.rules_path = args.GetOr("rules", agent::DefaultRulesPath());
  if (!o.rules_path.empty() && o.rules_path[0] != '/') {  // recorded with the baseline
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd) == nullptr) return ErrnoStatus("getcwd", errno);
    o.rules_path = std::string(cwd) + "/" + o.rules_path;
  }
  o.root = args.GetOr("root", "/");
  if (o.root.empty() || o.root[0] != '/') {
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd) == nullptr) return ErrnoStatus("getcwd", errno);
    o.root = std::string(cwd) + "/" + o.root;
  }
  while (o.root.size() > 1 && o.root.back() == '/') o.root.pop_back();
  if (auto jobs = args.Get("jobs")) {
    char* end = nullptr;
    long n = std::strtol(jobs->c_str(), &end, 10);
    if (*end != '\0' || n < 1 || n > 256) return Status::InvalidArgument("--jobs takes 1..256");
    o.jobs = static_cast<int>(n);
  }
  o.full = args.Has("full");
  if (!args.Has("quiet") && ::isatty(STDERR_FILENO))
    o.progress = std::make_shared<ProgressLine>(stderr);
  return o;
}

void PrintWarnings(const std::vector<std::string>& warnings) {
  for (const std::string& w : warnings) std::cerr << "warning: " << w << "\n";
}

std::string StatsLine(const ScanStats& s) {
  return std::to_string(s.files) + " files, " + std::to_string(s.dirs) + " dirs, " +
         std::to_string(s.others) + " other; " + std::to_string(s.files_hashed) + " files read (" +
         std::to_string(s.bytes_hashed / 1'000'000) + " MB) in " +
         std::to_string(s.duration_ns / 1'000'000) + " ms";
}

web::json::value BaselineJson(const agent::BaselineInfo& b) {
  web::json::value v = web::json::value::object();
  v["name"] = web::json::value::string(b.name);
  v["revision"] = web::json::value::number(b.revision);
  v["created"] = web::json::value::string(FormatRfc3339Nanos(b.created_ns));
  v["author"] = web::json::value::string(b.author);
  v["reason"] = web::json::value::string(b.reason);
  v["root"] = web::json::value::string(b.root.Hex());
  v["stats"] = ScanStatsToJson(b.stats);
  v["warnings"] = StringsToJson(b.warnings);
  return v;
}

int PrintBaseline(const agent::BaselineInfo& b, bool json) {
  if (json) {
    std::cout << BaselineJson(b).serialize() << "\n";
  } else {
    PrintWarnings(b.warnings);
    std::cout << "baseline '" << b.name << "' revision " << b.revision << ": " << StatsLine(b.stats)
              << "\nroot " << b.root.Hex() << "\n";
  }
  return kExitOk;
}

int RulesCheck(const std::vector<std::string>& files) {
  if (files.empty()) return Fail(Status::InvalidArgument("usage: driftwatch rules check FILE..."));
  int rc = kExitOk;
  for (const std::string& f : files) {
    auto policy = rules::LoadPolicyFile(DefaultHost(), f);
    if (!policy.ok()) {
      std::cerr << policy.status().message() << "\n";
      rc = kExitError;
      continue;
    }
    std::cout << f << ": ok, " << policy->rules().size() << " rules over " << policy->Roots().size()
              << " roots\n";
  }
  return rc;
}

int BaselineCreate(const std::vector<std::string>& argv) {
  auto args = Args::Parse(argv, With({{"name"}, {"reason"}}));
  if (!args.ok()) return Fail(args.status());
  auto json = WantJson(*args);
  if (!json.ok()) return Fail(json.status());
  auto opts = OptionsFrom(*args);
  if (!opts.ok()) return Fail(opts.status());
  opts->baseline = args->GetOr("name", "default");
  auto info = agent::CreateBaseline(*opts, CurrentUser(), args->GetOr("reason", "baseline create"));
  if (!info.ok()) return Fail(info.status());
  return PrintBaseline(*info, *json);
}

int BaselineAccept(const std::vector<std::string>& argv) {
  auto args = Args::Parse(argv, With({{"path", true, true}, {"reason"}}));
  if (!args.ok()) return Fail(args.status());
  auto json = WantJson(*args);
  if (!json.ok()) return Fail(json.status());
  if (args->positional().size() != 1) {
    return Fail(Status::InvalidArgument(
        "usage: driftwatch baseline accept NAME [--path GLOB...] --reason TEXT"));
  }
  if (!args->Has("reason") || args->GetOr("reason", "").empty()) {
    return Fail(
        Status::InvalidArgument("baseline accept needs --reason TEXT (kept in the history)"));
  }
  auto opts = OptionsFrom(*args);
  if (!opts.ok()) return Fail(opts.status());
  opts->baseline = args->positional()[0];
  Status recorded = agent::ApplyBaselineDefaults(&*opts, args->Has("root"), args->Has("rules"));
  if (!recorded.ok()) return Fail(recorded);
  auto info = agent::AcceptDrift(*opts, args->GetAll("path"), CurrentUser(), *args->Get("reason"));
  if (!info.ok()) return Fail(info.status());
  return PrintBaseline(*info, *json);
}

int BaselineListOrShow(const std::vector<std::string>& argv, bool show) {
  auto args = Args::Parse(argv, {{"db"}, {"format"}});
  if (!args.ok()) return Fail(args.status());
  auto json = WantJson(*args);
  if (!json.ok()) return Fail(json.status());
  if (show && args->positional().size() != 1) {
    return Fail(Status::InvalidArgument("usage: driftwatch baseline show NAME"));
  }
  auto store = agent::Store::Open(DefaultHost(), args->GetOr("db", agent::DefaultDbPath()));
  if (!store.ok()) return Fail(store.status());
  std::optional<std::string> name;
  if (show) name = args->positional()[0];
  auto rows = (*store)->Baselines(name);
  if (!rows.ok()) return Fail(rows.status());
  if (show && rows->empty()) return Fail(Status::NotFound("no baseline named '" + *name + "'"));
  web::json::value arr = web::json::value::array();
  size_t i = 0;
  for (const agent::BaselineRow& r : *rows) {
    // `list` shows the newest revision of each name; `show` every revision.
    if (!show && &r != &rows->back() && (&r + 1)->name == r.name) continue;
    auto snap = (*store)->GetSnapshot(r.snapshot_id);
    if (!snap.ok()) return Fail(snap.status());
    if (*json) {
      web::json::value v = web::json::value::object();
      v["name"] = web::json::value::string(r.name);
      v["revision"] = web::json::value::number(r.revision);
      v["created"] = web::json::value::string(FormatRfc3339Nanos(r.created_ns));
      v["author"] = web::json::value::string(r.author);
      v["reason"] = web::json::value::string(r.reason);
      v["root"] = web::json::value::string(snap->root.Hex());
      v["root_path"] = web::json::value::string(EscapePath(snap->root_path));
      v["stats"] = ScanStatsToJson(snap->stats);
      arr[i++] = v;
    } else {
      std::cout << r.name << "  rev " << r.revision << "  " << FormatTime(r.created_ns) << "  by "
                << r.author << "  root " << snap->root.Hex().substr(0, 12) << "  "
                << snap->stats.files << " files  of " << EscapePath(snap->root_path) << "  \""
                << r.reason << "\"\n";
    }
  }
  if (*json) std::cout << arr.serialize() << "\n";
  return kExitOk;
}

// The check's drift on stdout: JSON, or one line per event and a summary.
void PrintCheck(const CheckResult& result, bool json) {
  if (json) {
    std::cout << CheckResultToJson(result).serialize() << std::endl;
  } else {
    PrintWarnings(result.warnings);
    for (const DriftEvent& e : result.events) std::cout << FormatEvent(e) << "\n";
    std::cout << "baseline '" << result.baseline << "' rev " << result.baseline_revision << ": "
              << FormatSummary(result.events) << " (" << StatsLine(result.stats) << ")"
              << std::endl;
  }
}

}  // namespace

int RunRulesCommand(const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "check") {
    return Fail(Status::InvalidArgument("usage: driftwatch rules check FILE..."));
  }
  return RulesCheck(std::vector<std::string>(args.begin() + 1, args.end()));
}

int RunBaselineCommand(const std::vector<std::string>& args) {
  const std::string sub = args.empty() ? "" : args[0];
  std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
  if (sub == "create") return BaselineCreate(rest);
  if (sub == "accept") return BaselineAccept(rest);
  if (sub == "list") return BaselineListOrShow(rest, false);
  if (sub == "show") return BaselineListOrShow(rest, true);
  return Fail(Status::InvalidArgument("usage: driftwatch baseline create|list|show|accept ..."));
}

int RunCheckCommand(const std::vector<std::string>& argv) {
  auto args = Args::Parse(argv, With({{"baseline"},
                                      {"report", false},
                                      {"verify-packages", false},
                                      {"no-containers", false},
                                      {"min-severity"}}));
  if (!args.ok()) return Fail(args.status());
  auto min_severity = agent::ParseMinSeverity(args->GetOr("min-severity", "info"));
  if (!min_severity.ok()) return Fail(min_severity.status().WithContext("--min-severity"));
  auto json = WantJson(*args);
  if (!json.ok()) return Fail(json.status());
  auto opts = OptionsFrom(*args);
  if (!opts.ok()) return Fail(opts.status());
  opts->baseline = args->GetOr("baseline", "default");
  Status recorded = agent::ApplyBaselineDefaults(&*opts, args->Has("root"), args->Has("rules"));
  if (!recorded.ok()) return Fail(recorded);
  opts->verify_packages = args->Has("verify-packages");
  Status not_recorded;
  auto result = agent::RunCheck(*opts, &not_recorded);
  if (!result.ok()) return Fail(result.status());
  if (opts->root == "/" && !args->Has("no-containers")) {
    AddContainerDrift(opts->db_path, &*result);
    std::stable_sort(result->events.begin(), result->events.end(),
                     [](const DriftEvent& a, const DriftEvent& b) { return a.path < b.path; });
  }
  // The drift found is printed whatever becomes of its record and report;
  // below --min-severity it is printed and kept in the history, and does
  // not count in the exit status nor go in a report.
  PrintCheck(*result, *json);
  const size_t counted = agent::CountAtOrAbove(*min_severity, result->events);
  if (counted < result->events.size()) {
    std::cerr << result->events.size() - counted << " drift event(s) below "
              << agent::MinSeverityName(*min_severity)
              << ": printed and kept in the history, not counted in the exit status\n";
    agent::DropBelowSeverity(*min_severity, &*result);
  }
  int rc = counted == 0 ? kExitOk : kExitDrift;
  if (!not_recorded.ok()) {
    rc = Fail(not_recorded.WithContext("the check's result was not recorded in " + opts->db_path +
                                       "; its drift is printed above but not kept in its history"));
  }
  if (args->Has("report") && ReportCheck(opts->db_path, *result) != kExitOk) rc = kExitError;
  return rc;
}

int RunScanCommand(const std::vector<std::string>& argv) {
  auto args = Args::Parse(argv, kCommonFlags);
  if (!args.ok()) return Fail(args.status());
  auto json = WantJson(*args);
  if (!json.ok()) return Fail(json.status());
  auto opts = OptionsFrom(*args);
  if (!opts.ok()) return Fail(opts.status());
  auto policy = rules::LoadPolicyFile(DefaultHost(), opts->rules_path);
  if (!policy.ok()) return Fail(policy.status());
  MemoryTreeStore trees;
  agent::ScanOptions so;
  so.root = opts->root;
  so.jobs = opts->jobs;
  auto scan = agent::ScanTree(DefaultHost(), *policy, so, trees);
  if (!scan.ok()) return Fail(scan.status());
  if (*json) {
    web::json::value v = web::json::value::object();
    v["root"] = web::json::value::string(scan->root.Hex());
    v["root_path"] = web::json::value::string(EscapePath(opts->root));
    v["rules"] = web::json::value::string(policy->Fingerprint().Hex());
    v["started"] = web::json::value::string(FormatRfc3339Nanos(scan->started_ns));
    v["subtrees"] = SubtreesToJson(scan->subtrees);
    v["stats"] = ScanStatsToJson(scan->stats);
    v["warnings"] = StringsToJson(scan->warnings);
    std::cout << v.serialize() << "\n";
  } else {
    PrintWarnings(scan->warnings);
    for (const auto& [path, hash] : scan->subtrees) {
      std::cout << hash.Hex() << "  " << EscapePath(path) << "\n";
    }
    std::cout << "root " << scan->root.Hex() << ": " << StatsLine(scan->stats) << "\n";
  }
  return kExitOk;
}

int RunHistoryCommand(const std::vector<std::string>& argv) {
  auto args = Args::Parse(argv, {{"db"}, {"format"}, {"path", true, true}, {"since"}, {"limit"}});
  if (!args.ok()) return Fail(args.status());
  auto json = WantJson(*args);
  if (!json.ok()) return Fail(json.status());
  int64_t since = 0;
  if (auto s = args->Get("since")) {
    auto t = ParseSince(*s, DefaultHost().NowNs());
    if (!t.ok()) return Fail(t.status());
    since = *t;
  }
  std::vector<rules::Glob> globs;
  for (const std::string& g : args->GetAll("path")) {
    auto glob = rules::Glob::Compile(g);
    if (!glob.ok()) return Fail(glob.status().WithContext("--path"));
    globs.push_back(std::move(*glob));
  }
  size_t limit = 100000;
  if (auto l = args->Get("limit")) limit = std::strtoul(l->c_str(), nullptr, 10);
  auto store = agent::Store::Open(DefaultHost(), args->GetOr("db", agent::DefaultDbPath()));
  if (!store.ok()) return Fail(store.status());
  auto rows = (*store)->History(since, limit);
  if (!rows.ok()) return Fail(rows.status());
  web::json::value arr = web::json::value::array();
  size_t i = 0;
  for (const agent::HistoryRow& h : *rows) {
    if (!globs.empty()) {
      bool hit = false;
      for (const rules::Glob& g : globs) hit = hit || g.Matches(h.event.path);
      if (!hit) continue;
    }
    if (*json) {
      web::json::value v = DriftEventToJson(h.event);
      v["check"] = web::json::value::number(h.check_id);
      v["time"] = web::json::value::string(FormatRfc3339Nanos(h.finished_ns));
      v["baseline"] = web::json::value::string(h.baseline);
      arr[i++] = v;
    } else {
      std::cout << FormatTime(h.finished_ns) << "  " << FormatEvent(h.event) << "\n";
    }
  }
  if (*json) std::cout << arr.serialize() << "\n";
  return kExitOk;
}

}  // namespace driftwatch::cli
