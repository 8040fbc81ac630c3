// The stat cache's row format in the agent store (schema v7, docs/store.md):
// one row per host directory whose `rows` column packs the CachedStat rows
// of its files. One row per directory instead of one per file: a baseline
// of small files spent about half of its instructions inserting per-file
// rows into a (dir, name) b-tree, and a check as much reading them back
// (docs/decisions.md, "Small files").
//
// Thread-safety: plain functions.
#ifndef DRIFTWATCH_AGENT_STORE_STAT_CACHE_H_
#define DRIFTWATCH_AGENT_STORE_STAT_CACHE_H_

#include <string>
#include <string_view>
#include <vector>

#include "agent/scanner.h"
#include "core/status.h"

namespace driftwatch::agent {

constexpr uint8_t kStatRowsFormat = 1;

// Rows sorted by name (as StoreDir receives them).
std::string EncodeStatRows(const std::vector<CachedStat>& rows);
// kCorruption for bytes EncodeStatRows did not write (truncated, another
// format, a digest algorithm this build does not know); the caller treats
// that as an empty directory: every file is read again.
Result<std::vector<CachedStat>> DecodeStatRows(std::string_view bytes);

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_STORE_STAT_CACHE_H_
