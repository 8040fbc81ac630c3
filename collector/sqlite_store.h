// The SQLite backend of FleetStore (schema: docs/collector.md).
//
// Opens (creating if needed) a database in WAL mode with a busy timeout, so
// that `driftwatch-collector token create` and `baseline` can write while a
// server runs. A database whose recorded schema version is not the one this
// build knows is refused with kUnsupported; a file other users may read is
// refused with kPermissionDenied, and a new one is created 0600
// (sqlite_file.h).
//
// Thread-safety: one connection behind one mutex; safe from any thread.
#ifndef DRIFTWATCH_COLLECTOR_SQLITE_STORE_H_
#define DRIFTWATCH_COLLECTOR_SQLITE_STORE_H_

#include <memory>
#include <string>

#include "collector/store.h"
#include "core/sqlite.h"

namespace driftwatch::collector {

// Version 2 added host inventories and command paths, version 3 enroll
// token limits, version 4 token ids, revocation and last use, and the
// events' time-ordered indexes, versions 5 to 7 realtime events, content
// diffs and integrity, version 8 the runtime identity of
// containers (image id and tree, labels, start, pid, excluded paths, note),
// version 9 the fleet's trees (sqlite_trees.h), version 10 dropped the
// events' (host_id | grp | path, id) indexes that the time-ordered ones
// made redundant; an older file is upgraded in place when opened.
constexpr int kCollectorSchemaVersion = 10;

Result<std::unique_ptr<FleetStore>> OpenSqliteStore(const std::string& path);

// How the store's file is opened (WAL, foreign keys). Errors are kIoError
// named "sqlite" (they reach HTTP answers, which do not show the path), but
// a full disk, which is kUnavailable: retryable once space is freed.
sqlite::DbOptions SqliteStoreOptions(bool read_only = false);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_SQLITE_STORE_H_
