#include "tests/bench/fleet/fleet_history.h"

#include <sys/statvfs.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <thread>

#include "collector/auth.h"
#include "collector/event_body.h"
#include "collector/pg_events.h"
#include "collector/pg_schema.h"
#include "collector/pg_store.h"
#include "core/drift_json.h"
#include "report/http_exchange.h"
#include "tests/pg/pg_cluster.h"

namespace driftwatch::fleetbench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kDb = "fleet_history";
constexpr int kEventsPerReport = 8;
constexpr int64_t kNsPerDay = 86400LL * 1000000000;

// Config paths drawn for 60% of the events; the rest spread over 4,367
// application paths, so that path filters meet both common and rare paths.
constexpr const char* kPaths[] = {"/etc/ssh/sshd_config",
                                  "/etc/nginx/nginx.conf",
                                  "/etc/resolv.conf",
                                  "/etc/hosts",
                                  "/etc/sudoers.d/ops",
                                  "/etc/crontab",
                                  "/etc/systemd/system/app.service",
                                  "/etc/passwd",
                                  "/etc/shadow",
                                  "/etc/group",
                                  "/etc/sysctl.d/99-tuning.conf",
                                  "/etc/security/limits.conf"};

std::string Lit(const std::string& s) {  // a SQL string literal
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// The application paths: /etc/appA/conf.d/B.conf for A < 397, B < 11.
constexpr int kAppDirs = 397;
constexpr int kAppFiles = 11;

std::string AppPath(int dir, int file) {
  return "/etc/app" + std::to_string(dir) + "/conf.d/" + std::to_string(file) + ".conf";
}

// The wire JSON of an event at `path` of kind k (1..3) and severity s
// (1..4), whose file's content hashes are drawn from its path.
std::string EventJson(const std::string& path, int k, int s) {
  DriftEvent e;
  e.path = path;
  e.kind = static_cast<DriftKind>(k);
  e.severity = static_cast<Severity>(s);
  e.rule = "/etc/** (default.yaml:3)";
  Entry en;
  en.mask = kAttrType | kAttrPerm | kAttrUid | kAttrGid | kAttrSize | kAttrMtime | kAttrHash;
  en.mode = 0644;
  en.size = 1834;
  en.mtime_ns = 1793491200LL * 1000000000 + 123456789;
  if (auto d = Digest::Parse("xxh128:" + HashBytes("before " + path).Hex()); d.ok())
    en.content = *d;
  if (e.kind != DriftKind::kAdded) e.old_entry = en;
  en.size = 1902;
  en.mtime_ns += 86400LL * 1000000000;
  if (auto d = Digest::Parse("xxh128:" + HashBytes("after " + path).Hex()); d.ok()) en.content = *d;
  if (e.kind != DriftKind::kRemoved) e.new_entry = en;
  if (e.kind == DriftKind::kModified) e.changed = kAttrSize | kAttrMtime | kAttrHash;
  return DriftEventToJson(e).serialize();
}

// Fills table fill_bodies(k, s, path, body) with the stored body (packed
// as the collector packs it, collector/event_body.h) of every event the
// fill draws: 12 kinds and severities by 4,379 paths. Returns the mean
// size of the wire JSON and of the stored body, in bytes.
std::pair<double, double> FillBodies(pgtest::PgCluster* cluster, std::string* err) {
  std::vector<std::string> paths(std::begin(kPaths), std::end(kPaths));
  for (int d = 0; d < kAppDirs; ++d) {
    for (int f = 0; f < kAppFiles; ++f) paths.push_back(AppPath(d, f));
  }
  cluster->Sql(kDb,
               "CREATE TABLE fill_bodies(k INTEGER, s INTEGER, path TEXT, body TEXT, "
               "PRIMARY KEY (k, s, path))",
               err);
  double json_bytes = 0, stored_bytes = 0, n = 0;
  std::string sql;
  for (size_t i = 0; i < paths.size() && err->empty(); ++i) {
    for (int k = 1; k <= 3; ++k) {
      for (int s = 1; s <= 4; ++s) {
        const std::string json = EventJson(paths[i], k, s);
        const std::string body = collector::PackEventBody(json);
        json_bytes += json.size();
        stored_bytes += body.size();
        ++n;
        sql += (sql.empty() ? "INSERT INTO fill_bodies VALUES " : ",") + ("(" + std::to_string(k)) +
               "," + std::to_string(s) + "," + Lit(paths[i]) + "," + Lit(body) + ")";
      }
    }
    if (sql.size() > (1 << 20) || i + 1 == paths.size()) {
      cluster->Sql(kDb, sql, err);
      sql.clear();
    }
  }
  return {json_bytes / n, stored_bytes / n};
}

std::string PathArray() {
  std::string arr = "ARRAY[";
  for (size_t i = 0; i < std::size(kPaths); ++i) arr += (i ? "," : "") + Lit(kPaths[i]);
  return arr + "]";
}

// Fills events first..last (ids) into a new table `name` shaped like events.
std::string FillSql(const std::string& name, int64_t first, int64_t last, int64_t start_ns,
                    int64_t step_ns, int hosts) {
  char head[512];
  std::snprintf(head, sizeof head,
                "CREATE TABLE %s (LIKE events INCLUDING DEFAULTS); "
                "INSERT INTO %s (id, report_seq, report_id, host_id, grp, path, kind, severity, "
                "detected_ns, received_ns, body) ",
                name.c_str(), name.c_str());
  // Kind and severity are drawn by multiplicative hashes of the id, so that
  // they are independent of the host (and so of its group).
  char body[2048];
  std::snprintf(
      body, sizeof body,
      "SELECT i, i / %d, md5((i / %d)::text)::uuid::text, 'fleet-' || lpad(hn::text, 6, '0'), "
      "(ARRAY['web','db','cache','batch','edge'])[hn %% 5 + 1], x.path, x.k, x.s, d, "
      "d + 1000000000, b.body FROM (SELECT i, "
      "((i / %d) * 7919) %% %d AS hn, "
      "CASE WHEN i %% 5 < 3 THEN (%%s)[(i * 13 + i / %d) %% %zu + 1] "
      "ELSE '/etc/app' || (i %% %d) || '/conf.d/' || (i %% %d) || '.conf' END AS path, "
      "CASE WHEN kr < 7 THEN 2 WHEN kr < 9 THEN 1 ELSE 3 END AS k, "
      "CASE WHEN sr < 50 THEN 1 WHEN sr < 85 THEN 2 WHEN sr < 97 THEN 3 ELSE 4 END AS s, "
      "%" PRId64 " + (i - 1) * %" PRId64
      "::bigint AS d "
      "FROM (SELECT i, (i * 40503 + 17) %% 1000 / 100 AS kr, "
      "(i * 2654435761) %% 100000 / 1000 AS sr "
      "FROM generate_series(%" PRId64 "::bigint, %" PRId64
      "::bigint) i) r) x "
      "JOIN fill_bodies b ON b.k = x.k AND b.s = x.s AND b.path = x.path",
      kEventsPerReport, kEventsPerReport, kEventsPerReport, hosts, kEventsPerReport,
      std::size(kPaths), kAppDirs, kAppFiles, start_ns, step_ns, first, last);
  // The %s left in `body` takes the paths.
  std::string sql = body;
  sql.replace(sql.find("%s"), 2, PathArray());
  return head + sql;
}

std::string Rfc3339(int64_t ns) {
  const time_t t = static_cast<time_t>(ns / 1000000000);
  tm u{};
  gmtime_r(&t, &u);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &u);
  return buf;
}

