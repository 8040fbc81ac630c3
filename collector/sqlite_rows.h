// The SQLite fleet store's schema and the decoding of its rows into the
// records of collector/store.h. Used only by collector/sqlite_store.cc.
//
// Thread-safety: pure functions and constants.
#ifndef DRIFTWATCH_COLLECTOR_SQLITE_ROWS_H_
#define DRIFTWATCH_COLLECTOR_SQLITE_ROWS_H_

#include <string>
#include <utility>
#include <vector>

#include "collector/store.h"
#include "core/hash.h"
#include "core/sqlite.h"

namespace driftwatch::collector::sqlite_rows {

extern const char* const kSchema;          // CREATE ... IF NOT EXISTS, current version
extern const char* const kUpgradeToV2;     // ALTERs from version 1, before kSchema
extern const char* const kCommandColumns;  // column list that ReadCommand decodes
extern const char* const kHostColumns;     // column list that ReadHost decodes
extern const char* const kHostFrom;        // the FROM clause kHostColumns needs
extern const char* const kEventSelect;     // SELECT ... that ReadEvent decodes

// Creates the schema in a new database, upgrades a version 1 one in place,
// or refuses other versions (kUnsupported), in one transaction.
Status CreateOrUpgradeSchema(sqlite::Db& db);

HostRecord ReadHost(const sqlite::Stmt& s);
EventRecord ReadEvent(const sqlite::Stmt& s);
CommandRecord ReadCommand(const sqlite::Stmt& s);
// Columns: alert id, route, event id, attempts, then the event as ReadEvent.
PendingAlert ReadAlert(const sqlite::Stmt& s);

}  // namespace driftwatch::collector::sqlite_rows

#endif  // DRIFTWATCH_COLLECTOR_SQLITE_ROWS_H_
