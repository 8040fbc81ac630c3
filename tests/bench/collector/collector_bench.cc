// Collector load benchmark (bounded: fixed counts and a time cap).
//
//  1. Ingest: N simulated agents send M reports each (E events per report)
//     to a real driftwatch-collector on 127.0.0.1; prints reports/s, the
//     p50/p99 ingest latency seen by the agents and the bytes per report,
//     twice: "chain off" (reports without integrity fields) and "chain on"
//     (each report carrying the agent chain's new records, one `check`
//     record per report after a first `baseline`, and `self` digests, which
//     the collector escrows and judges; docs/integrity.md).
//  2. Query: a store is seeded directly with DW_BENCH_EVENTS events (default
//     1,000,000) over 100 hosts, then a collector serves it and /api/v1/drift
//     is queried with typical filters; prints p50/p99 per query shape.
//
// Environment: DW_COLLECTOR_BIN (set by meson), DW_BENCH_AGENTS (16),
// DW_BENCH_REPORTS (100), DW_BENCH_EVENTS (1000000), DW_BENCH_TIME_CAP_S (240),
// DW_BENCH_INGEST_ONLY (set: skip the query part), DW_BENCH_REFERENCE_BIN (a
// collector binary to run the "chain off" ingest against as well, side by
// side, e.g. the previous release's).
//
// Besides the human lines, the chain-off ingest of DW_COLLECTOR_BIN prints
// `RESULT ingest_sqlite_rps N reports/s` and `RESULT ingest_sqlite_p99_ms N
// ms` (tests/bench/run collects them).
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
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "collector/auth.h"
#include "collector/sqlite_store.h"
#include "core/chain.h"
#include "core/drift_json.h"

namespace driftwatch::bench {
namespace {

using Clock = std::chrono::steady_clock;
using web::json::value;

int EnvInt(const char* name, int def) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : def;
}

struct Child {
  pid_t pid = -1;
  std::string url;
};

Child StartCollector(const std::string& bin, const std::string& db, const std::string& log) {
  Child c;
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return c;
  c.pid = fork();
  if (c.pid == 0) {
    dup2(out[1], 1);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 2);
    execl(bin.c_str(), bin.c_str(), "--listen", "127.0.0.1:0", "--db", db.c_str(), nullptr);
    _exit(127);
  }
  close(out[1]);
  char ch;
  pollfd p{out[0], POLLIN, 0};
  while (poll(&p, 1, 10000) > 0 && read(out[0], &ch, 1) == 1 && ch != '\n') c.url.push_back(ch);
  close(out[0]);
  return c;
}

// CPU seconds (user + system) a process used so far; -1 when unreadable.
double ProcessCpuSeconds(pid_t pid) {
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (f == nullptr) return -1;
  char buf[1024];
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // Fields after the command's closing parenthesis: utime and stime are
  // the 12th and 13th.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return -1;
  unsigned long long ut = 0, st = 0;
  if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) {
    return -1;
  }
  return static_cast<double>(ut + st) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

void Stop(Child& c) {
  if (c.pid <= 0) return;
  kill(c.pid, SIGTERM);
  waitpid(c.pid, nullptr, 0);
  c.pid = -1;
}