// The values PgQueryDrift binds for a first page, newest first, as SQL
// literals: $1 host, $2 group, $3 path regex, $4 kind, $5 min severity,
// $6..$7 window, $8..$9 keyset start, $10 limit (the page and the one row the API reads ahead),
// $11.. NULL: if the statement gains parameters, check what NULL means for them.
struct Shape {
  std::string key, api;
  std::string host = "NULL", group = "NULL", regex = "NULL", kind = "NULL", severity = "NULL";
  int64_t since = INT64_MIN;
};

std::string Big(int64_t v) {  // quoted: -9223372036854775808 is no bigint literal
  return "'" + std::to_string(v) + "'::bigint";
}

std::string ExecuteArgs(const Shape& s, int params) {
  std::string a = s.host + "," + s.group + "," + s.regex + "," + s.kind + "," + s.severity + "," +
                  Big(s.since) + "," + Big(INT64_MAX) + "," + Big(INT64_MAX) + "," +
                  Big(INT64_MAX) + ",101";  // limit=100 and the API's lookahead row
  for (int i = 11; i <= params; ++i) a += ",NULL";
  return a;
}

int MaxParam(const std::string& sql) {
  int m = 0;
  for (size_t i = 0; i + 1 < sql.size(); ++i) {
    if (sql[i] == '$' && isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      m = std::max(m, std::atoi(sql.c_str() + i + 1));
    }
  }
  return m;
}

