// Fleet store comparison (bounded: fixed counts and a time cap): the same
// load against SQLite with one collector, PostgreSQL with one collector and
// PostgreSQL with three collectors on one database, side by side.
//
// For each setup: a fresh store is seeded through FleetStore with
// DW_BENCH_SEED_EVENTS events (default 100,000) over 100 hosts (PostgreSQL
// then ANALYZEd, as autovacuum would have done), then
// DW_BENCH_AGENTS simulated agents (default 12), spread round-robin over the
// collectors, each send DW_BENCH_REPORTS reports of 10 events (default 100)
// over loopback HTTP, while one reader per collector queries /api/v1/drift
// (host, group+severity and path filters, 100 a page). Prints reports/s,
// ingest p50/p99 as the agents saw it, and /drift p50/p99 under that load
// (per query shape on stderr), the store's size, and the time
// `migrate --from` takes to copy the SQLite setup's database to PostgreSQL.
//
// Needs root and Debian's postgresql server binaries for the throw-away
// cluster (tests/pg/pg_cluster.h); runs SQLite only otherwise.
// For PostgreSQL, the share of the database's active sessions found
// waiting for a lock (sampled every 10 ms during the ingest) is printed
// too, and the lines `RESULT ingest_pg1_rps`, `RESULT ingest_pg3_rps` and
// `RESULT ingest_pg_lock_wait_pct` (three collectors) end the output.
// Environment: DW_COLLECTOR_BIN (set by meson), the counts above,
// DW_BENCH_TIME_CAP_S (300, split over the setups), DW_BENCH_PG_ONLY (set:
// the PostgreSQL setups only).
#include <cpprest/http_client.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "collector/auth.h"
#include "collector/pg_conn.h"
#include "collector/pg_import.h"
#include "collector/pg_store.h"
#include "collector/sqlite_store.h"
#include "core/drift_json.h"
#include "tests/pg/pg_cluster.h"

namespace driftwatch::bench {
namespace {

using Clock = std::chrono::steady_clock;
using web::json::value;

constexpr int kSeedHosts = 100;
constexpr int kEventsPerReport = 10;
constexpr int64_t kT0 = 1793491200LL * 1000000000;  // 2026-11-01T00:00:00Z

int EnvInt(const char* name, int def) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : def;
}

struct Child {
  pid_t pid = -1;
  std::string url;
};

Child StartCollector(const std::vector<std::string>& store_args, const std::string& log) {
  Child c;
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return c;
  std::vector<std::string> argv = {
      std::getenv("DW_COLLECTOR_BIN") ? std::getenv("DW_COLLECTOR_BIN") : "", "--listen",
      "127.0.0.1:0"};
  argv.insert(argv.end(), store_args.begin(), store_args.end());
  c.pid = fork();
  if (c.pid == 0) {
    dup2(out[1], 1);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 2);
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  char ch;
  pollfd p{out[0], POLLIN, 0};
  while (poll(&p, 1, 10000) > 0 && read(out[0], &ch, 1) == 1 && ch != '\n') c.url.push_back(ch);
  close(out[0]);
  return c;
}

void Stop(Child& c) {
  if (c.pid <= 0) return;
  kill(c.pid, SIGTERM);
  waitpid(c.pid, nullptr, 0);
  c.pid = -1;
}

double Ms(std::vector<int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))] / 1000.0;
}

CheckResult MakeCheck(int host, int report, int events, int64_t t) {
  CheckResult r;
  r.target = "bench-" + std::to_string(host);
  r.baseline = "default";
  r.baseline_revision = 1;
  r.started_ns = t;
  r.finished_ns = t + 1000;
  for (int i = 0; i < events; ++i) {
    const int n = report * events + i;
    DriftEvent e;
    e.path = "/etc/app" + std::to_string(n % 50) + "/file" + std::to_string(n);
    e.kind = static_cast<DriftKind>(1 + n % 3);
    e.severity = static_cast<Severity>(1 + (n + host) % 4);
    e.rule = "/etc/** (host.yaml:3)";
    Entry en;
    en.mask = kAttrType | kAttrPerm | kAttrSize;
    en.mode = 0644;
    en.size = static_cast<uint64_t>(n);
    if (e.kind != DriftKind::kRemoved) e.new_entry = en;
    if (e.kind != DriftKind::kAdded) e.old_entry = en;
    if (e.kind == DriftKind::kModified) e.changed = kAttrSize;
    r.events.push_back(e);
  }
  return r;
}

// The /drift queries of the readers.
constexpr const char* kShapes[] = {
    "/api/v1/drift?host=bench-42&limit=100", "/api/v1/drift?group=web&severity=critical&limit=100",
    "/api/v1/drift?path=/etc/app7/*&limit=100", "/api/v1/drift?host=agent-1&limit=100"};