int64_t Percentile(std::vector<int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

DriftEvent Event(int host, int n) {
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
  return e;
}

CheckResult Result(int host, int report, int events, int64_t t) {
  CheckResult r;
  r.target = "bench-" + std::to_string(host);
  r.baseline = "default";
  r.baseline_revision = 1;
  r.started_ns = t;
  r.finished_ns = t + 1000;
  r.subtrees = {{"/etc", HashBytes(std::to_string(host))}};
  for (int i = 0; i < events; ++i) r.events.push_back(Event(host, report * events + i));
  return r;
}

// One agent's chain as its store keeps it: the records a report has not
// had acknowledged yet are sent with it.
class BenchChain {
 public:
  // The chain section of the next report: the records appended since the
  // last one (a baseline first, then one check record per report).
  chain::ReportChain Next(int report, int64_t t) {
    chain::ReportChain c;
    c.from = length_;
    if (report == 0) {
      Append("baseline",
             chain::BodyBuilder()
                 .Str("name", "default")
                 .Int("revision", 1)
                 .Str("snapshot", "s1")
                 .Str("root", kRoot)
                 .Str("rules", "r")
                 .Str("author", "root")
                 .Str("reason", "")
                 .Build(),
             t, &c);
    }
    Append("check",
           chain::BodyBuilder()
               .Str("check", std::to_string(report))
               .Str("baseline", "default")
               .Int("revision", 1)
               .Str("baseline_root", kRoot)
               .Str("root", kRoot)
               .Int("events", 10)
               .Str("events_digest", chain::Sha256Hex(std::to_string(report)))
               .Build(),
           t, &c);
    c.length = length_;
    c.head = head_;
    return c;
  }

 private:
  static constexpr const char* kRoot = "0123456789abcdef0123456789abcdef";
  void Append(const char* kind, std::string body, int64_t t, chain::ReportChain* c) {
    chain::Record r{++length_, kind, t, std::move(body)};
    head_ = chain::NextHead(head_, chain::RecordHash(r));
    c->records.push_back(std::move(r));
  }
  int64_t length_ = 0;
  std::string head_ = chain::GenesisHead();
};

std::string CollectorBin() {
  return std::getenv("DW_COLLECTOR_BIN") ? std::getenv("DW_COLLECTOR_BIN") : "";
}

// One ingest run against `bin`; `label` names it in the output, and RESULT
// lines are printed when `results` is set.
int Ingest(const std::string& dir, const std::string& bin, const char* label, double time_cap_s,
           bool with_chain, bool results) {
  const int agents = EnvInt("DW_BENCH_AGENTS", 16);
  const int reports = EnvInt("DW_BENCH_REPORTS", 100);
  const int events = 10;
  const std::string db = dir + "/" + label + (with_chain ? "-ingest-chain.db" : "-ingest.db");
  {
    auto store = collector::OpenSqliteStore(db);
    if (!store.ok()) return std::cerr << store.status().message() << "\n", 1;
  }
  Child c = StartCollector(bin, db,
                           dir + "/" + label + (with_chain ? "-ingest-chain.log" : "-ingest.log"));
  if (c.url.empty()) return std::cerr << "collector did not start\n", 1;
  auto store = collector::OpenSqliteStore(db);
  std::string enroll = *collector::CreateToken(**store, collector::Role::kEnroll, 0);
  std::vector<std::string> tokens;
  web::http::client::http_client client(web::uri(c.url));
  for (int a = 0; a < agents; ++a) {
    web::http::http_request req(web::http::methods::POST);
    req.set_request_uri(web::uri("/api/v1/enroll"));
    req.headers().add("Authorization", "Bearer " + enroll);
    req.set_body("{\"host\":\"bench-" + std::to_string(a) + "\"}", "application/json");
    auto resp = client.request(req).get();
    tokens.push_back(resp.extract_json().get().at("token").as_string());
  }
  std::mutex mu;
  std::vector<int64_t> latencies;
  std::atomic<int> failures{0};
  std::atomic<int64_t> bytes{0};
  const auto deadline = Clock::now() + std::chrono::duration<double>(time_cap_s);
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int a = 0; a < agents; ++a) {
    threads.emplace_back([&, a] {
      web::http::client::http_client cl(web::uri(c.url));
      std::vector<int64_t> mine;
      BenchChain agent_chain;
      for (int r = 0; r < reports && Clock::now() < deadline; ++r) {
        CheckResult result = Result(a, r, events, 1793491200LL * 1000000000 + r);
        if (with_chain) {
          result.chain = agent_chain.Next(r, result.finished_ns);
          result.self = chain::SelfDigests{chain::Sha256Hex("exe"), chain::Sha256Hex("rules"),
                                           chain::Sha256Hex("config"), "0.1.0"};
        }
        value v = CheckResultToJson(result);
        v["format"] = value::number(1);
        char id[64];
        std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%06d%06d", a % 1000000, r % 1000000);
        v["report_id"] = value(id);
        v["host_id"] = value("bench-" + std::to_string(a));
        web::http::http_request req(web::http::methods::POST);
        req.set_request_uri(web::uri("/api/v1/reports"));
        req.headers().add("Authorization", "Bearer " + tokens[a]);
        const std::string body = v.serialize();
        bytes += static_cast<int64_t>(body.size());
        req.set_body(body, "application/json");
        auto s = Clock::now();
        try {
          auto resp = cl.request(req).get();
          if (resp.status_code() != 200) ++failures;
          // With a chain, every answer must say the escrow took it.
          if (with_chain) {
            const value answer = resp.extract_json().get();
            const std::string state = answer.has_field("chain")
                                          ? answer.at("chain").at("state").as_string()
                                          : std::string();
            if (state != (r == 0 ? "adopted" : "ok")) ++failures;
          }
        } catch (const std::exception&) {
          ++failures;
        }
        mine.push_back(
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - s).count());
      }
      std::lock_guard<std::mutex> lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  // What the collector spent per report: comparable across runs on a
  // loaded machine, where reports/s is not.
  const double collector_cpu_s = ProcessCpuSeconds(c.pid);
  Stop(c);
  const double rps = static_cast<double>(latencies.size()) / secs;
  const double p99_ms = Percentile(latencies, 0.99) / 1000.0;
  std::printf(
      "%s ingest, chain %s: %d agents x %d reports (%d events each): %zu reports in %.2f s = %.0f "
      "reports/s, p50 %.2f ms, p99 %.2f ms, %.0f bytes/report, collector CPU %.3f ms/report, "
      "%d failures\n",
      label, with_chain ? "on" : "off", agents, reports, events, latencies.size(), secs, rps,
      Percentile(latencies, 0.5) / 1000.0, p99_ms,
      latencies.empty() ? 0.0
                        : static_cast<double>(bytes.load()) / static_cast<double>(latencies.size()),
      latencies.empty() ? 0.0 : collector_cpu_s * 1000.0 / static_cast<double>(latencies.size()),
      failures.load());
  if (results) {
    std::printf("RESULT ingest_sqlite_rps %.0f reports/s\nRESULT ingest_sqlite_p99_ms %.2f ms\n",
                rps, p99_ms);
  }
  std::fflush(stdout);
  return failures == 0 ? 0 : 1;
}

int Query(const std::string& dir, double time_cap_s) {
  const int total = EnvInt("DW_BENCH_EVENTS", 1000000);
  const int per_report = 5000;
  const int hosts = 100;
  const std::string db = dir + "/query.db";
  const auto deadline = Clock::now() + std::chrono::duration<double>(time_cap_s);
  auto t0 = Clock::now();
  std::string read;
  {
    auto store = collector::OpenSqliteStore(db);
    if (!store.ok()) return std::cerr << store.status().message() << "\n", 1;
    for (int h = 0; h < hosts; ++h) {
      (void)(*store)->EnrollHost("bench-" + std::to_string(h), h % 2 ? "web" : "db", "b",
                                 "sha-" + std::to_string(h), 0, "");
    }
    read = *collector::CreateToken(**store, collector::Role::kRead, 0);
    int stored = 0;
    for (int r = 0; stored < total && Clock::now() < deadline; ++r) {
      collector::ReportEnvelope env;
      char id[40];
      std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", r);
      env.report_id = id;
      env.host_id = "bench-" + std::to_string(r % hosts);
      env.received_ns = 1793491200LL * 1000000000 + int64_t{r} * 1000000000;
      env.result = Result(r % hosts, r, std::min(per_report, total - stored), env.received_ns);
      for (const DriftEvent& e : env.result.events) {
        env.events_json.push_back(DriftEventToJson(e).serialize());
      }
      auto ok = (*store)->IngestReport(env, {});
      if (!ok.ok()) return std::cerr << ok.status().message() << "\n", 1;
      stored += static_cast<int>(env.result.events.size());
    }
    std::printf("seed: %d events over %d hosts in %.1f s\n", stored, hosts,
                std::chrono::duration<double>(Clock::now() - t0).count());
  }
  Child c = StartCollector(CollectorBin(), db, dir + "/query.log");
  if (c.url.empty()) return std::cerr << "collector did not start\n", 1;
  web::http::client::http_client client(web::uri(c.url));
  const std::vector<std::string> shapes = {
      "/api/v1/drift?limit=100",
      "/api/v1/drift?host=bench-42&limit=100",
      "/api/v1/drift?group=web&severity=critical&limit=100",
      "/api/v1/drift?path=/etc/app7/*&limit=100",
      "/api/v1/drift?host=bench-7&kind=removed&limit=100",
      "/api/v1/drift?since=2026-11-01T01:00:00Z&until=2026-11-01T01:10:00Z&limit=100",
      "/api/v1/paths/history?path=/etc/app3/file12345",
  };
  std::vector<int64_t> all;
  int status_errors = 0;
  for (const std::string& q : shapes) {
    std::vector<int64_t> lat;
    for (int i = 0; i < 30 && Clock::now() < deadline + std::chrono::seconds(60); ++i) {
      web::http::http_request req(web::http::methods::GET);
      req.set_request_uri(web::uri(q));
      req.headers().add("Authorization", "Bearer " + read);
      auto s = Clock::now();
      auto resp = client.request(req).get();
      resp.extract_string().get();
      if (resp.status_code() != 200) ++status_errors;
      lat.push_back(
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - s).count());
    }
    all.insert(all.end(), lat.begin(), lat.end());
    std::printf("  %-80s p50 %7.2f ms  p99 %7.2f ms\n", q.c_str(), Percentile(lat, 0.5) / 1000.0,
                Percentile(lat, 0.99) / 1000.0);
  }
  Stop(c);
  std::printf(
      "query: /drift over %d stored events: p50 %.2f ms, p99 %.2f ms (%zu queries, %d errors)\n",
      total, Percentile(all, 0.5) / 1000.0, Percentile(all, 0.99) / 1000.0, all.size(),
      status_errors);
  return status_errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace driftwatch::bench

int main() {
  char tmpl[] = "/tmp/dw_collector_bench.XXXXXX";
  std::string dir = mkdtemp(tmpl);
  const double cap = driftwatch::bench::EnvInt("DW_BENCH_TIME_CAP_S", 240);
  const std::string bin = driftwatch::bench::CollectorBin();
  int rc = driftwatch::bench::Ingest(dir, bin, "this", cap / 8, false, true);
  if (const char* ref = std::getenv("DW_BENCH_REFERENCE_BIN")) {
    rc |= driftwatch::bench::Ingest(dir, ref, "reference", cap / 8, false, false);
  }
  rc |= driftwatch::bench::Ingest(dir, bin, "this", cap / 8, true, false);
  if (std::getenv("DW_BENCH_INGEST_ONLY") != nullptr) {
    std::system(("rm -rf " + dir).c_str());
    return rc;
  }
  rc |= driftwatch::bench::Query(dir, cap * 3 / 4);
  std::system(("rm -rf " + dir).c_str());
  return rc;
}
