// The SQLite TreeStore (tree_store.h; schema version 9 in sqlite_rows.cc,
// docs/store.md "Fleet trees"): tree objects by id, each host's current
// tree and its history, and group baseline revisions, in the fleet store's
// database file.
//
// Beyond the shared contract, PutTrees, SetHostTree and AddGroupBaseline
// check closure again inside their transaction (kFailedPrecondition
// "missing_objects" when a named object is not held), so that a PruneTrees
// running between the caller's HasTrees and the write never leaves a stored
// object or root whose children are gone. PruneTrees also keeps every object
// stored at or after the cutoff, and what those reach: an upload whose tree
// is not set yet survives a prune that runs in between.
//
// Thread-safety: shares the fleet store's connection and the mutex guarding
// it; every method takes that mutex.
#ifndef DRIFTWATCH_COLLECTOR_SQLITE_TREES_H_
#define DRIFTWATCH_COLLECTOR_SQLITE_TREES_H_

#include <memory>
#include <mutex>

#include "collector/tree_store.h"
#include "core/sqlite.h"

namespace driftwatch::collector {

// Borrows `db` and `mu`; both must outlive the store.
std::unique_ptr<TreeStore> NewSqliteTreeStore(sqlite::Db& db, std::mutex& mu);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_SQLITE_TREES_H_
