// driftwatch rules | baseline | check | scan | history.
#include <unistd.h>
#include <algorithm>

#include <iostream>

#include "agent/check.h"
#include "agent/journal.h"
#include "agent/scanner.h"
#include "agent/store.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/container_scan.h"
#include "cli/output.h"
#include "cli/progress.h"
#include "cli/restore_output.h"
#include "core/drift_json.h"
#include "core/host.h"
#include "report/agent_config.h"
#include "report/signing_trust.h"
#include "rules/glob.h"
#include "rules/policy.h"

namespace driftwatch::cli {
namespace {

// The flags of the commands that scan: rules, root, store and output. An
// empty string is a flag not given.
struct ScanFlags {
  std::string db;
  std::string rules;
  std::string root;
  std::string format = "text";
  int jobs = 0;  // 0: the scanner's default
  bool quiet = false;
  bool full = false;
};

void AddScanFlags(CLI::App* cmd, ScanFlags* f) {
  AddDbFlag(cmd, &f->db);
  cmd->add_option("--rules", f->rules,
                  "the rule file (check and baseline accept: the baseline's; else "
                  "$DRIFTWATCH_RULES, else /etc/driftwatch/rules.yaml)")
      ->type_name("FILE");
  cmd->add_option("--root", f->root,
                  "the tree to scan (check and baseline accept: the baseline's; else /)")
      ->type_name("DIR")
      ->check(cmdline::NonEmpty());
  cmd->add_option("--jobs", f->jobs, "files hashed in parallel")
      ->type_name("N")
      ->check(cmdline::IntegerRange(1, 256));
  AddFormatFlag(cmd, &f->format);
  cmd->add_flag("--quiet", f->quiet, "no progress line on a terminal");
  cmd->add_flag("--full", f->full, "hash every file instead of trusting unchanged metadata");
}

// `path` against the working directory when it is relative; "" stays "".
Result<std::string> Absolute(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) == nullptr) return ErrnoStatus("getcwd", errno);
  return std::string(cwd) + "/" + path;
}

