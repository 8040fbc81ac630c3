// The file of the SQLite fleet store is private to the collector: it holds
// the hashes of every token and the fleet's data (docs/operations.md
// "Secrets").
//
// PrepareSqliteFile, called before SQLite opens `path`: creates a missing
// parent directory 0700 (one level) and a missing database file 0600 (SQLite
// gives the -wal and -shm files the database file's mode), and refuses, with
// kPermissionDenied naming the fix (`chmod 600 ...`), a database, -wal or
// -shm file that exists and is readable or writable by group or others.
// ":memory:" and "" are left alone.
//
// Thread-safety: a pure function of the file system; safe from any thread.
#ifndef DRIFTWATCH_COLLECTOR_SQLITE_FILE_H_
#define DRIFTWATCH_COLLECTOR_SQLITE_FILE_H_

#include <string>

#include "core/status.h"

namespace driftwatch::collector {

Status PrepareSqliteFile(const std::string& path);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_SQLITE_FILE_H_
