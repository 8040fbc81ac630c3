#include "tests/bench/fleet/fleet_load.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>

#include "collector/auth.h"
#include "collector/pg_store.h"
#include "collector/sqlite_store.h"
#include "core/drift_json.h"
#include "core/hash.h"
#include "report/client.h"
#include "report/http_exchange.h"
#include "report/outbox.h"
#include "report/reporter.h"
#include "tests/pg/pg_cluster.h"

namespace driftwatch::fleetbench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kGroups[] = {"web", "db", "cache", "batch", "edge"};
// Config files a quiet fleet sees change, and what a package upgrade touches.
constexpr const char* kConfigPaths[] = {"/etc/ssh/sshd_config",
                                        "/etc/nginx/nginx.conf",
                                        "/etc/nginx/sites-enabled/default",
                                        "/etc/resolv.conf",
                                        "/etc/hosts",
                                        "/etc/sudoers.d/ops",
                                        "/etc/crontab",
                                        "/etc/systemd/system/app.service",
                                        "/etc/postgresql/15/main/postgresql.conf",
                                        "/etc/sysctl.d/99-tuning.conf",
                                        "/etc/ld.so.cache",
                                        "/etc/passwd",
                                        "/etc/shadow",
                                        "/etc/group",
                                        "/etc/apt/sources.list.d/extra.list",
                                        "/etc/security/limits.conf"};

uint64_t Mix(uint64_t x) {  // splitmix64: a reproducible drift mix per report
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string HostId(int h) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "fleet-%06d", h);
  return buf;
}

Entry FileEntry(uint64_t r, int64_t now) {
  Entry e;
  e.type = EntryType::kFile;
  e.mask = kAttrType | kAttrPerm | kAttrUid | kAttrGid | kAttrSize | kAttrMtime | kAttrHash;
  e.mode = 0644;
  e.size = 200 + r % 8000;
  e.mtime_ns = now - static_cast<int64_t>(r % 86400) * 1000000000;
  auto d = Digest::Parse("xxh128:" + HashBytes(std::to_string(r)).Hex());
  if (d.ok()) e.content = *d;
  return e;
}

// Report k of host h: 85% of checks find nothing, 12% one to three config
// files, 2.5% four to twenty, 0.5% a package upgrade of 60 files.
CheckResult MakeReport(int64_t k, int h, int64_t now) {
  const uint64_t r = Mix(static_cast<uint64_t>(k));
  const int roll = static_cast<int>(r % 1000);
  int n = 0;
  bool upgrade = false;
  if (roll >= 995) {
    n = 60;
    upgrade = true;
  } else if (roll >= 970) {
    n = 4 + static_cast<int>((r >> 20) % 17);
  } else if (roll >= 850) {
    n = 1 + static_cast<int>((r >> 20) % 3);
  }
  CheckResult c;
  c.target = HostId(h);
  c.baseline = "default";
  c.baseline_revision = 1;
  c.root = HashBytes("root-" + std::to_string(n ? k : h));
  c.baseline_root = HashBytes("baseline-" + std::to_string(h));
  c.started_ns = now - 2000000000;
  c.finished_ns = now;
  c.interval_ns = int64_t{300} * 1000000000;
  c.subtrees = {{"/etc", HashBytes("etc-" + std::to_string(h))},
                {"/usr/bin", HashBytes("usr-bin")}};
  c.stats.files = 41000 + static_cast<uint64_t>(h % 500);
  c.stats.dirs = 3900;
  c.stats.others = 2100;
  c.stats.files_hashed = static_cast<uint64_t>(n);
  c.stats.bytes_hashed = static_cast<uint64_t>(n) * 4096;
  c.stats.duration_ns = 1900000000;
  for (int i = 0; i < n; ++i) {
    const uint64_t ri = Mix(r + static_cast<uint64_t>(i));
    DriftEvent e;
    if (upgrade) {
      e.path = "/usr/lib/x86_64-linux-gnu/libapp" + std::to_string(i) + ".so.1";
      e.kind = DriftKind::kModified;
      e.severity = Severity::kLow;
      e.rule = "/usr/** (default.yaml:12)";
      e.package = "libapp1";
      e.from_version = "1.2.3-1";
      e.to_version = "1.2.4-1";
      e.cause = "package-upgrade";
    } else {
      e.path = kConfigPaths[ri % std::size(kConfigPaths)];
      const int kr = static_cast<int>((ri >> 8) % 10);
      e.kind = kr < 7 ? DriftKind::kModified : kr < 9 ? DriftKind::kAdded : DriftKind::kRemoved;
      if (e.kind == DriftKind::kAdded) e.path += ".d/extra-" + std::to_string(ri % 97);
      const int sr = static_cast<int>((ri >> 16) % 100);
      e.severity = sr < 50   ? Severity::kLow
                   : sr < 85 ? Severity::kMedium
                   : sr < 97 ? Severity::kHigh
                             : Severity::kCritical;
      e.rule = "/etc/** (default.yaml:3)";
    }
    if (e.kind != DriftKind::kAdded) e.old_entry = FileEntry(ri, now);
    if (e.kind != DriftKind::kRemoved) e.new_entry = FileEntry(ri + 1, now);
    if (e.kind == DriftKind::kModified) e.changed = kAttrSize | kAttrMtime | kAttrHash;
    c.events.push_back(std::move(e));
  }
  return c;
}

