// The driftwatch-collector executable's commands (main.cc dispatches):
// flag parsing and the store a command opens, shared by the commands in
// cli.cc, serve.cc and package_cmd.cc. Only this executable includes it.
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
#include "core/status.h"

namespace driftwatch::collector::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 2;
inline constexpr const char* kDefaultDb = "/var/lib/driftwatch-collector/collector.db";

using Flags = std::map<std::string, std::string>;
using Args = std::vector<std::string>;

// Prints "driftwatch-collector: MESSAGE" to stderr; returns kExitError.
int Fail(const Status& s);

// "--name value" / "--name=value" flags; every flag takes a value.
Result<Flags> ParseFlags(const Args& args, const std::vector<std::string>& known);

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
int TokenCreate(Host& host, const Args& args);
int Baseline(Host& host, const Args& args);
int Migrate(Host& host, const Args& args);
int Serve(Host& host, const Args& args);         // serve.cc
int PackageAgent(Host& host, const Args& args);  // package_cmd.cc

}  // namespace driftwatch::collector::cli

#endif  // DRIFTWATCH_COLLECTOR_CLI_H_
