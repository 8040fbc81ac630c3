// Reading drift events from the SQLite fleet store: the /drift query and a
// path's history, as pages of the (detected_ns, id) order (store.h,
// EventPageQuery). Used only by sqlite_store.cc, inside its lock.
//
// Thread-safety: none; the caller serializes access to the Db.
#ifndef DRIFTWATCH_COLLECTOR_SQLITE_EVENTS_H_
#define DRIFTWATCH_COLLECTOR_SQLITE_EVENTS_H_

#include <string>
#include <string_view>
#include <vector>

#include "collector/store.h"
#include "core/sqlite.h"

namespace driftwatch::collector::sqlite_events {

// FleetStore::QueryDrift and FleetStore::PathHistory.
Result<std::vector<EventRecord>> Query(sqlite::Db& db, const DriftQuery& q);
Result<std::vector<EventRecord>> PathHistory(sqlite::Db& db, const std::string& path,
                                             const EventPageQuery& page);

// The bound statements of Query and PathHistory, their SQL after `prefix`
// ("" to run them; "EXPLAIN QUERY PLAN " gives the plan SQLite picks for
// these values, which the plan tests read).
Result<sqlite::Stmt> PrepareQuery(sqlite::Db& db, const DriftQuery& q, std::string_view prefix);
Result<sqlite::Stmt> PreparePathHistory(sqlite::Db& db, const std::string& path,
                                        const EventPageQuery& page, std::string_view prefix);

// The content diff stored with event `event_id` ("" when none; kNotFound
// when there is no such event): FleetStore::EventDiff.
Result<std::string> Diff(sqlite::Db& db, int64_t event_id);

}  // namespace driftwatch::collector::sqlite_events

#endif  // DRIFTWATCH_COLLECTOR_SQLITE_EVENTS_H_
