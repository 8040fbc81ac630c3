// The command queue of the SQLite fleet store: commands for agents
// (baseline, accept, check-now), handed out on a poll and acknowledged
// (schema in sqlite_rows.cc, docs/collector.md). Used only by
// sqlite_store.cc, inside its lock; the functions that write several rows
// run their own transaction.
//
// Thread-safety: none; the caller serializes access to the Db.
#ifndef DRIFTWATCH_COLLECTOR_SQLITE_COMMANDS_H_
#define DRIFTWATCH_COLLECTOR_SQLITE_COMMANDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "collector/store.h"
#include "core/sqlite.h"

namespace driftwatch::collector::sqlite_commands {

// kNotFound for an unknown host.
Result<int64_t> Queue(sqlite::Db& db, const std::string& host_id, const std::string& kind,
                      int64_t now_ns);
// One command per host of `group` ("" = every host), in one transaction.
Result<std::vector<int64_t>> QueueForGroup(sqlite::Db& db, const std::string& group,
                                           const std::string& kind, int64_t now_ns);
// An `accept` command of exactly `paths`.
Result<int64_t> QueueAccept(sqlite::Db& db, const std::string& host_id,
                            const std::vector<std::string>& paths, int64_t now_ns);
// A `restore` command for `host_id`, or (host_id "") for every host of
// `group` ("" = every host), in one transaction.
Result<std::vector<int64_t>> QueueRestore(sqlite::Db& db, const std::string& host_id,
                                          const std::string& group, const CommandRecord& restore,
                                          int64_t now_ns);
// Up to 100 commands not handed out yet, marked handed out at now_ns.
Result<std::vector<CommandRecord>> Take(sqlite::Db& db, const std::string& host_id, int64_t now_ns);
// The agent's answer; a baseline the command made becomes the host's. A
// command not handed out or answered already is refused (AckRefusal).
Status Ack(sqlite::Db& db, const std::string& host_id, int64_t command_id, const CommandAck& ack,
           int64_t now_ns);
Result<std::vector<CommandRecord>> List(sqlite::Db& db, const std::string& host_id);

}  // namespace driftwatch::collector::sqlite_commands

#endif  // DRIFTWATCH_COLLECTOR_SQLITE_COMMANDS_H_
