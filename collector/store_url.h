// Opens the collector's fleet store from a `--store` URL:
//   sqlite:///var/lib/driftwatch/collector.db   the embedded SQLite store
//   postgresql://user@host:port/db?...         PostgreSQL (also postgres://)
// (docs/store-postgresql.md). A build without libpq refuses postgresql URLs
// with kUnsupported.
//
// Thread-safety: pure functions, plus the stores' own guarantees.
#ifndef DRIFTWATCH_COLLECTOR_STORE_URL_H_
#define DRIFTWATCH_COLLECTOR_STORE_URL_H_

#include <memory>
#include <string>

#include "collector/store.h"

namespace driftwatch::collector {

struct StoreUrl {
  enum class Kind { kSqlite, kPostgres };
  Kind kind = Kind::kSqlite;
  std::string target;  // the SQLite file path, or the libpq URI as given
};

// kInvalidArgument for any other scheme or an empty path.
Result<StoreUrl> ParseStoreUrl(const std::string& url);

// Opens the store; `pool_size` applies to PostgreSQL only.
Result<std::unique_ptr<FleetStore>> OpenStoreUrl(const std::string& url, int pool_size);

// Creates or upgrades the schema (`driftwatch-collector migrate`); for
// SQLite, opening the file does this. Returns a line for the operator.
Result<std::string> MigrateStoreUrl(const std::string& url);

// True when this build includes the PostgreSQL backend.
bool HavePostgres();

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_STORE_URL_H_