// The agent's wire body as its outbox keeps it (report/outbox.cc); the
// reporter stamps host and send time on it (StampReport).
std::string WireBody(const CheckResult& r, const std::string& report_id) {
  web::json::value v = CheckResultToJson(r);
  v["format"] = web::json::value::number(1);
  v["report_id"] = web::json::value(report_id);
  v["agent_version"] = web::json::value(DRIFTWATCH_VERSION);
  return v.serialize();
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t Us(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::microseconds>(b - a).count();
}

double SelfCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Fleet {
  std::vector<std::string> tokens;  // per host
  std::string read_token;
};

Status Enroll(collector::FleetStore& store, int hosts, Fleet* f) {
  f->tokens.reserve(static_cast<size_t>(hosts));
  const int64_t now = NowNs();
  for (int h = 0; h < hosts; ++h) {
    DW_ASSIGN_OR_RETURN(std::string t, collector::GenerateToken());
    DW_RETURN_IF_ERROR(store.EnrollHost(HostId(h), kGroups[h % std::size(kGroups)], "0.1.0",
                                        collector::HashToken(t), now, ""));
    f->tokens.push_back(std::move(t));
  }
  DW_ASSIGN_OR_RETURN(f->read_token, collector::CreateToken(store, collector::Role::kRead, now));
  return Status::Ok();
}

int64_t StoreBytes(const LoadSetup& s, pgtest::PgCluster* cluster, const std::string& db) {
  if (s.pg) {
    auto rows = cluster->Sql("fleet_load", "SELECT pg_database_size(current_database())");
    return rows.empty() ? 0 : std::stoll(rows[0][0]);
  }
  return FileBytes(testutil::Quote(db) + "*");
}

// One rate against the started collectors.
RateFigures RunRate(const Options& o, int rate, const std::vector<Collector*>& cs, const Fleet& f,
                    std::atomic<int64_t>* next_k) {
  RateFigures out;
  out.target_rps = rate;
  const int64_t base_k = next_k->load();
  const int64_t slots = static_cast<int64_t>(o.seconds * rate);
  Samples ingest, drift, summary;
  std::atomic<int64_t> sent{0}, ok{0}, failed{0}, late{0}, events{0};
  std::atomic<bool> done{false};
  std::atomic<int> reader_failures{0};
  const auto t0 = Clock::now() + std::chrono::milliseconds(200);
  const auto stop_issuing = t0 + std::chrono::duration<double>(o.seconds);
  const auto give_up = stop_issuing + std::chrono::seconds(30);
  std::atomic<int64_t> last_answer_us{0};

  double cpu0 = 0;
  for (const Collector* c : cs) cpu0 += c->CpuSeconds();
  const double self0 = SelfCpuSeconds();
  // Each sender takes the next report due, so that one slow answer delays
  // only its own report, not a fixed share of the others.
  std::atomic<int64_t> next_slot{0};
  std::vector<std::thread> senders;
  for (int w = 0; w < o.workers; ++w) {
    senders.emplace_back([&] {
      std::vector<int64_t> mine;
      for (int64_t s = next_slot++; s < slots; s = next_slot++) {
        const auto due = t0 + std::chrono::microseconds(s * 1000000 / rate);
        if (due >= stop_issuing || Clock::now() >= give_up || Stopping()) break;
        std::this_thread::sleep_until(due);
        if (Clock::now() - due > std::chrono::seconds(1)) ++late;
        const int64_t k = base_k + s;
        const int h = static_cast<int>(k % o.hosts);
        const CheckResult c = MakeReport(k, h, NowNs());
        auto id = report::NewReportId();
        if (!id.ok()) {
          ++failed;
          continue;
        }
        const Collector* col = cs[static_cast<size_t>(h) % cs.size()];
        report::CollectorClient client(col->url(), f.tokens[static_cast<size_t>(h)], "", 10000);
        const Status st =
            client.SendReport(report::StampReport(WireBody(c, *id), HostId(h), NowNs()));
        const auto end = Clock::now();
        ++sent;
        if (st.ok()) {
          ++ok;
          events += static_cast<int64_t>(c.events.size());
        } else if (++failed <= 5) {
          std::cerr << "  report failed: " << st.message() << "\n";
        }
        mine.push_back(Us(due, end));
        int64_t at = Us(t0, end), prev = last_answer_us.load();
        while (at > prev && !last_answer_us.compare_exchange_weak(prev, at)) {
        }
      }
      ingest.Merge(mine);
    });
  }
  // The dashboard: /drift shapes and /fleet/summary, each paced at 4 and
  // 1 request/s, on the collectors in turn.
  auto reader = [&](const std::vector<std::string>& paths, int interval_ms, Samples* into) {
    report::HttpLimits limits;
    limits.deadline_ms = 60000;
    limits.max_answer_bytes = size_t{512} << 20;
    for (size_t i = 0; !done && !Stopping() && Clock::now() < give_up; ++i) {
      const auto next = Clock::now() + std::chrono::milliseconds(interval_ms);
      report::HttpExchangeRequest req{
          cs[i % cs.size()]->url(), "GET", paths[i % paths.size()], f.read_token, "", ""};
      const auto st = Clock::now();
      auto a = report::HttpExchange(req, limits);
      if (!a.ok() || a->status != 200) ++reader_failures;
      into->Add(Us(st, Clock::now()));
      while (!done && Clock::now() < next)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  };
  const std::vector<std::string> drift_paths = {
      "/api/v1/drift?limit=100", "/api/v1/drift?host=" + HostId(o.hosts / 2) + "&limit=100",
      "/api/v1/drift?group=web&severity=high&limit=100", "/api/v1/drift?path=/etc/ssh/*&limit=100",
      "/api/v1/drift?kind=removed&limit=50"};
  std::thread drift_reader(reader, drift_paths, 250, &drift);
  std::thread summary_reader(reader, std::vector<std::string>{"/api/v1/fleet/summary"}, 1000,
                             &summary);
  std::vector<int64_t> rss(cs.size(), 0);
  std::thread rss_sampler([&] {
    while (!done) {
      for (size_t i = 0; i < cs.size(); ++i) rss[i] = std::max(rss[i], cs[i]->RssKib());
      for (int i = 0; i < 10 && !done; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  for (auto& t : senders) t.join();
  done = true;
  drift_reader.join();
  summary_reader.join();
  rss_sampler.join();
  next_k->fetch_add(slots);
  for (const Collector* c : cs) out.collector_cpu_s += c->CpuSeconds();
  out.collector_cpu_s -= cpu0;
  out.driver_cpu_s = SelfCpuSeconds() - self0;
  out.offered = slots;
  out.sent = sent;
  out.ok = ok;
  out.failed = failed;
  out.late = late;
  out.events = events;
  out.seconds = static_cast<double>(last_answer_us.load()) / 1e6;
  out.achieved_rps = out.seconds > 0 ? static_cast<double>(out.ok) / out.seconds : 0;
  out.ingest_p50_ms = ingest.Ms(0.5);
  out.ingest_p99_ms = ingest.Ms(0.99);
  out.drift_p50_ms = drift.Ms(0.5);
  out.drift_p99_ms = drift.Ms(0.99);
  out.drift_queries = drift.size();
  out.summary_p50_ms = summary.Ms(0.5);
  out.summary_p99_ms = summary.Ms(0.99);
  out.summary_queries = summary.size();
  out.reader_failures = reader_failures;
  out.rss_max_kib = rss;
  return out;
}

}  // namespace

SetupFigures RunLoad(const Options& o, const LoadSetup& s, pgtest::PgCluster* cluster) {
  SetupFigures fig;
  const std::string db = o.work_dir + "/fleet.db";
  std::vector<std::string> store_args;
  Result<std::unique_ptr<collector::FleetStore>> store = Status::Internal("unset");
  if (s.pg) {
    const std::string url = cluster->NewDatabase("fleet_load");
    if (url.empty() || !collector::MigratePgStore(url).ok()) {
      fig.error = "cannot create the PostgreSQL database";
      return fig;
    }
    store = collector::OpenPgStore(url);
    store_args = {"--store", url, "--store-pool", "4"};
  } else {
    store = collector::OpenSqliteStore(db);
    store_args = {"--db", db};
  }
  if (!store.ok()) {
    fig.error = "cannot open the store: " + store.status().message();
    return fig;
  }
  Fleet fleet;
  const auto e0 = Clock::now();
  const Status enrolled = Enroll(**store, o.hosts, &fleet);
  fig.enroll_s = std::chrono::duration<double>(Clock::now() - e0).count();
  store->reset();  // closed: SQLite's WAL is checkpointed into the database
  if (!enrolled.ok()) {
    fig.error = "enrolling: " + enrolled.message();
    return fig;
  }
  std::fprintf(stderr, "%s: %d hosts enrolled in %.1f s\n", s.key.c_str(), o.hosts, fig.enroll_s);
  if (s.pg) cluster->Sql("fleet_load", "ANALYZE");
  fig.store_bytes_before = StoreBytes(s, cluster, db);

  std::vector<std::unique_ptr<Collector>> owned;
  std::vector<Collector*> cs;
  for (int i = 0; i < s.collectors; ++i) {
    owned.push_back(std::make_unique<Collector>());
    if (!owned.back()->Start(o.collector_bin, store_args,
                             o.work_dir + "/" + s.key + "-" + std::to_string(i) + ".log")) {
      fig.error = "collector " + std::to_string(i) + " did not start (log in " + o.work_dir + ")";
      return fig;  // owned collectors stop in their destructors
    }
    cs.push_back(owned.back().get());
  }
  std::atomic<int64_t> next_k{0};
  for (int rate : o.rates) {
    if (Stopping()) break;
    std::fprintf(stderr, "%s: %d reports/s for %.0f s ...\n", s.key.c_str(), rate, o.seconds);
    fig.rates.push_back(RunRate(o, rate, cs, fleet, &next_k));
    fig.reports += fig.rates.back().ok;
  }
  for (Collector* c : cs) c->Stop();
  if (!s.pg) {  // reopened and closed: the WAL goes back into the database file
    auto again = collector::OpenSqliteStore(db);
  }
  fig.store_bytes_after = StoreBytes(s, cluster, db);
  if (fig.reports > 0) {
    fig.bytes_per_host_day = static_cast<double>(fig.store_bytes_after - fig.store_bytes_before) /
                             static_cast<double>(fig.reports) * 288.0;
  }
  return fig;
}

}  // namespace driftwatch::fleetbench
