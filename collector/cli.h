// The driftwatch-collector executable's commands on the argument layer of
// core/command_line.h: each command file adds its commands and flags
// (Add*), MakeProgram joins them; and the store a command opens, shared by
// the commands in cli.cc, serve.cc and package_cmd.cc. Only this executable
// includes it.
//
// Store selection, for every command that opens the store: --store URL,
// else --db FILE, else the --config file's `store` or `db`, else
// kDefaultDb. --store-pool, else the file's store_pool, else 4.
//
// Thread-safety: called from main's thread before any other starts.
#ifndef DRIFTWATCH_COLLECTOR_CLI_H_
#define DRIFTWATCH_COLLECTOR_CLI_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "collector/config.h"
#include "collector/store.h"
#include "core/command_line.h"
#include "core/host.h"
#include "core/status.h"

namespace driftwatch::collector::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 2;
inline constexpr const char* kDefaultDb = "/var/lib/driftwatch-collector/collector.db";

// The flags given to a command, by name without "--" (absent when not
// given). Commands keep them in a shared_ptr their action holds.
using Flags = std::map<std::string, std::string>;

// Prints "driftwatch-collector: MESSAGE" to stderr; returns kExitError.
int Fail(const Status& s);

// The driftwatch-collector program: serve (no command) and every command.
std::unique_ptr<cmdline::Program> MakeProgram(Host& host);

// Adds --NAME TYPE to `cmd`, kept in (*flags)[NAME] when given.
CLI::Option* AddFlag(CLI::App* cmd, Flags* flags, const std::string& name, const std::string& type,
                     const std::string& help);
// The STORE flags: --config FILE, --db FILE, --store URL, --store-pool N.
void AddStoreFlags(CLI::App* cmd, Flags* flags);
// --uses N and --expires DURATION of an enroll token; default_expiry is
// what the help says without --expires ("" for never).
void AddTokenLimitFlags(CLI::App* cmd, Flags* flags, const std::string& default_expiry);
// Whether `flags` names a store (--config, --db or --store).
bool NamesStore(const Flags& flags);

// The --config file (an empty config without one) with the flags that
// override it applied: listen, store, db, store-pool, tls-cert, tls-key,
// web-root, log-file, log-format, log-level (the last two checked).
Result<CollectorConfig> LoadConfig(Host& host, const Flags& flags);
// Opens the store `config` names (kDefaultDb when it names none). When run
// as root on a SQLite store whose directory belongs to another user (the
// packaged collector's), the files the open creates are given to that user.
Result<std::unique_ptr<FleetStore>> OpenConfigStore(const CollectorConfig& config);
// After the store is closed: the SQLite files of `config`'s store handed to
// the owner of their directory, as OpenConfigStore does (no-op otherwise).
void FixSqliteOwnership(const CollectorConfig& config);

// --uses N and --expires DURATION (from now_ns) of an enroll token.
Result<TokenLimits> ParseTokenLimits(const Flags& flags, int64_t now_ns);
// "3 uses, expires 2026-12-04T18:00:00Z" / "unlimited uses, never expires".
std::string DescribeTokenLimits(const TokenLimits& limits);

// The commands; files, programs and the clock go through `host`.
void AddTokenCommand(CLI::App& root, Host& host);        // token create
void AddBaselineCommand(CLI::App& root, Host& host);     // baseline_cmd.cc: baseline
void AddMigrateCommand(CLI::App& root, Host& host);      // migrate
void AddServeFlags(cmdline::Program& root, Host& host);  // serve.cc: the root's flags
void AddPackageCommand(CLI::App& root, Host& host);      // package_cmd.cc: package agent
void AddKeyCommand(CLI::App& root, Host& host);          // key_cmd.cc: key show|rotate
int Serve(Host& host, const Flags& flags);               // serve.cc

}  // namespace driftwatch::collector::cli

#endif  // DRIFTWATCH_COLLECTOR_CLI_H_