Result<agent::CheckOptions> OptionsFrom(const ScanFlags& f) {
  agent::CheckOptions o;
  o.host = &DefaultHost();
  o.db_path = f.db.empty() ? agent::DefaultDbPath() : f.db;
  o.rules_path = f.rules.empty() ? agent::DefaultRulesPath() : f.rules;
  // The rule file is recorded with the baseline, so absolute like the root.
  DW_ASSIGN_OR_RETURN(o.rules_path, Absolute(o.rules_path));
  DW_ASSIGN_OR_RETURN(o.root, Absolute(f.root.empty() ? "/" : f.root));
  while (o.root.size() > 1 && o.root.back() == '/') o.root.pop_back();
  if (f.jobs > 0) o.jobs = f.jobs;
  o.full = f.full;
  if (!f.quiet && ::isatty(STDERR_FILENO)) o.progress = std::make_shared<ProgressLine>(stderr);
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

struct CreateFlags {
  ScanFlags scan;
  std::string name;       // positional NAME
  std::string name_flag;  // --name NAME, the older spelling
  std::string reason = "baseline create";
};

int BaselineCreate(const CreateFlags& f) {
  if (!f.name.empty() && !f.name_flag.empty() && f.name != f.name_flag) {
    return Fail(Status::InvalidArgument("baseline create: the name is given twice ('" + f.name +
                                        "' and --name '" + f.name_flag + "'); give it once"));
  }
  auto opts = OptionsFrom(f.scan);
  if (!opts.ok()) return Fail(opts.status());
  opts->baseline = !f.name.empty() ? f.name : !f.name_flag.empty() ? f.name_flag : "default";
  auto info = agent::CreateBaseline(*opts, CurrentUser(), f.reason);
  if (!info.ok()) return Fail(info.status());
  return PrintBaseline(*info, f.scan.format == "json");
}

struct AcceptFlags {
  ScanFlags scan;
  std::string name;
  std::vector<std::string> paths;
  std::string reason;
};

int BaselineAccept(const AcceptFlags& f) {
  auto opts = OptionsFrom(f.scan);
  if (!opts.ok()) return Fail(opts.status());
  opts->baseline = f.name;
  Status recorded =
      agent::ApplyBaselineDefaults(&*opts, !f.scan.root.empty(), !f.scan.rules.empty());
  if (!recorded.ok()) return Fail(recorded);
  auto info = agent::AcceptDrift(*opts, f.paths, CurrentUser(), f.reason);
  if (!info.ok()) return Fail(info.status());
  return PrintBaseline(*info, f.scan.format == "json");
}

struct ListFlags {
  std::string db;
  std::string format = "text";
  std::string name;  // show
};

int BaselineListOrShow(const ListFlags& f, bool show) {
  const bool json = f.format == "json";
  auto store = agent::Store::Open(DefaultHost(), f.db.empty() ? agent::DefaultDbPath() : f.db);
  if (!store.ok()) return Fail(store.status());
  std::optional<std::string> name;
  if (show) name = f.name;
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
    if (json) {
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
  if (json) std::cout << arr.serialize() << "\n";
  return kExitOk;
}

// The check's drift on stdout: JSON, or one line per event and a summary.
// With `diffs`, each event's content diff follows its line.
void PrintCheck(const CheckResult& result, bool json, bool diffs) {
  if (json) {
    std::cout << CheckResultToJson(result).serialize() << std::endl;
  } else {
    PrintWarnings(result.warnings);
    for (const DriftEvent& e : result.events) {
      std::cout << FormatEvent(e) << "\n";
      if (diffs) std::cout << FormatContentDiff(e);
    }
    std::cout << "baseline '" << result.baseline << "' rev " << result.baseline_revision << ": "
              << FormatSummary(result.events) << " (" << StatsLine(result.stats) << ")"
              << std::endl;
    if (std::string walk = FormatWalk(result.walk); !walk.empty()) std::cout << walk << "\n";
  }
}

struct CheckFlags {
  ScanFlags scan;
  std::string baseline = "default";
  bool group_baseline = false;
  bool report = false;
  bool verify_packages = false;
  bool no_containers = false;
  bool diff = false;
  std::string min_severity = "info";
  std::string
      config;  // the agent configuration: require_signed_baselines, trusted_keys, containers
  report::ContainerRoots container_roots;  // added to the configuration's
};

int Check(const CheckFlags& f) {
  auto min_severity = agent::ParseMinSeverity(f.min_severity);
  if (!min_severity.ok()) return Fail(min_severity.status().WithContext("--min-severity"));
  const bool json = f.scan.format == "json";
  auto opts = OptionsFrom(f.scan);
  if (!opts.ok()) return Fail(opts.status());
  opts->baseline = f.baseline;
  if (f.group_baseline) {
    if (f.baseline != "default") {
      return Fail(Status::InvalidArgument("--group-baseline and --baseline exclude each other"));
    }
    if (Status g = UseGroupBaseline(&*opts); !g.ok()) {
      return Fail(g.WithContext("--group-baseline"));
    }
  }
  Status recorded =
      agent::ApplyBaselineDefaults(&*opts, !f.scan.root.empty(), !f.scan.rules.empty());
  if (!recorded.ok()) return Fail(recorded);
  opts->verify_packages = f.verify_packages;
  report::ContainerRoots container_roots;
  {
    // The signature gate (docs/integrity.md): before anything is scanned or
    // recorded, so that a refused baseline leaves no check behind.
    const bool required = !f.config.empty();
    auto config = report::LoadDaemonConfig(
        DefaultHost(), required ? f.config : report::kDefaultAgentConfig, required);
    if (!config.ok()) return Fail(config.status());
    Status gate = report::SignatureGate(DefaultHost(), *config, opts->db_path, opts->baseline);
    if (!gate.ok()) return Fail(gate);
    container_roots = MergeContainerRoots(config->containers, f.container_roots);
  }
  Status not_recorded;
  auto result = agent::RunJournaledCheck(*opts, nullptr, &not_recorded);
  if (!result.ok()) return Fail(result.status());
  if (f.group_baseline) {
    if (Status s = LeaveOutForPeers(opts->rules_path, &*result); !s.ok()) return Fail(s);
  }
  if (opts->root == "/" && !f.no_containers && !f.group_baseline) {
    AddContainerDrift(container_roots, opts->db_path, &*result);
    std::stable_sort(result->events.begin(), result->events.end(),
                     [](const DriftEvent& a, const DriftEvent& b) { return a.path < b.path; });
  }
  // The drift found is printed whatever becomes of its record and report;
  // below --min-severity it is printed and kept in the history, and does
  // not count in the exit status nor go in a report. JSON with --report
  // waits for the report, to carry the tree sync's figures.
  const bool print_after_report = json && f.report;
  std::optional<CheckResult> printed;
  if (print_after_report) {
    printed = *result;
  } else {
    PrintCheck(*result, json, f.diff);
  }
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
  web::json::value tree_sync = web::json::value::null();
  if (f.report && ReportCheck(opts->db_path, opts->rules_path, *result, &tree_sync) != kExitOk) {
    rc = kExitError;
  }
  if (print_after_report) {
    web::json::value v = CheckResultToJson(*printed);
    if (!tree_sync.is_null()) v["tree_sync"] = tree_sync;
    std::cout << v.serialize() << std::endl;
  }
  return rc;
}

int Scan(const ScanFlags& f) {
  const bool json = f.format == "json";
  auto opts = OptionsFrom(f);
  if (!opts.ok()) return Fail(opts.status());
  auto policy = rules::LoadPolicyFile(DefaultHost(), opts->rules_path);
  if (!policy.ok()) return Fail(policy.status());
  MemoryTreeStore trees;
  agent::ScanOptions so;
  so.root = opts->root;
  so.jobs = opts->jobs;
  so.full = opts->full;
  // The agent store's stat cache, as a check uses it: files whose stat
  // tuple is unchanged (and not racy) are not read again, and what this
  // scan reads refreshes it. The snapshot itself is not stored. Without a
  // usable store the scan reads every file.
  std::vector<std::string> notes;
  auto store = agent::Store::Open(DefaultHost(), opts->db_path);
  if (store.ok() && (*store)->BeginScanReads().ok()) {
    so.cache = store->get();
  } else {
    notes.push_back(
        "stat cache not used, every file read: " +
        (store.ok() ? std::string("its reads could not start") : store.status().message()));
  }
  if (opts->progress) {
    opts->progress->Start(0);
    so.progress = [p = opts->progress](const agent::ScanProgress& sp) { p->Update(sp); };
  }
  auto scan = agent::ScanTree(DefaultHost(), *policy, so, trees);
  if (opts->progress) opts->progress->Done();
  if (so.cache != nullptr) {
    (*store)->EndScanReads();
    if (Status s = (*store)->Flush(); !s.ok()) notes.push_back("stat cache: " + s.message());
  }
  if (!scan.ok()) return Fail(scan.status());
  scan->warnings.insert(scan->warnings.end(), notes.begin(), notes.end());
  if (json) {
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

struct HistoryFlags {
  std::string db;
  std::string format = "text";
  std::vector<std::string> paths;
  std::string since;
  size_t limit = 100000;
  bool diff = false;
};

int History(const HistoryFlags& f) {
  const bool json = f.format == "json";
  int64_t since = 0;
  if (!f.since.empty()) {
    auto t = ParseSince(f.since, DefaultHost().NowNs());
    if (!t.ok()) return Fail(t.status().WithContext("--since"));
    since = *t;
  }
  std::vector<rules::Glob> globs;
  for (const std::string& g : f.paths) {
    auto glob = rules::Glob::Compile(g);
    if (!glob.ok()) return Fail(glob.status().WithContext("--path"));
    globs.push_back(std::move(*glob));
  }
  auto store = agent::Store::Open(DefaultHost(), f.db.empty() ? agent::DefaultDbPath() : f.db);
  if (!store.ok()) return Fail(store.status());
  // The paths are matched before the limit counts: --limit N gives N events
  // of those paths.
  agent::HistoryFilter matches;
  if (!globs.empty()) {
    matches = [&globs](const DriftEvent& e) {
      for (const rules::Glob& g : globs) {
        if (g.Matches(e.path)) return true;
      }
      return false;
    };
  }
  auto rows = (*store)->History(since, f.limit, matches);
  if (!rows.ok()) return Fail(rows.status());
  web::json::value arr = web::json::value::array();
  size_t i = 0;
  // Restores (agent/restore.h) among the events, by time; with --path
  // those that touched a matching path.
  auto restores = (*store)->Restores(since, f.limit);
  if (!restores.ok()) return Fail(restores.status());
  size_t next_restore = 0;
  auto restores_until = [&](int64_t t) {
    for (; next_restore < restores->size() && (*restores)[next_restore].created_ns <= t;
         ++next_restore) {
      const agent::RestoreRow& r = (*restores)[next_restore];
      const bool shown = globs.empty() || std::any_of(r.actions.begin(), r.actions.end(),
                                                      [&](const agent::RestoreAction& a) {
                                                        DriftEvent e;
                                                        e.path = a.path;
                                                        return matches(e);
                                                      });
      if (!shown) continue;
      if (json) {
        arr[i++] = RestoreEntryToJson(r);
      } else {
        std::cout << FormatRestoreEntry(r);
      }
    }
  };
  for (const agent::HistoryRow& h : *rows) {
    restores_until(h.finished_ns);
    if (json) {
      web::json::value v = DriftEventToJson(h.event);
      v["check"] = web::json::value::number(h.check_id);
      v["time"] = web::json::value::string(FormatRfc3339Nanos(h.finished_ns));
      v["baseline"] = web::json::value::string(h.baseline);
      arr[i++] = v;
    } else {
      std::cout << FormatTime(h.finished_ns) << "  " << FormatEvent(h.event) << "\n";
      if (f.diff) std::cout << FormatContentDiff(h.event);
    }
  }
  restores_until(INT64_MAX);
  if (json) std::cout << arr.serialize() << "\n";
  return kExitOk;
}

}  // namespace

void AddRulesCommand(CLI::App& root) {
  CLI::App* rules = cmdline::AddGroup(root, "rules", "rule files: rules check FILE...");
  auto files = std::make_shared<std::vector<std::string>>();
  CLI::App* check = cmdline::AddCommand(*rules, "check", "validate rule files",
                                        [files] { return RulesCheck(*files); });
  check->add_option("FILE", *files, "a rule file")->required();
}

void AddBaselineCommand(CLI::App& root) {
  CLI::App* baseline =
      cmdline::AddGroup(root, "baseline", "baselines: create, list, show, accept drift, sign");

  auto c = std::make_shared<CreateFlags>();
  CLI::App* create = cmdline::AddCommand(
      *baseline, "create", "scan now and keep the result as a new revision of baseline NAME",
      [c] { return BaselineCreate(*c); });
  create->add_option("NAME", c->name, "the baseline's name (default: default)");
  create->add_option("--name", c->name_flag, "the baseline's name, as NAME")->type_name("NAME");
  create->add_option("--reason", c->reason, "kept in the baseline's history")->type_name("TEXT");
  AddScanFlags(create, &c->scan);

  auto l = std::make_shared<ListFlags>();
  CLI::App* list = cmdline::AddCommand(*baseline, "list", "the newest revision of each baseline",
                                       [l] { return BaselineListOrShow(*l, false); });
  AddDbFlag(list, &l->db);
  AddFormatFlag(list, &l->format);

  auto s = std::make_shared<ListFlags>();
  CLI::App* show = cmdline::AddCommand(*baseline, "show", "every revision of baseline NAME",
                                       [s] { return BaselineListOrShow(*s, true); });
  show->add_option("NAME", s->name, "the baseline's name")->required();
  AddDbFlag(show, &s->db);
  AddFormatFlag(show, &s->format);

  auto a = std::make_shared<AcceptFlags>();
  CLI::App* accept = cmdline::AddCommand(
      *baseline, "accept", "make the drift found (or only that under --path) part of baseline NAME",
      [a] { return BaselineAccept(*a); });
  accept->add_option("NAME", a->name, "the baseline's name")->required();
  accept->add_option("--path", a->paths, "accept only the drift at paths matching GLOB")
      ->type_name("GLOB");
  accept->add_option("--reason", a->reason, "why; kept in the baseline's history")
      ->type_name("TEXT")
      ->required()
      ->check(cmdline::NonEmpty());
  AddScanFlags(accept, &a->scan);

  AddBaselineSigningCommands(*baseline);
}

void AddCheckCommand(CLI::App& root) {
  auto f = std::make_shared<CheckFlags>();
  CLI::App* cmd = cmdline::AddCommand(root, "check", "compare this host with its baseline",
                                      [f] { return Check(*f); });
  cmd->add_option("--baseline", f->baseline, "the baseline to compare with (default: default)")
      ->type_name("NAME");
  cmd->add_option("--min-severity", f->min_severity,
                  "events below it are printed and kept in the history but leave the exit "
                  "status 0 (default info: every event counts)")
      ->type_name(cmdline::Choices({"info", "low", "medium", "high", "critical"}))
      ->check(cmdline::OneOf({"info", "low", "medium", "high", "critical"}));
  cmd->add_flag("--group-baseline", f->group_baseline,
                "compare with the baseline of this host's group at the collector (baseline "
                "group:GROUP), leaving out host-specific paths (peer: ignore)");
  cmd->add_flag("--report", f->report, "queue the result for the collector and deliver it");
  cmd->add_flag("--verify-packages", f->verify_packages,
                "also verify package-owned files against the package managers' checksums");
  cmd->add_flag("--no-containers", f->no_containers, "leave out the running containers");
  AddContainerRootFlags(cmd, &f->container_roots);
  cmd->add_option("--config", f->config,
                  std::string("the agent configuration, for require_signed_baselines, "
                              "trusted_keys and the containers' runtime roots (default ") +
                      report::kDefaultAgentConfig + " when present)")
      ->type_name("FILE");
  cmd->add_flag("--diff", f->diff,
                "print each event's content diff (diff -u) under its line, for files whose "
                "content is kept");
  AddScanFlags(cmd, &f->scan);
}

void AddScanCommand(CLI::App& root) {
  auto f = std::make_shared<ScanFlags>();
  CLI::App* cmd = cmdline::AddCommand(root, "scan", "snapshot now and print a summary",
                                      [f] { return Scan(*f); });
  AddScanFlags(cmd, f.get());
}

void AddHistoryCommand(CLI::App& root) {
  auto f = std::make_shared<HistoryFlags>();
  CLI::App* cmd = cmdline::AddCommand(
      root, "history", "drift found by earlier checks, and restores", [f] { return History(*f); });
  AddDbFlag(cmd, &f->db);
  AddFormatFlag(cmd, &f->format);
  cmd->add_option("--path", f->paths, "only events at paths matching GLOB (repeatable)")
      ->type_name("GLOB");
  cmd->add_option("--since", f->since, "only checks since then: 24h, 7d or an RFC 3339 time")
      ->type_name("WHEN")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            if (ParseSince(text, DefaultHost().NowNs()).ok()) return "";
            return "expected a duration like 24h or 7d or an RFC 3339 time, not '" + text + "'";
          },
          "", "since"));
  cmd->add_flag("--diff", f->diff, "print each event's content diff (diff -u) under its line");
  cmd->add_option("--limit", f->limit, "at most N events, oldest first")
      ->type_name("N")
      ->check(cmdline::PositiveInteger());
}

}  // namespace driftwatch::cli