struct Setup {
  const char* name;
  bool pg;
  int collectors;
};

struct Figures {
  int64_t store_bytes = 0;  // the database after the run
  size_t reports = 0;
  double secs = 0;
  std::vector<int64_t> ingest_us, drift_us;
  std::vector<std::vector<int64_t>> shape_us;  // per /drift query shape
  int failures = 0;
  // PostgreSQL: samples of the database's active sessions during the
  // ingest, and how many of them were waiting for a lock (the per-host
  // ingest locks, row locks).
  int64_t active_samples = 0, lock_wait_samples = 0;
};

// Samples pg_stat_activity every 10 ms until `done`: the share of the
// database's active sessions (this one excluded) that wait for a lock.
void SampleLockWaits(const std::string& url, const std::atomic<bool>& done, Figures* f) {
  auto c = collector::PgConn::Connect(url, 5);
  if (!c.ok()) return;
  while (!done) {
    auto r = (*c)->Exec("sample",
                        "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), count(*) FROM "
                        "pg_stat_activity WHERE datname = current_database() AND state = 'active' "
                        "AND pid <> pg_backend_pid()",
                        {});
    if (r.ok() && r->size() == 1) {
      f->lock_wait_samples += r->Int(0, 0);
      f->active_samples += r->Int(0, 1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Seeds the store; enrolls the agents' hosts with known tokens.
Status Seed(collector::FleetStore& store, int seed_events, int agents,
            std::vector<std::string>* agent_tokens, std::string* read) {
  for (int h = 0; h < kSeedHosts; ++h) {
    DW_RETURN_IF_ERROR(store.EnrollHost("bench-" + std::to_string(h), h % 2 ? "web" : "db", "b",
                                        "seed-" + std::to_string(h), 0, ""));
  }
  DW_ASSIGN_OR_RETURN(*read, collector::CreateToken(store, collector::Role::kRead, 0));
  int stored = 0;
  for (int r = 0; stored < seed_events; ++r) {
    collector::ReportEnvelope env;
    char id[40];
    std::snprintf(id, sizeof id, "00000000-0000-4000-9000-%012d", r);
    env.report_id = id;
    env.host_id = "bench-" + std::to_string(r % kSeedHosts);
    env.received_ns = kT0 + int64_t{r} * 1000000000;
    env.result =
        MakeCheck(r % kSeedHosts, r, std::min(1000, seed_events - stored), env.received_ns);
    for (const DriftEvent& e : env.result.events) {
      env.events_json.push_back(DriftEventToJson(e).serialize());
    }
    DW_RETURN_IF_ERROR(store.IngestReport(env, {}).status());
    stored += static_cast<int>(env.result.events.size());
  }
  for (int a = 0; a < agents; ++a) {
    DW_ASSIGN_OR_RETURN(std::string t, collector::GenerateToken());
    DW_RETURN_IF_ERROR(
        store.EnrollHost("agent-" + std::to_string(a), "web", "b", collector::HashToken(t), 0, ""));
    agent_tokens->push_back(t);
  }
  return Status::Ok();
}

Figures Run(const Setup& s, pgtest::PgCluster* cluster, const std::string& dir, int index,
            double cap_s) {
  Figures f;
  const int agents = EnvInt("DW_BENCH_AGENTS", 12);
  const int reports = EnvInt("DW_BENCH_REPORTS", 100);
  std::vector<std::string> store_args;
  std::string url;
  Result<std::unique_ptr<collector::FleetStore>> store = Status::Internal("unset");
  if (s.pg) {
    url = cluster->NewDatabase("bench_" + std::to_string(index));
    if (url.empty() || !collector::MigratePgStore(url).ok()) {
      std::cerr << "cannot create the PostgreSQL database\n";
      f.failures = 1;
      return f;
    }
    store = collector::OpenPgStore(url);
    store_args = {"--store", url, "--store-pool", "4"};
  } else {
    const std::string db = dir + "/bench_" + std::to_string(index) + ".db";
    store = collector::OpenSqliteStore(db);
    store_args = {"--db", db};
  }
  std::vector<std::string> tokens;
  std::string read;
  const auto seed_t0 = Clock::now();
  Status seeded =
      store.ok() ? Seed(**store, EnvInt("DW_BENCH_SEED_EVENTS", 100000), agents, &tokens, &read)
                 : store.status();
  if (!seeded.ok()) {
    std::cerr << s.name << ": seeding: " << seeded.message() << "\n";
    f.failures = 1;
    return f;
  }
  std::fprintf(stderr, "%s: seeded in %.1f s\n", s.name,
               std::chrono::duration<double>(Clock::now() - seed_t0).count());
  store->reset();
  // A long-lived database has been analyzed by autovacuum; a freshly seeded
  // one not yet, and its first plans would be measured instead.
  if (s.pg) cluster->Sql("bench_" + std::to_string(index), "ANALYZE");

  std::vector<Child> cs;
  for (int i = 0; i < s.collectors; ++i) {
    cs.push_back(StartCollector(
        store_args, dir + "/" + std::to_string(index) + "-" + std::to_string(i) + ".log"));
    if (cs.back().url.empty()) {
      std::cerr << s.name << ": collector did not start\n";
      for (Child& c : cs) Stop(c);
      f.failures = 1;
      return f;
    }
  }
  std::mutex mu;
  std::atomic<bool> ingest_done{false};
  std::thread sampler;
  if (s.pg) sampler = std::thread([&] { SampleLockWaits(url, ingest_done, &f); });
  const auto deadline = Clock::now() + std::chrono::duration<double>(cap_s);
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int a = 0; a < agents; ++a) {
    const std::string url = cs[static_cast<size_t>(a) % cs.size()].url;
    threads.emplace_back([&, a, url] {
      web::http::client::http_client cl{web::uri(url)};
      std::vector<int64_t> mine;
      int failed = 0;
      for (int r = 0; r < reports && Clock::now() < deadline; ++r) {
        value v = CheckResultToJson(MakeCheck(a, r, kEventsPerReport, kT0 + int64_t{r} * 1000));
        v["format"] = value::number(1);
        char id[64];
        std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%06d%06d", a, r);
        v["report_id"] = value(id);
        v["host_id"] = value("agent-" + std::to_string(a));
        web::http::http_request req(web::http::methods::POST);
        req.set_request_uri(web::uri("/api/v1/reports"));
        req.headers().add("Authorization", "Bearer " + tokens[a]);
        req.set_body(v.serialize(), "application/json");
        auto st = Clock::now();
        try {
          if (cl.request(req).get().status_code() != 200) ++failed;
        } catch (const std::exception&) {
          ++failed;
        }
        mine.push_back(
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - st).count());
      }
      std::lock_guard<std::mutex> lock(mu);
      f.ingest_us.insert(f.ingest_us.end(), mine.begin(), mine.end());
      f.failures += failed;
    });
  }
  const std::vector<std::string> shapes(std::begin(kShapes), std::end(kShapes));
  std::vector<std::thread> readers;
  for (size_t c = 0; c < cs.size(); ++c) {
    const std::string url = cs[c].url;
    readers.emplace_back([&, c, url] {
      web::http::client::http_client cl{web::uri(url)};
      std::vector<int64_t> mine;
      std::vector<std::vector<int64_t>> per_shape(shapes.size());
      int failed = 0;
      for (size_t i = 0; !ingest_done && i < 100000 && Clock::now() < deadline; ++i) {
        web::http::http_request req(web::http::methods::GET);
        const size_t shape = (i + c) % shapes.size();
        req.set_request_uri(web::uri(shapes[shape]));
        req.headers().add("Authorization", "Bearer " + read);
        auto st = Clock::now();
        try {
          auto resp = cl.request(req).get();
          resp.extract_string().get();
          if (resp.status_code() != 200) ++failed;
        } catch (const std::exception&) {
          ++failed;
        }
        mine.push_back(
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - st).count());
        per_shape[shape].push_back(mine.back());
      }
      std::lock_guard<std::mutex> lock(mu);
      f.drift_us.insert(f.drift_us.end(), mine.begin(), mine.end());
      f.shape_us.resize(shapes.size());
      for (size_t k = 0; k < shapes.size(); ++k) {
        f.shape_us[k].insert(f.shape_us[k].end(), per_shape[k].begin(), per_shape[k].end());
      }
      f.failures += failed;
    });
  }
  for (auto& t : threads) t.join();
  f.secs = std::chrono::duration<double>(Clock::now() - t0).count();
  ingest_done = true;
  for (auto& t : readers) t.join();
  if (sampler.joinable()) sampler.join();
  f.reports = f.ingest_us.size();
  for (Child& c : cs) Stop(c);
  if (s.pg) {
    auto rows = cluster->Sql("bench_" + std::to_string(index),
                             "SELECT pg_database_size(current_database())");
    if (!rows.empty()) f.store_bytes = std::stoll(rows[0][0]);
  } else {
    auto size = driftwatch::testutil::Run("du -cb " + dir + "/bench_" + std::to_string(index) +
                                          ".db* | tail -1 | cut -f1");
    f.store_bytes = std::atoll(size.out.c_str());
  }
  return f;
}

}  // namespace
}  // namespace driftwatch::bench

