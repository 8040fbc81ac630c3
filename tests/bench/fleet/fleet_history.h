// History at fleet scale (docs/benchmarks.md, "Fleet"): the PostgreSQL
// store's partitioned `events` table filled by SQL (generate_series, not
// through the API) with `events` drift events of `hosts` hosts spread over
// the last `days` days, then the /drift statement of the store
// (PgDriftQuerySql) under EXPLAIN (ANALYZE, BUFFERS) for typical filters,
// and the same /drift calls timed through one collector's API.
//
// Each month is filled as a plain table shaped LIKE events and attached
// as that month's partition afterwards, so its indexes are built in bulk
// (ATTACH creates the parent's indexes on it) instead of row by row; the
// result is the schema the store migrated, with the partition names it
// would have created itself.
#ifndef DRIFTWATCH_TESTS_BENCH_FLEET_FLEET_HISTORY_H_
#define DRIFTWATCH_TESTS_BENCH_FLEET_FLEET_HISTORY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tests/bench/fleet/fleet_common.h"

namespace driftwatch::pgtest {
class PgCluster;
}

namespace driftwatch::fleetbench {

struct QueryFigures {
  std::string key;                          // RESULT key infix: "latest", "host", ...
  std::string query;                        // the API call
  double plan_ms = 0, exec_ms = 0;          // EXPLAIN ANALYZE's planning and execution time
  int64_t shared_hit = 0, shared_read = 0;  // buffers of the top node
  std::vector<std::string> plan;            // EXPLAIN's lines
  double api_p50_ms = 0, api_p99_ms = 0;
  int api_calls = 0, api_failures = 0;
};

struct HistoryFigures {
  int64_t events = 0;
  double fill_s = 0;  // fill and attach, indexes included
  double analyze_s = 0;
  int64_t db_bytes = 0;
  std::vector<QueryFigures> queries;
  double summary_ms = 0;  // one /fleet/summary over the history's hosts
  std::string error;
};

HistoryFigures RunHistory(const Options& o, pgtest::PgCluster* cluster);

}  // namespace driftwatch::fleetbench

#endif  // DRIFTWATCH_TESTS_BENCH_FLEET_FLEET_HISTORY_H_
