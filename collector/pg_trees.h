// The PostgreSQL TreeStore (tree_store.h; schema version 10 in
// pg_schema.cc, docs/store-postgresql.md "Fleet trees"), sharing the fleet
// store's connection pool.
//
// Several collectors may write at once: an object stored twice is stored
// once (ON CONFLICT DO NOTHING). PutTrees, SetHostTree and AddGroupBaseline
// check closure again inside their transaction (kFailedPrecondition
// "missing_objects") while holding kPgTreeLock shared; PruneTrees holds it
// exclusively, so that no object or root is written between its mark and
// its sweep. PruneTrees also keeps every object stored at or after the
// cutoff, and what those reach (an upload whose tree is not set yet).
//
// Thread-safety: every call borrows a pooled connection; safe from any
// thread.
#ifndef DRIFTWATCH_COLLECTOR_PG_TREES_H_
#define DRIFTWATCH_COLLECTOR_PG_TREES_H_

#include <cstdint>
#include <memory>

#include "collector/pg_conn.h"
#include "collector/tree_store.h"

namespace driftwatch::collector {

// Advisory locks (pg_advisory_xact_lock): between tree writers (shared)
// and PruneTrees (exclusive); and kPgTreeLock + 1 numbering group baseline
// revisions one writer at a time.
constexpr int64_t kPgTreeLock = 0x64770003;

// Borrows `pool`, which must outlive the store.
std::unique_ptr<TreeStore> NewPgTreeStore(PgPool& pool);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_PG_TREES_H_
