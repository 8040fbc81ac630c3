// Built instead of the PostgreSQL backend when libpq was not found.
#include "collector/pg_import.h"
#include "collector/pg_store.h"
#include "collector/store_url.h"

namespace driftwatch::collector {

namespace {
Status NotBuilt() {
  return Status::Unsupported(
      "this driftwatch-collector was built without PostgreSQL support (libpq-dev missing)");
}
}  // namespace

Result<std::unique_ptr<FleetStore>> OpenPgStore(const std::string&, const PgStoreOptions&) {
  return NotBuilt();
}
Result<int> MigratePgStore(const std::string&) { return NotBuilt(); }
Result<ImportCounts> ImportSqliteIntoPg(const std::string&, const std::string&) {
  return NotBuilt();
}
bool HavePostgres() { return false; }

}  // namespace driftwatch::collector
