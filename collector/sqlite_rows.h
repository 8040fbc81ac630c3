// The SQLite fleet store's schema, and its rows as store_rows.h reads them.
// Used only by the SQLite store (sqlite_*.cc).
//
// Thread-safety: constants; CreateOrUpgradeSchema as the Db it is given.
#ifndef DRIFTWATCH_COLLECTOR_SQLITE_ROWS_H_
#define DRIFTWATCH_COLLECTOR_SQLITE_ROWS_H_

#include <cstdint>
#include <string>

#include "collector/store.h"
#include "core/sqlite.h"

namespace driftwatch::collector::sqlite_rows {

extern const char* const kSchema;       // CREATE ... IF NOT EXISTS, current version
extern const char* const kUpgradeToV2;  // ALTERs from version 1, before kSchema
extern const char* const kEventSelect;  // SELECT ... that store_rows::ReadEvent decodes

// Creates the schema in a new database, upgrades an older one (version 1 on) in place,
// or refuses other versions (kUnsupported), in one transaction.
Status CreateOrUpgradeSchema(sqlite::Db& db);

// The current row of a statement that returned one, as a store_rows::Row.
// Booleans are stored as 0 and 1. Borrows the statement.
class SqliteRow {
 public:
  explicit SqliteRow(const sqlite::Stmt& s) : s_(s) {}
  std::string Text(int col) const { return s_.Text(col); }
  int64_t Int(int col) const { return s_.Int(col); }
  bool Bool(int col) const { return s_.Int(col) != 0; }

 private:
  const sqlite::Stmt& s_;
};

}  // namespace driftwatch::collector::sqlite_rows

#endif  // DRIFTWATCH_COLLECTOR_SQLITE_ROWS_H_
