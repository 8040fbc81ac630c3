// The fleet load (docs/benchmarks.md, "Fleet"): `hosts` synthetic agents
// enrolled in a fresh store, then real reports over HTTP on 127.0.0.1 at a
// fixed rate (open loop: report k is due at t0 + k / rate, host k mod
// hosts sends it, so each host reports every hosts / rate seconds) by a
// pool of sender threads, while a dashboard reads /drift and
// /fleet/summary. Report bodies are the agent's own (CheckResultToJson,
// sent by report::CollectorClient), with a drift mix of a quiet fleet:
// most checks find nothing, some a few config files, a few a package
// upgrade's worth.
//
// Every loop is bounded: the senders stop issuing at t0 + seconds and
// give up 30 s later (each request has a 10 s deadline); readers stop with
// them.
#ifndef DRIFTWATCH_TESTS_BENCH_FLEET_FLEET_LOAD_H_
#define DRIFTWATCH_TESTS_BENCH_FLEET_FLEET_LOAD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tests/bench/fleet/fleet_common.h"

namespace driftwatch::pgtest {
class PgCluster;
}

namespace driftwatch::fleetbench {

struct LoadSetup {
  std::string key;  // "sqlite" or "pg3": the RESULT keys' infix
  bool pg = false;
  int collectors = 1;
};

struct RateFigures {
  int target_rps = 0;
  // offered: reports due in the window; those not sent by 30 s after it
  // are given up. late: sent more than 1 s after due.
  int64_t offered = 0, sent = 0, ok = 0, failed = 0, late = 0;
  int64_t events = 0;
  double seconds = 0;  // first due time to last answer
  double achieved_rps = 0;
  double ingest_p50_ms = 0, ingest_p99_ms = 0;  // due time to answer
  double drift_p50_ms = 0, drift_p99_ms = 0;
  size_t drift_queries = 0;
  double summary_p50_ms = 0, summary_p99_ms = 0;
  size_t summary_queries = 0;
  int reader_failures = 0;
  std::vector<int64_t> rss_max_kib;  // per collector, during this rate
  double collector_cpu_s = 0;        // all collectors' CPU during this rate
  double driver_cpu_s = 0;           // this process's CPU (senders, readers)
};

struct SetupFigures {
  double enroll_s = 0;
  std::vector<RateFigures> rates;
  int64_t store_bytes_before = 0, store_bytes_after = 0;
  int64_t reports = 0;
  double bytes_per_host_day = 0;  // at one report every 5 minutes
  std::string error;              // set when the setup could not run
};

// Runs one setup at every rate of `o`; `cluster` is a started cluster for
// PostgreSQL setups (else unused).
SetupFigures RunLoad(const Options& o, const LoadSetup& s, pgtest::PgCluster* cluster);

}  // namespace driftwatch::fleetbench

#endif  // DRIFTWATCH_TESTS_BENCH_FLEET_FLEET_LOAD_H_
