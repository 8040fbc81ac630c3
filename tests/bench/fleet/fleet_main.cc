// The fleet benchmark's entry point: options, the throw-away PostgreSQL
// cluster, the load setups and the history, and what they print (a human
// table, then `RESULT <key> <value> <unit>` lines that tests/bench/report.py
// reads). docs/benchmarks.md describes the keys.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <string>

#include "tests/bench/fleet/fleet_common.h"
#include "tests/bench/fleet/fleet_history.h"
#include "tests/bench/fleet/fleet_load.h"
#include "tests/pg/pg_cluster.h"

namespace driftwatch::fleetbench {
namespace {

constexpr const char* kUsage =
    "usage: fleet_bench [--quick] [--hosts N] [--rates R1,R2] [--seconds S] [--workers N]\n"
    "                   [--no-sqlite] [--no-pg] [--pg-collectors N] [--history-events N]\n"
    "                   [--history-hosts N] [--history-days D] [--pg-data DIR] [--collector PATH]\n"
    "Full run: 100,000 hosts, 333 and 1000 reports/s for 300 s each, on SQLite (one\n"
    "collector) and PostgreSQL (three), then 100 M events of history. --quick: 10,000\n"
    "hosts, 30 s per rate, 10 M events. --history-events 0 skips the history.\n";

void PrintLoad(const LoadSetup& s, const SetupFigures& f) {
  if (!f.error.empty()) {
    std::printf("%s: not run: %s\n", s.key.c_str(), f.error.c_str());
    return;
  }
  for (const RateFigures& r : f.rates) {
    std::string rss;
    for (int64_t k : r.rss_max_kib) {
      rss += (rss.empty() ? "" : " / ") + std::to_string(k / 1024);
    }
    std::printf("| %s x%zu | %d | %.0f | %" PRId64 " / %" PRId64 " / %" PRId64 " | %" PRId64
                " | %.1f / %.1f ms | %.1f / %.1f ms (%zu) | %.0f / %.0f ms (%zu) | %s MiB |\n",
                s.pg ? "postgresql" : "sqlite", r.rss_max_kib.size(), r.target_rps, r.achieved_rps,
                r.ok, r.sent, r.offered, r.late, r.ingest_p50_ms, r.ingest_p99_ms, r.drift_p50_ms,
                r.drift_p99_ms, r.drift_queries, r.summary_p50_ms, r.summary_p99_ms,
                r.summary_queries, rss.c_str());
    std::printf("    collector CPU %.1f s (%.2f ms a report), the benchmark's own CPU %.1f s\n",
                r.collector_cpu_s,
                r.ok ? r.collector_cpu_s * 1000 / static_cast<double>(r.ok) : 0.0, r.driver_cpu_s);
  }
  std::printf(
      "%s: enroll %.1f s; store %.1f -> %.1f MiB; %.1f KiB per host per day (one report "
      "every 5 min)\n",
      s.key.c_str(), f.enroll_s, static_cast<double>(f.store_bytes_before) / 1048576,
      static_cast<double>(f.store_bytes_after) / 1048576, f.bytes_per_host_day / 1024);
}

void LoadResults(const LoadSetup& s, const SetupFigures& f) {
  if (!f.error.empty() || f.rates.empty()) return;
  const std::string p = "fleet_" + s.key + "_";
  int64_t rss = 0;
  for (const RateFigures& r : f.rates) {
    const std::string q = p + "r" + std::to_string(r.target_rps) + "_";
    PrintResult(q + "rps", r.achieved_rps, "reports/s");
    PrintResult(q + "p50_ms", r.ingest_p50_ms, "ms");
    PrintResult(q + "p99_ms", r.ingest_p99_ms, "ms");
    PrintResult(q + "drift_p50_ms", r.drift_p50_ms, "ms");
    PrintResult(q + "drift_p99_ms", r.drift_p99_ms, "ms");
    PrintResult(q + "summary_p50_ms", r.summary_p50_ms, "ms");
    PrintResult(q + "summary_p99_ms", r.summary_p99_ms, "ms");
    PrintResult(q + "failed", static_cast<double>(r.failed + r.offered - r.sent), "reports");
    if (r.ok > 0) {
      PrintResult(q + "cpu_ms_per_report", r.collector_cpu_s * 1000 / static_cast<double>(r.ok),
                  "ms");
    }
    PrintResult(q + "driver_cpu_s", r.driver_cpu_s, "s");
    for (int64_t k : r.rss_max_kib) rss = std::max(rss, k);
  }
  // The headline figures: the highest rate asked for.
  const RateFigures& top = f.rates.back();
  PrintResult(p + "rps", top.achieved_rps, "reports/s");
  PrintResult(p + "p99_ms", top.ingest_p99_ms, "ms");
  PrintResult(p + "drift_p99_ms", top.drift_p99_ms, "ms");
  PrintResult(p + "summary_p99_ms", top.summary_p99_ms, "ms");
  PrintResult(p + "rss_mib", static_cast<double>(rss) / 1024, "MiB");
  PrintResult(p + "kib_host_day", f.bytes_per_host_day / 1024, "KiB");
  PrintResult(p + "enroll_s", f.enroll_s, "s");
}

void PrintHistory(const HistoryFigures& h) {
  if (!h.error.empty()) {
    std::printf("history: not run: %s\n", h.error.c_str());
    return;
  }
  std::printf("\nhistory: %" PRId64
              " events filled in %.0f s (ANALYZE %.0f s), database %.1f GiB\n",
              h.events, h.fill_s, h.analyze_s, static_cast<double>(h.db_bytes) / 1073741824.0);
  std::printf("| /drift call | API p50 | API p99 | EXPLAIN execution | buffers hit / read |\n");
  std::printf("| --- | --- | --- | --- | --- |\n");
  for (const QueryFigures& q : h.queries) {
    std::printf("| `%s` | %.1f ms | %.1f ms | %.1f ms | %" PRId64 " / %" PRId64 " |\n",
                q.query.c_str(), q.api_p50_ms, q.api_p99_ms, q.exec_ms, q.shared_hit,
                q.shared_read);
  }
  std::printf("/fleet/summary over %s hosts: %.0f ms\n", "the history's", h.summary_ms);
  for (const QueryFigures& q : h.queries) {
    std::printf("\nEXPLAIN (ANALYZE, BUFFERS) of the store's /drift statement for %s:\n",
                q.query.c_str());
    for (const std::string& l : q.plan) std::printf("    %s\n", l.c_str());
  }
}

void HistoryResults(const HistoryFigures& h) {
  if (!h.error.empty()) return;
  PrintResult("fleet_hist_events", static_cast<double>(h.events), "events");
  PrintResult("fleet_hist_fill_s", h.fill_s, "s");
  PrintResult("fleet_hist_db_gib", static_cast<double>(h.db_bytes) / 1073741824.0, "GiB");
  for (const QueryFigures& q : h.queries) {
    PrintResult("fleet_hist_" + q.key + "_ms", q.api_p50_ms, "ms");
    PrintResult("fleet_hist_" + q.key + "_p99_ms", q.api_p99_ms, "ms");
    PrintResult("fleet_hist_" + q.key + "_exec_ms", q.exec_ms, "ms");
  }
  PrintResult("fleet_hist_summary_ms", h.summary_ms, "ms");
}

int Main(int argc, char** argv) {
  Options o;
  std::string error;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "-h" || std::string(argv[i]) == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  if (!ParseOptions(argc, argv, &o, &error)) {
    std::fprintf(stderr, "fleet_bench: %s\n%s", error.c_str(), kUsage);
    return 2;
  }
  InstallStopHandler();
  char tmpl[] = "/var/tmp/driftwatch-fleet-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    return 2;
  }
  o.work_dir = tmpl;
  pgtest::PgCluster cluster;
  std::string pg_skip;
  if (o.pg || o.history_events > 0) {
    pg_skip = pgtest::PgCluster::SkipReason();
    // Room for the history's working set and its bulk index builds.
    if (pg_skip.empty()) {
      pg_skip = cluster.Start("",
                              "-c shared_buffers=512MB -c max_wal_size=4GB "
                              "-c checkpoint_timeout=30min -c work_mem=16MB");
    }
    if (!pg_skip.empty()) std::printf("PostgreSQL parts skipped: %s\n", pg_skip.c_str());
  }
  std::printf("fleet: %d hosts; %zu rate(s) for %.0f s each; %d senders; history %" PRId64
              " events\n",
              o.hosts, o.rates.size(), o.seconds, o.workers, o.history_events);
  std::printf(
      "| store | target reports/s | achieved | ok / sent / offered | late | ingest p50 / p99 | "
      "/drift p50 / p99 (n) | /fleet/summary p50 / p99 (n) | peak RSS |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  std::fflush(stdout);
  std::vector<std::pair<LoadSetup, SetupFigures>> done;
  if (o.sqlite && !Stopping()) {
    LoadSetup s{"sqlite", false, 1};
    done.emplace_back(s, RunLoad(o, s, &cluster));
    PrintLoad(s, done.back().second);
    std::fflush(stdout);
  }
  if (o.pg && pg_skip.empty() && !Stopping()) {
    LoadSetup s{"pg" + std::to_string(o.pg_collectors), true, o.pg_collectors};
    done.emplace_back(s, RunLoad(o, s, &cluster));
    PrintLoad(s, done.back().second);
    std::fflush(stdout);
    cluster.Sql("postgres", "DROP DATABASE IF EXISTS fleet_load");
  }
  HistoryFigures hist;
  if (o.history_events > 0 && pg_skip.empty() && !Stopping()) {
    hist = RunHistory(o, &cluster);
    PrintHistory(hist);
  }
  for (const auto& [s, f] : done) LoadResults(s, f);
  if (o.history_events > 0 && pg_skip.empty()) HistoryResults(hist);
  cluster.Stop();
  if (!o.pg_data.empty())
    driftwatch::testutil::Run("rm -rf " + driftwatch::testutil::Quote(o.pg_data));
  driftwatch::testutil::Run("rm -rf " + driftwatch::testutil::Quote(o.work_dir));
  bool failed = false;
  for (const auto& [s, f] : done) failed |= !f.error.empty();
  if (o.history_events > 0 && pg_skip.empty()) failed |= !hist.error.empty();
  if (Stopping()) {
    std::printf("interrupted: the figures above are of a partial run\n");
    return 130;
  }
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace driftwatch::fleetbench

int main(int argc, char** argv) { return driftwatch::fleetbench::Main(argc, argv); }
