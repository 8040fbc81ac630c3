// Baseline and check: the agent's main operations, used by the CLI and the
// daemon alike.
//
// RunCheck scans the tree described by the rules (under options.root), diffs
// the scan against the latest revision of the named baseline in the agent
// store, records the drift events in the store's history, and returns them.
// CreateBaseline scans with every file re-read and stores the snapshot as a
// new baseline (revision 1, or the next revision when the name exists).
//
// Errors: a missing baseline is kNotFound; unreadable rules are
// kInvalidArgument with FILE:LINE:COL; store failures are passed through.
// Files that vanish or cannot be read during a scan are warnings in the
// result, never errors.
//
// Thread-safety: each call opens its own store handle; calls for the same
// database from different threads are serialized by SQLite's locking.
#ifndef DRIFTWATCH_AGENT_CHECK_H_
#define DRIFTWATCH_AGENT_CHECK_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/scanner.h"
#include "core/diff.h"
#include "core/drift.h"
#include "core/host.h"
#include "core/status.h"

namespace driftwatch::rules {
class Policy;
}  // namespace driftwatch::rules

namespace driftwatch::agent {

// What changed since a check, from the realtime journal (docs/realtime.md):
// logical paths (under the rules' "/", not options.root) whose entries may
// differ from the snapshot of that check. Directories in `trees` were
// created or moved in: everything under them is re-read.
struct DirtySet {
  int64_t base_snapshot_id = 0;    // the snapshot of the check the journal starts at
  std::vector<std::string> paths;  // sorted, unique
  std::vector<std::string> trees;  // sorted, unique; each also in `paths`
};

struct CheckOptions {
  // The scanned tree, the rule file, the package databases, the clock and the
  // hostname are read through it. Required: calls fail with kInvalidArgument
  // without one. Borrowed; must outlive the call.
  Host* host = nullptr;
  std::string db_path;     // agent store; see DefaultDbPath()
  std::string rules_path;  // rule file; see DefaultRulesPath()
  std::string root = "/";  // rule paths are relative to this directory
  std::string baseline = "default";
  int jobs = 0;                                // worker threads; 0 = number of CPUs
  bool full = false;                           // re-read every file, ignoring the stat cache
  std::shared_ptr<ScanProgressSink> progress;  // optional: told how each scan goes
  bool verify_packages = false;                // also verify package-owned files (check only)
  // The package verification cache for verify_packages (see
  // packages/verify_cache_file.h): "" is the default (for root "/",
  // packages-verify.cache beside the agent store, shared with `packages
  // verify`; other roots none), "-" none.
  std::string package_cache;
  // Check only: re-examine just these paths and their parents, and take
  // every other entry from the base snapshot. RunCheck walks everything
  // instead (saying why in CheckResult::walk) when the base snapshot is not
  // the latest of this baseline and target, or was made with other rules.
  std::optional<DirtySet> dirty;
};

struct BaselineInfo {
  std::string name;
  int64_t revision = 0;
  int64_t snapshot_id = 0;
  int64_t created_ns = 0;
  std::string author;
  std::string reason;
  Hash128 root;
  ScanStats stats;
  std::vector<std::string> warnings;
};

// $DRIFTWATCH_DB, else /var/lib/driftwatch/agent.db.
std::string DefaultDbPath();
// $DRIFTWATCH_RULES, else /etc/driftwatch/rules.yaml when it exists, else the
// rules/default/host.yaml installed with driftwatch.
std::string DefaultRulesPath();

// The result carries the package inventory with `full` false: the list is
// kept, and the outbox decides whether it goes on the wire (docs/wire.md).
//
// Recording the check (its snapshot, events and the stat cache) can fail,
// e.g. on a full disk. With not_recorded null that failure is the error.
// Otherwise the check goes on from the trees the store kept in memory
// (Store::KeepScanOnWriteFailure), the drift is returned all the same, and
// *not_recorded is set to the failure (left as is when all was recorded).
Result<CheckResult> RunCheck(const CheckOptions& options, Status* not_recorded = nullptr);
Result<BaselineInfo> CreateBaseline(const CheckOptions& options, const std::string& author,
                                    const std::string& reason);

// Accepts drift into a new revision of the baseline: with no globs the
// current state becomes the baseline; with globs only the changes at paths
// matching one of them (an accepted directory brings what is under it).
// kNotFound when no drift matches.
Result<BaselineInfo> AcceptDrift(const CheckOptions& options, const std::vector<std::string>& globs,
                                 const std::string& author, const std::string& reason);

// Fills options->root and options->rules_path with those recorded with the
// latest revision of options->baseline, each unless the caller gave it
// (root_given, rules_given): `check` and `baseline accept` then need no
// --root and --rules. Nothing changes when there is no store or no such
// baseline yet, or the baseline predates recorded rule files (store v1).
// A recorded rule file that is gone is kNotFound, saying which file and
// that --rules picks another.
Status ApplyBaselineDefaults(CheckOptions* options, bool root_given, bool rules_given);

// Whether the store at options.db_path holds a baseline named
// options.baseline (the store is created when missing).
Result<bool> BaselineExists(const CheckOptions& options);

// A minimum severity for what counts: "info" (nullopt: every event, the
// default), "low", "medium", "high" or "critical". Events below it are
// still printed by `check` and kept in the agent's history (RunCheck
// recorded them), but do not make `check` exit 1 and are not reported to
// the collector.
Result<std::optional<Severity>> ParseMinSeverity(std::string_view name);
std::string_view MinSeverityName(std::optional<Severity> min);
// Removes the events below `min` from result->events (nullopt: none);
// returns how many were removed.
size_t DropBelowSeverity(std::optional<Severity> min, CheckResult* result);
// The events at or above `min` (all of them with nullopt): those that make
// a check exit 1.
size_t CountAtOrAbove(std::optional<Severity> min, const std::vector<DriftEvent>& events);

// Turns a tree change into a drift event, or nothing when the rules allow it:
// no rule or an ignore rule, or a growing file that was only appended to (its
// old bytes, read through `host` at `root` + path, are intact).
std::optional<DriftEvent> ClassifyChange(const Change& c, const rules::Policy& policy, Host& host,
                                         const std::string& root);

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_CHECK_H_
