// The PostgreSQL fleet store's schema as code: the ordered migrations, and
// the pure helpers for monthly event partitions and path globs
// (docs/store-postgresql.md).
//
// Thread-safety: pure functions and constant data.
#ifndef DRIFTWATCH_COLLECTOR_PG_SCHEMA_H_
#define DRIFTWATCH_COLLECTOR_PG_SCHEMA_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace driftwatch::collector {

struct PgMigration {
  int version;      // the schema version after this step
  const char* sql;  // fixed DDL, no values
};

// Every migration in order; the last one's version is kPgSchemaVersion.
const std::vector<PgMigration>& PgMigrations();

// The calendar month (UTC) that holds `ns` nanoseconds since the epoch.
struct EventMonth {
  int year = 1970;
  int month = 1;         // 1..12
  int64_t start_ns = 0;  // first nanosecond of the month
  int64_t end_ns = 0;    // first nanosecond of the next month (exclusive);
                         // clamped to INT64_MAX for the last representable one
};
EventMonth MonthOf(int64_t ns);
// "events_y2026m11"; years before 0 or past 9999 are clamped into the name.
std::string PartitionName(const EventMonth& m);
// Parses a name made by PartitionName; nullopt for any other table.
std::optional<EventMonth> ParsePartitionName(const std::string& name);

// Translates a path glob with SQLite GLOB semantics (`*` any run, `?` one
// character, `[...]`/`[^...]` classes with ranges, everything else literal,
// case-sensitive) into an anchored POSIX regular expression for `~`.
// nullopt for a glob that can match nothing (an unterminated class, as in
// SQLite). Linear in the glob's length.
std::optional<std::string> GlobToRegex(const std::string& glob);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_PG_SCHEMA_H_
