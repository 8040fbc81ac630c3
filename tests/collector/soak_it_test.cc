// Load and soak: N simulated agents post reports concurrently to one real
// collector for a fixed time while readers page through /api/v1/drift.
// Prints reports/s, ingest and query latency (p50/p99) and the collector's
// RSS over time (VmRSS from /proc/PID/status); asserts that no acknowledged
// report is lost, none is stored twice, every report is stored whole and in
// each agent's order, and no request failed.
//
// Environment (the defaults are the CI run; tests/bench/collector/soak runs
// it bigger): DW_SOAK_AGENTS (4), DW_SOAK_SECONDS (10), DW_SOAK_READERS (2),
// DW_SOAK_EVENTS (events per report, 5).
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>

#include <cpprest/http_client.h>

#include "tests/collector/harness.h"

namespace driftwatch::collector_it {
namespace {

using Clock = std::chrono::steady_clock;

int EnvInt(const char* name, int def) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : def;
}

int64_t Percentile(std::vector<int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

// VmRSS of `pid` in KiB, or -1.
int64_t RssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6);
  }
  return -1;
}

std::string SoakReportId(int agent, int n) {
  char id[40];
  std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%04d%08d", agent, n);
  return id;
}

std::string SoakReport(int agent, int n, int events) {
  std::vector<DriftEvent> ev;
  for (int i = 0; i < events; ++i) {
    ev.push_back(Added(
        "/etc/soak/a" + std::to_string(agent) + "/r" + std::to_string(n) + "/f" + std::to_string(i),
        static_cast<Severity>(1 + (n + i) % 4)));
  }
  return ReportJson(SoakReportId(agent, n), "soak-" + std::to_string(agent), ev,
                    1793491200LL * 1000000000 + int64_t{n} * 1000000);
}

struct Timed {
  int status;
  int64_t us;
  std::string body;
};

Timed Post(web::http::client::http_client& cl, const std::string& token, const std::string& path,
           const std::string& body) {
  web::http::http_request req(body.empty() ? web::http::methods::GET : web::http::methods::POST);
  req.set_request_uri(web::uri(path));
  req.headers().add("Authorization", "Bearer " + token);
  if (!body.empty()) req.set_body(body, "application/json");
  const auto s = Clock::now();
  Timed t{-1, 0, ""};
  try {
    auto resp = cl.request(req).get();
    t.status = resp.status_code();
    t.body = resp.extract_utf8string(true).get();
  } catch (const std::exception& e) {
    t.body = e.what();
  }
  t.us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - s).count();
  return t;
}