int main() {
  using namespace driftwatch::bench;  // NOLINT: file-local entry point
  char tmpl[] = "/tmp/dw_store_bench.XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const double cap = EnvInt("DW_BENCH_TIME_CAP_S", 300);
  std::vector<Setup> setups;
  if (std::getenv("DW_BENCH_PG_ONLY") == nullptr) setups.push_back({"sqlite", false, 1});
  driftwatch::pgtest::PgCluster cluster;
  std::string skip = driftwatch::pgtest::PgCluster::SkipReason();
  if (skip.empty()) skip = cluster.Start();
  if (skip.empty()) {
    setups.push_back({"postgresql", true, 1});
    setups.push_back({"postgresql", true, 3});
  } else {
    std::printf("PostgreSQL setups skipped: %s\n", skip.c_str());
  }
  std::printf(
      "%d agents x %d reports of %d events, %d seeded events; /drift readers: one per "
      "collector during ingest\n",
      EnvInt("DW_BENCH_AGENTS", 12), EnvInt("DW_BENCH_REPORTS", 100), kEventsPerReport,
      EnvInt("DW_BENCH_SEED_EVENTS", 100000));
  std::printf(
      "| store | collectors | reports | reports/s | ingest p50 | ingest p99 | /drift "
      "queries | /drift p50 | /drift p99 | failures | store size | lock waits |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  std::string results;
  int rc = 0;
  for (size_t i = 0; i < setups.size(); ++i) {
    Figures f = Run(setups[i], &cluster, dir, static_cast<int>(i), cap / setups.size());
    const double rps = f.secs > 0 ? static_cast<double>(f.reports) / f.secs : 0.0;
    const double lock_pct = f.active_samples > 0
                                ? 100.0 * static_cast<double>(f.lock_wait_samples) /
                                      static_cast<double>(f.active_samples)
                                : 0.0;
    std::printf(
        "| %s | %d | %zu | %.0f | %.1f ms | %.1f ms | %zu | %.1f ms | %.1f ms | %d | %.0f MiB | "
        "%s |\n",
        setups[i].name, setups[i].collectors, f.reports, rps, Ms(f.ingest_us, 0.5),
        Ms(f.ingest_us, 0.99), f.drift_us.size(), Ms(f.drift_us, 0.5), Ms(f.drift_us, 0.99),
        f.failures, static_cast<double>(f.store_bytes) / 1048576,
        setups[i].pg ? (std::to_string(static_cast<int>(lock_pct + 0.5)) + " %").c_str() : "");
    if (setups[i].pg) {
      char line[160];
      std::snprintf(line, sizeof line, "RESULT ingest_pg%d_rps %.0f reports/s\n",
                    setups[i].collectors, rps);
      results += line;
      if (setups[i].collectors == 3) {
        std::snprintf(line, sizeof line, "RESULT ingest_pg_lock_wait_pct %.1f %%\n", lock_pct);
        results += line;
      }
    }
    for (size_t k = 0; k < f.shape_us.size(); ++k) {
      std::fprintf(stderr, "  %s x%d %-55s p50 %7.1f ms  p99 %7.1f ms  (%zu)\n", setups[i].name,
                   setups[i].collectors, kShapes[k], Ms(f.shape_us[k], 0.5),
                   Ms(f.shape_us[k], 0.99), f.shape_us[k].size());
    }
    std::fflush(stdout);
    if (f.failures) rc = 1;
  }
  // `migrate --from`: the SQLite setup's database copied into PostgreSQL.
  if (setups.size() > 1 && !setups[0].pg) {
    const std::string url = cluster.NewDatabase("bench_copy");
    const auto t0 = Clock::now();
    auto migrated = driftwatch::collector::MigratePgStore(url);
    driftwatch::Result<driftwatch::collector::ImportCounts> copied =
        driftwatch::Status::Internal("not run");
    if (migrated.ok()) {
      copied = driftwatch::collector::ImportSqliteIntoPg(dir + "/bench_0.db", url);
    } else {
      copied = migrated.status();
    }
    if (!copied.ok()) {
      std::printf("sqlite -> postgresql copy failed: %s\n", copied.status().message().c_str());
      rc = 1;
    } else {
      std::printf("sqlite -> postgresql copy (migrate --from): %s in %.1f s\n",
                  driftwatch::collector::FormatImportCounts(*copied).c_str(),
                  std::chrono::duration<double>(Clock::now() - t0).count());
    }
  }
  cluster.Stop();
  std::system(("rm -rf " + dir).c_str());
  std::printf("%s", results.c_str());
  return rc;
}
