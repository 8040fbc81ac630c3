#include "collector/store_url.h"

#include "collector/pg_store.h"
#include "collector/sqlite_store.h"

namespace driftwatch::collector {

Result<StoreUrl> ParseStoreUrl(const std::string& url) {
  StoreUrl out;
  if (url.rfind("sqlite://", 0) == 0) {
    out.kind = StoreUrl::Kind::kSqlite;
    out.target = url.substr(9);
    if (out.target.empty() || out.target[0] != '/') {
      return Status::InvalidArgument("--store " + url +
                                     ": expected sqlite:///absolute/path/to/file.db");
    }
    return out;
  }
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    out.kind = StoreUrl::Kind::kPostgres;
    out.target = url;
    return out;
  }
  return Status::InvalidArgument("--store " + url +
                                 ": expected sqlite:///PATH or postgresql://USER@HOST/DB");
}

Result<std::unique_ptr<FleetStore>> OpenStoreUrl(const std::string& url, int pool_size) {
  DW_ASSIGN_OR_RETURN(StoreUrl u, ParseStoreUrl(url));
  if (u.kind == StoreUrl::Kind::kSqlite) return OpenSqliteStore(u.target);
  PgStoreOptions options;
  options.pool_size = pool_size;
  return OpenPgStore(u.target, options);
}

Result<std::string> MigrateStoreUrl(const std::string& url) {
  DW_ASSIGN_OR_RETURN(StoreUrl u, ParseStoreUrl(url));
  if (u.kind == StoreUrl::Kind::kSqlite) {
    DW_ASSIGN_OR_RETURN(auto store, OpenSqliteStore(u.target));
    return "sqlite store at schema version " + std::to_string(kCollectorSchemaVersion);
  }
  DW_ASSIGN_OR_RETURN(int before, MigratePgStore(u.target));
  if (before == kPgSchemaVersion) {
    return "postgresql store already at schema version " + std::to_string(kPgSchemaVersion);
  }
  return "postgresql store migrated from schema version " + std::to_string(before) + " to " +
         std::to_string(kPgSchemaVersion);
}

}  // namespace driftwatch::collector
