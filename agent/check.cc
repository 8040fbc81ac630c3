#include "agent/check.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "agent/accept.h"
#include "agent/content_diff.h"
#include "agent/incremental.h"
#include "agent/scanner.h"
#include "agent/store.h"
#include "core/diff.h"
#include "core/host.h"
#include "packages/installed.h"
#include "packages/package.h"
#include "packages/verify.h"
#include "packages/verify_cache_file.h"
#include "rules/policy.h"

namespace driftwatch::agent {
namespace {

constexpr int kKeepCheckSnapshots = 3;

struct Session {
  Host& host;
  std::unique_ptr<Store> store;
  rules::Policy policy;
};

Result<Session> OpenSession(const CheckOptions& options) {
  if (options.host == nullptr) return Status::InvalidArgument("check: no host given");
  Host& host = *options.host;
  const std::string rules_path =
      options.rules_path.empty() ? DefaultRulesPath() : options.rules_path;
  DW_ASSIGN_OR_RETURN(rules::Policy policy, rules::LoadPolicyFile(host, rules_path));
  DW_ASSIGN_OR_RETURN(
      std::unique_ptr<Store> store,
      Store::Open(host, options.db_path.empty() ? DefaultDbPath() : options.db_path));
  return Session{host, std::move(store), std::move(policy)};
}

// `expected`: entries of a previous scan of the same tree, for the progress
// line's estimate (0 when unknown).
Result<ScanResult> ScanInto(const CheckOptions& options, Session& s, bool full,
                            uint64_t expected = 0, const ScanReuse* reuse = nullptr) {
  ScanOptions so;
  so.root = options.root;
  so.jobs = options.jobs;
  so.full = full;
  so.cache = s.store.get();
  so.reuse = reuse;
  so.content = s.store.get();  // kept content: baselines, checks and accept alike
  ScanProgressSink* progress = options.progress.get();
  if (progress != nullptr) {
    progress->Start(expected);
    so.progress = [progress](const ScanProgress& p) { progress->Update(p); };
  }
  DW_RETURN_IF_ERROR(s.store->BeginScanReads());
  auto result = ScanTree(s.host, s.policy, so, *s.store);
  s.store->EndScanReads();
  if (progress) progress->Done();
  if (!result.ok()) return result.status();
  DW_RETURN_IF_ERROR(s.store->Flush());
  return result;
}

// Installed packages under the root; an unreadable package database is a
// warning, so that file drift is still found.
std::vector<packages::Package> ReadPackages(Session& s, const CheckOptions& options,
                                            std::vector<std::string>* warnings) {
  auto pkgs = packages::ReadInstalledPackages(s.host, options.root);
  if (!pkgs.ok()) {
    warnings->push_back("packages: " + pkgs.status().message());
    return {};
  }
  return std::move(*pkgs);
}

Result<int64_t> SaveSnapshot(Session& s, const CheckOptions& options, const ScanResult& scan,
                             const std::string& kind, const Hash128& root,
                             const std::vector<packages::Package>& pkgs) {
  SnapshotRow row;
  row.kind = kind;
  row.target = s.host.Hostname();
  row.root_path = options.root;
  row.rules_hash = s.policy.Fingerprint().Hex();
  row.content_hash = s.policy.ContentFingerprint().Hex();
  row.rules_path = options.rules_path.empty() ? DefaultRulesPath() : options.rules_path;
  row.root = root;
  row.created_ns = scan.started_ns;
  row.stats = scan.stats;
  row.warnings = scan.warnings;
  row.subtrees = scan.subtrees;
  row.packages = packages::SerializePackages(pkgs);
  return s.store->AddSnapshot(row);
}

// Stores `root` as the next revision of options.baseline.
Result<BaselineInfo> AddRevision(Session& s, const CheckOptions& options, const ScanResult& scan,
                                 const Hash128& root, const std::vector<packages::Package>& pkgs,
                                 int64_t created_ns, const std::string& author,
                                 const std::string& reason,
                                 const std::vector<std::string>* accepted = nullptr) {
  DW_ASSIGN_OR_RETURN(int64_t snapshot_id, SaveSnapshot(s, options, scan, "baseline", root, pkgs));
  DW_ASSIGN_OR_RETURN(BaselineRow row, s.store->AddBaseline(options.baseline, snapshot_id,
                                                            created_ns, author, reason, accepted));
  DW_RETURN_IF_ERROR(s.store->Prune(kKeepCheckSnapshots));
  BaselineInfo info;
  info.name = row.name;
  info.revision = row.revision;
  info.snapshot_id = snapshot_id;
  info.created_ns = row.created_ns;
  info.author = author;
  info.reason = reason;
  info.root = root;
  info.stats = scan.stats;
  info.warnings = scan.warnings;
  return info;
}

struct BaselineState {
  BaselineRow row;
  SnapshotRow snapshot;
};

Result<BaselineState> LoadBaseline(Session& s, const CheckOptions& options) {
  DW_ASSIGN_OR_RETURN(std::optional<BaselineRow> row, s.store->LatestBaseline(options.baseline));
  if (!row) {
    return Status::NotFound("no baseline named '" + options.baseline + "' in " + s.store->path() +
                            " (create one with: driftwatch baseline create)");
  }
  DW_ASSIGN_OR_RETURN(SnapshotRow snap, s.store->GetSnapshot(row->snapshot_id));
  if (snap.root_path != options.root) {
    return Status::InvalidArgument("baseline '" + options.baseline + "' was taken of root " +
                                   snap.root_path + ", not " + options.root);
  }
  return BaselineState{*row, std::move(snap)};
}

// Package events: packages installed, removed or changed since the baseline,
// package-owned files that differ from their package's checksums (when
// asked), and upgrade attribution of file events.
Status AddPackageDrift(Session& s, const CheckOptions& options, const SnapshotRow& baseline,
                       const std::vector<packages::Package>& now, CheckResult* result) {
  const rules::Policy& policy = s.policy;
  std::vector<packages::Package> before;
  if (!baseline.packages.empty()) {
    auto parsed = packages::ParsePackages(baseline.packages);
    if (!parsed.ok()) return parsed.status().WithContext("baseline package list");
    before = std::move(*parsed);
  }
  std::vector<DriftEvent> pkg_events = packages::DiffPackages(before, now);
  const bool upgraded = std::any_of(pkg_events.begin(), pkg_events.end(), [](const DriftEvent& e) {
    return e.kind == DriftKind::kPackageChanged;
  });
  if (upgraded && !result->events.empty()) {
    auto owners = packages::PathOwners::Load(s.host, options.root);
    if (owners.ok()) {
      packages::AttributeUpgrades(&result->events, before, now, owners->AsFunction(),
                                  policy.package_upgrades());
    } else {
      result->warnings.push_back("package ownership: " + owners.status().message());
    }
  }
  for (DriftEvent& e : pkg_events) result->events.push_back(std::move(e));
  if (options.verify_packages) {
    // Re-verifying an unchanged host reads no package file: digests come
    // from the verification cache wherever a file's stat tuple is unchanged.
    std::string cache = options.package_cache;
    if (cache.empty()) {
      cache = packages::DefaultVerifyCachePath(
          options.root, options.db_path.empty() ? DefaultDbPath() : options.db_path);
    } else if (cache == "-") {
      cache.clear();
    }
    packages::VerifyOptions verify;
    verify.jobs = options.jobs;
    auto findings =
        packages::VerifyPackageFiles(s.host, options.root, verify, cache, &result->warnings);
    if (!findings.ok()) return findings.status().WithContext("package verification");
    for (DriftEvent& e : *findings) result->events.push_back(std::move(e));
  }
  return Status::Ok();
}

std::string SnapshotName(int64_t id) { return "snapshot " + std::to_string(id); }

// The reuse of options.dirty's base snapshot, or why the check walks
// everything: the base must be the latest check of this baseline, of this
// target and root, with the same rule file and rules (their fingerprint),
// and its trees must still be in the store.
Result<ScanReuse> JournalBase(const CheckOptions& options, Session& s, std::string* why_not) {
  const DirtySet& dirty = *options.dirty;
  ScanReuse reuse;
  if (options.full) {
    *why_not = "every file is re-read (--full)";
    return reuse;
  }
  for (const auto* list : {&dirty.paths, &dirty.trees}) {
    for (const std::string& p : *list) {
      if (!IsCleanLogicalPath(p)) {
        *why_not = "the journal holds '" + EscapePath(p) + "', not a clean logical path";
        return reuse;
      }
    }
  }
  DW_ASSIGN_OR_RETURN(std::optional<CheckRow> latest, s.store->LatestCheck(options.baseline));
  if (!latest) {
    *why_not = "no check of baseline '" + options.baseline + "' is recorded yet";
    return reuse;
  }
  if (latest->snapshot_id != dirty.base_snapshot_id) {
    *why_not = "the journal starts at " + SnapshotName(dirty.base_snapshot_id) +
               " but the latest check is " + SnapshotName(latest->snapshot_id);
    return reuse;
  }
  auto snap = s.store->GetSnapshot(latest->snapshot_id);
  if (!snap.ok()) {
    *why_not = "the journal's " + SnapshotName(latest->snapshot_id) +
               " cannot be read: " + snap.status().message();
    return reuse;
  }
  const std::string rules_path =
      options.rules_path.empty() ? DefaultRulesPath() : options.rules_path;
  const std::string what = "the journal's " + SnapshotName(snap->id);
  if (snap->kind != "check") {
    *why_not = what + " is a " + snap->kind + ", not a check";
  } else if (snap->target != s.host.Hostname()) {
    *why_not = what + " is of " + snap->target + ", not " + s.host.Hostname();
  } else if (snap->root_path != options.root) {
    *why_not = what + " was taken of root " + snap->root_path + ", not " + options.root;
  } else if (snap->rules_path != rules_path) {
    *why_not = what + " was taken with rules " +
               (snap->rules_path.empty() ? std::string("not recorded") : snap->rules_path) +
               ", not " + rules_path;
  } else if (snap->rules_hash != s.policy.Fingerprint().Hex()) {
    *why_not = "the rules changed since the journal's " + SnapshotName(snap->id);
  } else if (snap->content_hash != s.policy.ContentFingerprint().Hex()) {
    // Clean directories would be taken over without the content now kept.
    *why_not = "the content rules changed since the journal's " + SnapshotName(snap->id);
  } else if (auto tree = s.store->Get(snap->root); !tree.ok()) {
    *why_not = what + "'s trees are not in the store: " + tree.status().message();
  }
  if (!why_not->empty()) return reuse;
  reuse.source = s.store.get();
  reuse.root = snap->root;
  reuse.stats = snap->stats;
  reuse.subtrees = snap->subtrees;
  reuse.warnings = snap->warnings;
  reuse.dirty = dirty.paths;
  reuse.dirty.insert(reuse.dirty.end(), dirty.trees.begin(), dirty.trees.end());
  std::sort(reuse.dirty.begin(), reuse.dirty.end());
  reuse.dirty.erase(std::unique(reuse.dirty.begin(), reuse.dirty.end()), reuse.dirty.end());
  reuse.trees = dirty.trees;
  std::sort(reuse.trees.begin(), reuse.trees.end());
  reuse.trees.erase(std::unique(reuse.trees.begin(), reuse.trees.end()), reuse.trees.end());
  return reuse;
}

// The check's scan: journal-driven when options.dirty allows it (walk says
// how it went), else in full.
Result<ScanResult> CheckScan(const CheckOptions& options, Session& s, uint64_t expected,
                             WalkInfo* walk) {
  if (options.dirty) {
    std::string why_not;
    DW_ASSIGN_OR_RETURN(ScanReuse reuse, JournalBase(options, s, &why_not));
    if (why_not.empty()) {
      auto scan = ScanInto(options, s, options.full, expected, &reuse);
      if (scan.ok()) {
        walk->journal = true;
        walk->dirty_paths = static_cast<int64_t>(reuse.dirty.size());
        return scan;
      }
      why_not = "the journal-driven scan failed: " + scan.status().message();
    }
    walk->full_reason = why_not;
  }
  return ScanInto(options, s, options.full, expected);
}

PackageInventory PackageInventoryOf(const std::vector<packages::Package>& pkgs) {
  PackageInventory inv;
  inv.list.reserve(pkgs.size());
  for (const packages::Package& p : pkgs) {
    inv.list.push_back({p.manager, p.name, p.version, p.architecture});
  }
  inv.digest = HashBytes(PackageInventoryText(inv.list));
  inv.count = static_cast<int64_t>(inv.list.size());
  return inv;
}

}  // namespace

std::string DefaultDbPath() {
  if (const char* env = std::getenv("DRIFTWATCH_DB"); env != nullptr && *env != '\0') return env;
  return "/var/lib/driftwatch/agent.db";
}

std::string DefaultRulesPath() {
  if (const char* env = std::getenv("DRIFTWATCH_RULES"); env != nullptr && *env != '\0') return env;
  for (const char* candidate : {"/etc/driftwatch/rules.yaml", DRIFTWATCH_DATADIR "/rules/host.yaml",
                                DRIFTWATCH_SOURCE_DIR "/rules/default/host.yaml"}) {
    if (::access(candidate, R_OK) == 0) return candidate;
  }
  return "/etc/driftwatch/rules.yaml";
}

Result<BaselineInfo> CreateBaseline(const CheckOptions& options, const std::string& author,
                                    const std::string& reason) {
  DW_ASSIGN_OR_RETURN(Session s, OpenSession(options));
  DW_ASSIGN_OR_RETURN(ScanResult scan, ScanInto(options, s, /*full=*/true));
  std::vector<packages::Package> pkgs = ReadPackages(s, options, &scan.warnings);
  return AddRevision(s, options, scan, scan.root, pkgs, scan.started_ns, author, reason);
}

Result<CheckResult> RunCheck(const CheckOptions& options, Status* not_recorded) {
  DW_ASSIGN_OR_RETURN(Session s, OpenSession(options));
  if (not_recorded != nullptr) s.store->KeepScanOnWriteFailure();
  DW_ASSIGN_OR_RETURN(BaselineState base, LoadBaseline(s, options));
  const ScanStats& last = base.snapshot.stats;
  WalkInfo walk;
  DW_ASSIGN_OR_RETURN(ScanResult scan,
                      CheckScan(options, s, last.files + last.dirs + last.others, &walk));
  std::vector<packages::Package> pkgs = ReadPackages(s, options, &scan.warnings);
  // Recording failures end the check unless the caller takes the result
  // without its record (not_recorded): then the drift is still computed,
  // from the trees the store kept in memory.
  Status record = Status::Ok();
  auto recorded = [&](const Status& st) {
    if (st.ok()) return true;
    if (record.ok()) record = st;
    return false;
  };
  Result<int64_t> snapshot_id = SaveSnapshot(s, options, scan, "check", scan.root, pkgs);
  if (!snapshot_id.ok() && not_recorded == nullptr) return snapshot_id.status();
  recorded(snapshot_id.status());

  CheckResult result;
  result.target = s.host.Hostname();
  result.baseline = base.row.name;
  result.baseline_revision = base.row.revision;
  result.baseline_root = base.snapshot.root;
  result.root = scan.root;
  result.started_ns = scan.started_ns;
  result.subtrees = scan.subtrees;
  result.warnings = scan.warnings;
  result.stats = scan.stats;
  result.walk = walk;
  // An unreadable package database sends no inventory rather than an empty one.
  const bool pkgs_read =
      std::none_of(scan.warnings.begin(), scan.warnings.end(),
                   [](const std::string& w) { return w.rfind("packages: ", 0) == 0; });
  if (pkgs_read) result.packages = PackageInventoryOf(pkgs);
  if (base.snapshot.rules_hash != s.policy.Fingerprint().Hex()) {
    result.warnings.insert(result.warnings.begin(),
                           "the rules changed since baseline '" + base.row.name +
                               "' was taken; drift may reflect the rule change "
                               "(take a new baseline to start over)");
  }
  DW_RETURN_IF_ERROR(
      DiffTrees(*s.store, base.snapshot.root, *s.store, scan.root, [&](Change c) -> Status {
        if (auto ev = ClassifyChange(c, s.policy, s.host, options.root)) {
          result.events.push_back(std::move(*ev));
        }
        return Status::Ok();
      }));
  // Diffs from the kept copies: the baseline's blobs against the check's.
  for (std::string& w : AddContentDiffs(*s.store, s.policy, &result.events)) {
    result.warnings.push_back(std::move(w));
  }
  DW_RETURN_IF_ERROR(AddPackageDrift(s, options, base.snapshot, pkgs, &result));
  std::sort(result.events.begin(), result.events.end(),
            [](const DriftEvent& a, const DriftEvent& b) {
              return a.path != b.path ? a.path < b.path : a.kind < b.kind;
            });
  result.finished_ns = s.host.NowNs();
  if (snapshot_id.ok()) {
    CheckRow row{
        0, *snapshot_id, base.row.name, base.row.revision, result.started_ns, result.finished_ns};
    if (recorded(s.store->RecordCheck(row, result.events).status())) {
      recorded(s.store->Prune(kKeepCheckSnapshots));
    }
  }
  if (!record.ok()) {
    if (not_recorded == nullptr) return record;
    *not_recorded = record;
  }
  return result;
}

Result<BaselineInfo> AcceptDrift(const CheckOptions& options, const std::vector<std::string>& globs,
                                 const std::string& author, const std::string& reason) {
  DW_ASSIGN_OR_RETURN(Session s, OpenSession(options));
  DW_ASSIGN_OR_RETURN(BaselineState base, LoadBaseline(s, options));
  DW_ASSIGN_OR_RETURN(ScanResult scan, ScanInto(options, s, options.full));
  std::vector<rules::Glob> matchers;
  for (const std::string& g : globs) {
    auto glob = rules::Glob::Compile(g);
    if (!glob.ok()) return glob.status().WithContext("--path " + g);
    matchers.push_back(std::move(*glob));
  }
  Hash128 new_root = scan.root;
  std::vector<std::string> accepted;  // for the chain record; empty: everything
  if (!matchers.empty()) {
    std::map<std::string, Edit> edits;
    DW_RETURN_IF_ERROR(
        DiffTrees(*s.store, base.snapshot.root, *s.store, scan.root, [&](Change c) -> Status {
          for (const rules::Glob& g : matchers) {
            if (g.Matches(c.path)) {
              edits.emplace(c.path, EditFor(c));
              break;
            }
          }
          return Status::Ok();
        }));
    if (edits.empty()) {
      return Status::NotFound("no drift under the given --path globs; nothing to accept");
    }
    for (const auto& [path, edit] : edits) accepted.push_back(path);
    DW_ASSIGN_OR_RETURN(new_root, ApplyEdits(*s.store, *s.store, base.snapshot.root, edits));
    DW_RETURN_IF_ERROR(s.store->Flush());
  }
  // Package state is accepted as a whole: it is what is installed now.
  std::vector<packages::Package> pkgs = ReadPackages(s, options, &scan.warnings);
  return AddRevision(s, options, scan, new_root, pkgs, s.host.NowNs(), author, reason, &accepted);
}

Result<bool> BaselineExists(const CheckOptions& options) {
  if (options.host == nullptr) return Status::InvalidArgument("check: no host given");
  DW_ASSIGN_OR_RETURN(
      std::unique_ptr<Store> store,
      Store::Open(*options.host, options.db_path.empty() ? DefaultDbPath() : options.db_path));
  DW_ASSIGN_OR_RETURN(std::optional<BaselineRow> row, store->LatestBaseline(options.baseline));
  return row.has_value();
}

Result<std::optional<Severity>> ParseMinSeverity(std::string_view name) {
  if (name == "info") return std::optional<Severity>();
  auto s = ParseSeverity(name);
  if (!s.ok()) {
    return Status::InvalidArgument("unknown severity '" + std::string(name) +
                                   "' (expected info, low, medium, high or critical)");
  }
  return std::optional<Severity>(*s);
}

std::string_view MinSeverityName(std::optional<Severity> min) {
  return min ? SeverityName(*min) : "info";
}

size_t DropBelowSeverity(std::optional<Severity> min, CheckResult* result) {
  if (!min) return 0;
  const size_t before = result->events.size();
  std::erase_if(result->events, [&](const DriftEvent& e) { return e.severity < *min; });
  return before - result->events.size();
}

size_t CountAtOrAbove(std::optional<Severity> min, const std::vector<DriftEvent>& events) {
  if (!min) return events.size();
  return static_cast<size_t>(std::count_if(
      events.begin(), events.end(), [&](const DriftEvent& e) { return e.severity >= *min; }));
}

std::optional<DriftEvent> ClassifyChange(const Change& c, const rules::Policy& policy, Host& host,
                                         const std::string& root) {
  const rules::Rule* rule = policy.Match(c.path);
  if (rule == nullptr || rule->ignore) return std::nullopt;
  DriftEvent ev;
  ev.path = c.path;
  ev.old_entry = c.old_entry;
  ev.new_entry = c.new_entry;
  ev.severity = rule->severity;
  ev.rule = rule->Describe();
  if (!c.old_entry) {
    ev.kind = DriftKind::kAdded;
  } else if (!c.new_entry) {
    ev.kind = DriftKind::kRemoved;
  } else {
    ev.kind = DriftKind::kModified;
    ev.changed = c.changed;
    const Entry& o = *c.old_entry;
    const Entry& n = *c.new_entry;
    constexpr uint32_t kGrowth = kAttrSize | kAttrHash | kAttrMtime | kAttrCtime;
    if ((rule->mask & kAttrGrowing) && o.type == EntryType::kFile && n.type == EntryType::kFile &&
        (c.changed & ~kGrowth) == 0 && n.size >= o.size) {
      // A growing file may only be appended to: the old bytes must be intact.
      if (o.content.empty()) return std::nullopt;
      auto prefix = HashFilePrefix(host, HostPath(root, c.path), o.size, o.content.algo);
      if (prefix.ok() && *prefix == o.content) return std::nullopt;
    }
  }
  return ev;
}

}  // namespace driftwatch::agent
