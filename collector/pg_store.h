// The PostgreSQL backend of FleetStore (docs/store-postgresql.md).
//
// Several collector processes may share one database: duplicate reports are
// stored once (unique report id), commands are handed out once (row locks
// with SKIP LOCKED), tokens live in the database, and event ids are committed
// in insertion order (ingest holds a transaction-scoped advisory lock).
//
// Drift events are range-partitioned by month on detected_ns; partitions are
// created on first use and retention drops whole partitions older than the
// cutoff (PruneEvents).
//
// The schema is versioned (schema_versions, component 'collector-pg') and
// upgraded only by MigratePgStore (`driftwatch-collector migrate --store
// URL`); OpenPgStore refuses a database that is not at this build's version
// (older: "run migrate"; newer: kUnsupported).
//
// Thread-safety: the store keeps a pool of `pool_size` connections; every
// call borrows one for its duration. Safe from any thread.
#ifndef DRIFTWATCH_COLLECTOR_PG_STORE_H_
#define DRIFTWATCH_COLLECTOR_PG_STORE_H_

#include <memory>
#include <string>

#include "collector/store.h"

namespace driftwatch::collector {

// Latest schema version this build knows (migrations in pg_schema.cc).
constexpr int kPgSchemaVersion = 12;

struct PgStoreOptions {
  int pool_size = 4;  // connections, 1..64
  // libpq connect timeout in seconds for each pooled connection.
  int connect_timeout_s = 10;
};

// Opens a pool on `url` (a libpq URI "postgresql://user@host:port/db?..."
// or key=value conninfo). Fails with kUnavailable when the server cannot be
// reached, kUnsupported when the schema is missing, older than
// kPgSchemaVersion (the message says to run migrate) or newer.
Result<std::unique_ptr<FleetStore>> OpenPgStore(const std::string& url,
                                                const PgStoreOptions& options = {});

// Creates or upgrades the schema to kPgSchemaVersion, each version in its own
// transaction, serialized across processes by an advisory lock. Idempotent.
// Returns the version found before migrating (0 for an empty database).
// kUnsupported when the database is newer than this build.
Result<int> MigratePgStore(const std::string& url);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_PG_STORE_H_
