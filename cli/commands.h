// The driftwatch subcommands. Each command file declares its command, its
// options and its action in one Add*Command (core/command_line.h);
// kCommands lists them in the order `driftwatch --help` shows.
#ifndef DRIFTWATCH_CLI_COMMANDS_H_
#define DRIFTWATCH_CLI_COMMANDS_H_

#include <cpprest/json.h>
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "agent/check.h"
#include "core/drift.h"
#include "report/agent_config.h"

namespace driftwatch::cli {

void AddRulesCommand(CLI::App& root);       // agent_cmd.cc
void AddBaselineCommand(CLI::App& root);    // agent_cmd.cc
void AddCheckCommand(CLI::App& root);       // agent_cmd.cc
void AddScanCommand(CLI::App& root);        // agent_cmd.cc
void AddHistoryCommand(CLI::App& root);     // agent_cmd.cc
void AddDiffCommand(CLI::App& root);        // diff_cmd.cc
void AddPackagesCommand(CLI::App& root);    // packages_cmd.cc
void AddEnrollCommand(CLI::App& root);      // enroll_cmd.cc
void AddDaemonCommand(CLI::App& root);      // daemon_cmd.cc
void AddContainerCommand(CLI::App& root);   // container_cmd.cc
void AddContainersCommand(CLI::App& root);  // containers_cmd.cc
void AddStatusCommand(CLI::App& root);      // status_cmd.cc
void AddDbCommand(CLI::App& root);          // db_cmd.cc
void AddWatchCommand(CLI::App& root);       // watch_cmd.cc
void AddRestoreCommand(CLI::App& root);     // restore_cmd.cc
void AddStoreCommand(CLI::App& root);       // store_cmd.cc
// baseline statement | sign | attach | signatures, under the baseline group.
void AddBaselineSigningCommands(CLI::App& baseline);  // baseline_sign_cmd.cc

inline constexpr void (*kCommands[])(CLI::App&) = {
    AddRulesCommand,   AddBaselineCommand,  AddCheckCommand,      AddScanCommand,
    AddHistoryCommand, AddDiffCommand,      AddPackagesCommand,   AddEnrollCommand,
    AddDaemonCommand,  AddContainerCommand, AddContainersCommand, AddStatusCommand,
    AddDbCommand,      AddWatchCommand,     AddRestoreCommand,    AddStoreCommand,
};

// `check --report`: queues the check's report in the outbox and delivers
// what is queued, carrying the agent's own digests (rules_path: the check's
// rule file, "" the default; docs/integrity.md) and recording them in the
// store's chain when they changed. Returns an exit code: kExitOk when queued (delivery may
// still be pending), kExitError otherwise. Defined in cli/check_report.cc,
// linked into the executable (it joins the agent and reporting libraries).
// Then, for a check of the host, syncs the host's tree to the collector
// (docs/wire.md "Trees"): *tree_sync (may be null) receives its figures
// ({"offered", "sent_objects", "sent_bytes", "rounds", "full"}, or
// {"error": TEXT} when it failed; null when there was nothing to sync). A
// failed sync is a warning on stderr and changes no exit code.
int ReportCheck(const std::string& db_path, const std::string& rules_path, CheckResult result,
                web::json::value* tree_sync = nullptr);

// `check --group-baseline` (cli/check_group.cc, docs/operations.md "Group
// baselines"): fetches the baseline of the host's group from the collector
// into the store as baseline `group:G` and points opts->baseline at it.
Status UseGroupBaseline(agent::CheckOptions* opts);
// Leaves out of a check against a group baseline what is not the group's:
// events at host-specific paths (docs/rules.md "Peers") or beneath one, and
// package events (the group's tree has files only).
Status LeaveOutForPeers(const std::string& rules_path, CheckResult* result);

// Adds the drift of the host's running containers (all runtimes) and their
// identity to a check of the host; failures become warnings. Images and
// roots that are not overlayfs are baselined in the agent store at db_path;
// `roots` are the runtimes' state roots besides those found on the host.
// Defined in cli/check_containers.cc (cli/container_scan.h), linked into the
// executable (it joins the agent and container libraries).
void AddContainerDrift(const report::ContainerRoots& roots, const std::string& db_path,
                       CheckResult* result);

// The container a process ran in ("docker:web-1") from its cgroup path,
// "" on the host: the realtime watcher's container matcher. Thread-safe.
// Defined in cli/watch_containers.cc (it joins the container library).
// `roots`: the runtimes' state roots besides those found on the host.
std::function<std::string(const std::string& cgroup)> MakeContainerMatcher(
    const report::ContainerRoots& roots = {});

}  // namespace driftwatch::cli

#endif  // DRIFTWATCH_CLI_COMMANDS_H_