TEST(CollectorSoakTest, ConcurrentAgentsAndReadersLoseAndDuplicateNothing) {
  const int agents = EnvInt("DW_SOAK_AGENTS", 4);
  const int seconds = EnvInt("DW_SOAK_SECONDS", 10);
  const int readers = EnvInt("DW_SOAK_READERS", 2);
  const int events = EnvInt("DW_SOAK_EVENTS", 5);
  TempDir dir;
  const std::string db = dir / "collector.db";
  Process collector;
  const std::string url = collector.Start({CollectorBin(), "--listen", "127.0.0.1:0", "--db", db},
                                          dir / "collector.log");
  ASSERT_FALSE(url.empty()) << testutil::Run("cat " + Q(dir / "collector.log")).out;
  auto token = [&](const std::string& role) {
    std::string t =
        testutil::Run(Q(CollectorBin()) + " token create --db " + Q(db) + " --role " + role).out;
    while (!t.empty() && t.back() == '\n') t.pop_back();
    return t;
  };
  const std::string read = token("read");
  const std::string enroll = token("enroll");
  std::vector<std::string> tokens;
  for (int a = 0; a < agents; ++a) {
    Answer r = Http("POST", url + "/api/v1/enroll", enroll,
                    "{\"host\":\"soak-" + std::to_string(a) + "\"}");
    ASSERT_EQ(r.status, 201) << r.body;
    tokens.push_back(r.json().at("token").as_string());
  }

  std::mutex mu;
  std::vector<int64_t> ingest_us, query_us;
  std::vector<std::vector<std::string>> acked(agents);
  std::atomic<int> failed{0}, bad_duplicates{0}, resends{0}, queries{0};
  std::string first_failure;
  auto fail = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    if (failed++ == 0) first_failure = what;
  };
  std::atomic<bool> done{false};
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::seconds(seconds);

  std::vector<std::pair<double, int64_t>> rss;  // (seconds, KiB)
  std::thread sampler([&] {
    while (!done) {
      rss.emplace_back(std::chrono::duration<double>(Clock::now() - t0).count(),
                       RssKib(collector.pid()));
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  });
  std::vector<std::thread> threads;
  for (int a = 0; a < agents; ++a) {
    threads.emplace_back([&, a] {
      web::http::client::http_client cl{web::uri(url)};
      std::vector<int64_t> lat;
      std::vector<std::string> mine;
      for (int n = 0; Clock::now() < deadline; ++n) {
        Timed t = Post(cl, tokens[a], "/api/v1/reports", SoakReport(a, n, events));
        lat.push_back(t.us);
        if (t.status != 200) {
          fail("agent " + std::to_string(a) + " report " + std::to_string(n) + ": " +
               std::to_string(t.status) + " " + t.body);
          break;
        }
        if (value::parse(t.body).at("duplicate").as_bool()) ++bad_duplicates;
        mine.push_back(SoakReportId(a, n));
        if (n % 10 == 9) {
          // An agent that missed the acknowledgement sends the report again.
          Timed again = Post(cl, tokens[a], "/api/v1/reports", SoakReport(a, n - 3, events));
          if (again.status != 200 || !value::parse(again.body).at("duplicate").as_bool()) {
            fail("resend of " + SoakReportId(a, n - 3) + ": " + std::to_string(again.status) + " " +
                 again.body);
          }
          ++resends;
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      ingest_us.insert(ingest_us.end(), lat.begin(), lat.end());
      acked[a] = std::move(mine);
    });
  }
  for (int r = 0; r < readers; ++r) {
    threads.emplace_back([&, r] {
      web::http::client::http_client cl{web::uri(url)};
      std::vector<int64_t> lat;
      std::string cursor;
      for (int i = 0; Clock::now() < deadline; ++i) {
        // Alternate: walk the whole feed by cursor, and one host's newest page.
        std::string q =
            (i % 2 == 0) ? "/api/v1/drift?limit=200" + (cursor.empty() ? "" : "&cursor=" + cursor)
                         : "/api/v1/drift?limit=50&host=soak-" + std::to_string((i + r) % agents);
        Timed t = Post(cl, read, q, "");
        lat.push_back(t.us);
        ++queries;
        if (t.status != 200) {
          fail(q + ": " + std::to_string(t.status) + " " + t.body);
          break;
        }
        if (i % 2 == 0) {
          value v = value::parse(t.body);
          cursor = v.at("next_cursor").is_null() ? "" : v.at("next_cursor").as_string();
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      query_us.insert(query_us.end(), lat.begin(), lat.end());
    });
  }
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  done = true;
  sampler.join();
  ASSERT_EQ(failed.load(), 0) << first_failure;
  EXPECT_EQ(bad_duplicates.load(), 0) << "new reports acknowledged as duplicates";

  // What the collector stored, page by page.
  std::map<std::string, int> per_report;
  std::vector<std::vector<std::string>> order(agents);
  std::pair<int64_t, int64_t> last_key{INT64_MIN, 0};
  size_t stored_events = 0;
  std::string cursor;
  for (int page = 0; page < 100000; ++page) {
    Answer a = Http(
        "GET",
        url + "/api/v1/drift?order=asc&limit=1000" + (cursor.empty() ? "" : "&cursor=" + cursor),
        read);
    ASSERT_EQ(a.status, 200) << a.body;
    value v = a.json();
    for (const value& e : v.at("events").as_array()) {
      // Oldest check first, ties by id: each event once.
      auto detected = ParseRfc3339(e.at("detected").as_string());
      ASSERT_TRUE(detected.ok()) << e.serialize();
      const std::pair<int64_t, int64_t> key{*detected, e.at("id").as_number().to_int64()};
      EXPECT_GT(key, last_key);
      last_key = key;
      const std::string rid = e.at("report_id").as_string();
      const int agent = std::atoi(e.at("host").as_string().c_str() + 5);
      ASSERT_TRUE(agent >= 0 && agent < agents) << e.serialize();
      if (per_report[rid]++ == 0) order[agent].push_back(rid);
      ++stored_events;
    }
    if (v.at("next_cursor").is_null()) break;
    cursor = v.at("next_cursor").as_string();
  }
  int64_t total_reports = 0, lost = 0, duplicated = 0;
  for (int a = 0; a < agents; ++a) {
    total_reports += static_cast<int64_t>(acked[a].size());
    for (const std::string& rid : acked[a]) lost += per_report.count(rid) == 0 ? 1 : 0;
    // Same reports, same order: none lost, none extra, none stored twice.
    EXPECT_EQ(order[a], acked[a]) << "agent soak-" << a;
    value host = Http("GET", url + "/api/v1/hosts/soak-" + std::to_string(a), read).json();
    EXPECT_EQ(host.at("reports").as_integer(), static_cast<int>(acked[a].size()));
  }
  for (const auto& [rid, n] : per_report) {
    EXPECT_EQ(n, events) << "report " << rid;
    duplicated += n > events ? 1 : 0;
  }
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(duplicated, 0);
  EXPECT_EQ(stored_events, static_cast<size_t>(total_reports) * events);
  EXPECT_GT(total_reports, 0);
  EXPECT_GT(queries.load(), 0);

  int64_t rss_max = 0;
  std::string rss_line;
  double next_print = 0;
  for (const auto& [t, kib] : rss) {
    rss_max = std::max(rss_max, kib);
    if (t >= next_print) {
      char buf[48];
      std::snprintf(buf, sizeof buf, " %.0fs:%lld", t, static_cast<long long>(kib / 1024));
      rss_line += buf;
      next_print += std::max(1.0, seconds / 10.0);
    }
  }
  std::printf(
      "soak: %d agents x %d s, %d readers: %lld reports (%zu events, %d resends) in %.1f s = "
      "%.0f reports/s; ingest p50 %.2f ms p99 %.2f ms; /drift p50 %.2f ms p99 %.2f ms (%d "
      "queries); lost %lld, duplicated %lld\n"
      "soak: collector RSS MiB over time:%s; max %.1f MiB\n",
      agents, seconds, readers, static_cast<long long>(total_reports), stored_events,
      resends.load(), secs, static_cast<double>(total_reports) / secs,
      Percentile(ingest_us, 0.5) / 1000.0, Percentile(ingest_us, 0.99) / 1000.0,
      Percentile(query_us, 0.5) / 1000.0, Percentile(query_us, 0.99) / 1000.0, queries.load(),
      static_cast<long long>(lost), static_cast<long long>(duplicated), rss_line.c_str(),
      static_cast<double>(rss_max) / 1024.0);
  EXPECT_EQ(collector.Kill(SIGTERM), 0);
}

}  // namespace
}  // namespace driftwatch::collector_it