bool FreeDiskOk(const std::string& dir, int64_t need, std::string* why) {
  struct statvfs v {};
  if (statvfs(dir.c_str(), &v) != 0) return true;
  const int64_t free_bytes = static_cast<int64_t>(v.f_bavail) * static_cast<int64_t>(v.f_frsize);
  if (need < free_bytes * 8 / 10) return true;
  char buf[200];
  std::snprintf(buf, sizeof buf, "needs about %.0f GiB, %.0f GiB free under %s",
                need / 1073741824.0, free_bytes / 1073741824.0, dir.c_str());
  *why = buf;
  return false;
}

}  // namespace

HistoryFigures RunHistory(const Options& o, pgtest::PgCluster* cluster) {
  HistoryFigures fig;
  const int64_t n = o.history_events;
  fig.events = n;
  // About 600 bytes an event with its seven indexes and packed bodies
  // (0.56 GiB at 1 M).
  const std::string data_fs =
      o.pg_data.empty() ? cluster->dir() : o.pg_data.substr(0, o.pg_data.find_last_of('/') + 1);
  if (!FreeDiskOk(data_fs.empty() ? "." : data_fs, n * 600, &fig.error)) return fig;
  const std::string url = cluster->NewDatabase(kDb);
  if (url.empty() || !collector::MigratePgStore(url).ok()) {
    fig.error = "cannot create the PostgreSQL database";
    return fig;
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const int64_t start = now - int64_t{o.history_days} * kNsPerDay;
  const int64_t step = std::max<int64_t>(1, (now - start) / n);
  std::string err;
  const auto t0 = Clock::now();
  cluster->Sql(kDb,
               "INSERT INTO hosts(id, grp, agent_version, enrolled_ns, last_seen_ns, "
               "last_report_ns, reports, events, last_report_events, interval_ns) "
               "SELECT 'fleet-' || lpad(g::text, 6, '0'), (ARRAY['web','db','cache','batch',"
               "'edge'])[g % 5 + 1], '0.1.0', " +
                   std::to_string(start) + ", " + std::to_string(now) + ", " + std::to_string(now) +
                   ", 288, " + std::to_string(n / o.history_hosts) +
                   ", g % 7, 300000000000 "
                   "FROM generate_series(0, " +
                   std::to_string(o.history_hosts - 1) + ") g",
               &err);
  if (!err.empty()) {
    fig.error = "hosts: " + err;
    return fig;
  }
  // The months the window spans, each filled on its own connection (two at
  // a time), then attached one after the other.
  struct Part {
    collector::EventMonth m;
    int64_t first, last;
  };
  std::vector<Part> parts;
  for (int64_t at = start; at < now;) {
    const collector::EventMonth m = collector::MonthOf(at);
    const int64_t lo = std::max(start, m.start_ns), hi = std::min(now, m.end_ns);
    const int64_t first = (lo - start + step - 1) / step + 1;
    const int64_t last = std::min(n, (hi - start + step - 1) / step);
    if (first <= last) parts.push_back({m, first, last});
    at = m.end_ns;
  }
  const auto [json_bytes, stored_bytes] = FillBodies(cluster, &err);
  if (!err.empty()) {
    fig.error = "bodies: " + err;
    return fig;
  }
  std::fprintf(stderr, "history: event bodies %.0f bytes of JSON, stored in %.0f\n", json_bytes,
               stored_bytes);
  std::mutex mu;  // guards fig.error and next
  size_t next = 0;
  auto filler = [&] {
    for (;;) {
      size_t i;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (next >= parts.size() || !fig.error.empty()) return;
        i = next++;
      }
      const Part& p = parts[i];
      std::string e;
      cluster->Sql(
          kDb,
          FillSql(collector::PartitionName(p.m), p.first, p.last, start, step, o.history_hosts),
          &e);
      std::fprintf(stderr, "history: %s filled (%" PRId64 " events)%s%s\n",
                   collector::PartitionName(p.m).c_str(), p.last - p.first + 1,
                   e.empty() ? "" : ": ", e.c_str());
      if (!e.empty()) {
        std::lock_guard<std::mutex> lock(mu);
        fig.error = "fill: " + e;
      }
    }
  };
  std::thread a(filler), b(filler);
  a.join();
  b.join();
  if (!fig.error.empty()) return fig;
  for (const Part& p : parts) {
    cluster->Sql(kDb,
                 "SET maintenance_work_mem = '256MB'; ALTER TABLE events ATTACH PARTITION " +
                     collector::PartitionName(p.m) + " FOR VALUES FROM (" +
                     std::to_string(p.m.start_ns) + ") TO (" + std::to_string(p.m.end_ns) + ")",
                 &err);
    if (!err.empty()) {
      fig.error = "attach: " + err;
      return fig;
    }
  }
  cluster->Sql(kDb,
               "SELECT setval('events_id_seq', " + std::to_string(n + 1) +
                   "); INSERT INTO event_counts SELECT severity, count(*) FROM events GROUP BY 1; "
                   "DROP TABLE fill_bodies",
               &err);
  fig.fill_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto a0 = Clock::now();
  cluster->Sql(kDb, "ANALYZE", &err);
  fig.analyze_s = std::chrono::duration<double>(Clock::now() - a0).count();
  auto size = cluster->Sql(kDb, "SELECT pg_database_size(current_database())");
  if (!size.empty()) fig.db_bytes = std::stoll(size[0][0]);
  std::fprintf(stderr, "history: %" PRId64 " events in %.0f s (analyze %.0f s), %.1f GiB\n", n,
               fig.fill_s, fig.analyze_s, static_cast<double>(fig.db_bytes) / 1073741824.0);

  // Typical /drift calls: the latest page, one host, a group's critical
  // events, a common path glob, a rare one, and a day of removals.
  std::vector<Shape> shapes(6);
  shapes[0].key = "latest";
  shapes[0].api = "/api/v1/drift?limit=100";
  shapes[1].key = "host";
  shapes[1].api = "/api/v1/drift?host=fleet-000042&limit=100";
  shapes[1].host = "'fleet-000042'";
  shapes[2].key = "group_critical";
  shapes[2].api = "/api/v1/drift?group=web&severity=critical&limit=100";
  shapes[2].group = "'web'";
  shapes[2].severity = "4";
  shapes[3].key = "path_common";
  shapes[3].api = "/api/v1/drift?path=/etc/ssh/*&limit=100";
  shapes[3].regex = Lit(*collector::GlobToRegex("/etc/ssh/*"));
  shapes[4].key = "path_rare";
  shapes[4].api = "/api/v1/drift?path=/etc/app42/conf.d/*&limit=100";
  shapes[4].regex = Lit(*collector::GlobToRegex("/etc/app42/conf.d/*"));
  shapes[5].key = "removed_day";
  shapes[5].since = now - kNsPerDay;
  shapes[5].api = "/api/v1/drift?kind=removed&since=" + Rfc3339(shapes[5].since) + "&limit=100";
  shapes[5].kind = "3";
  const std::string sql = collector::PgDriftQuerySql(false);
  const int params = MaxParam(sql);
  for (const Shape& s : shapes) {
    QueryFigures q;
    q.key = s.key;
    q.query = s.api;
    auto rows = cluster->Sql(kDb,
                             "SET plan_cache_mode = force_custom_plan; PREPARE drift AS " + sql +
                                 "; EXPLAIN (ANALYZE, BUFFERS) EXECUTE drift(" +
                                 ExecuteArgs(s, params) + ")",
                             &err);
    if (!err.empty()) q.plan.push_back("EXPLAIN failed: " + err);
    for (const auto& r : rows) {
      const std::string& line = r[0];
      q.plan.push_back(line);
      double v = 0;
      if (std::sscanf(line.c_str(), "Planning Time: %lf", &v) == 1) q.plan_ms = v;
      if (std::sscanf(line.c_str(), "Execution Time: %lf", &v) == 1) q.exec_ms = v;
      size_t at = line.find("Buffers: shared");
      if (at != std::string::npos && q.shared_hit == 0 && q.shared_read == 0) {
        size_t h = line.find("hit=", at), rd = line.find("read=", at);
        if (h != std::string::npos) q.shared_hit = std::atoll(line.c_str() + h + 4);
        if (rd != std::string::npos) q.shared_read = std::atoll(line.c_str() + rd + 5);
      }
    }
    fig.queries.push_back(std::move(q));
  }

  // The same calls through one collector.
  Collector c;
  if (!c.Start(o.collector_bin, {"--store", url, "--store-pool", "2"},
               o.work_dir + "/history-collector.log")) {
    fig.error = "collector on the history did not start";
    return fig;
  }
  std::string token;
  {
    auto store = collector::OpenPgStore(url);
    if (store.ok()) {
      auto t = collector::CreateToken(**store, collector::Role::kRead, now);
      if (t.ok()) token = *t;
    }
  }
  report::HttpLimits limits;
  limits.deadline_ms = 60000;
  limits.max_answer_bytes = size_t{512} << 20;
  const int calls = o.quick ? 10 : 30;
  for (size_t i = 0; i < shapes.size(); ++i) {
    Samples s;
    QueryFigures& q = fig.queries[i];
    for (int k = 0; k <= calls; ++k) {  // the first call warms up
      report::HttpExchangeRequest req{c.url(), "GET", shapes[i].api, token, "", ""};
      const auto st = Clock::now();
      auto ans = report::HttpExchange(req, limits);
      const int64_t us =
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - st).count();
      if (!ans.ok() || ans->status != 200) ++q.api_failures;
      if (k > 0) s.Add(us);
    }
    q.api_calls = calls;
    q.api_p50_ms = s.Ms(0.5);
    q.api_p99_ms = s.Ms(0.99);
  }
  report::HttpExchangeRequest req{c.url(), "GET", "/api/v1/fleet/summary", token, "", ""};
  const auto st = Clock::now();
  auto ans = report::HttpExchange(req, limits);
  fig.summary_ms = std::chrono::duration<double, std::milli>(Clock::now() - st).count();
  if (!ans.ok() || ans->status != 200) fig.summary_ms = -1;
  c.Stop();
  return fig;
}

}  // namespace driftwatch::fleetbench
