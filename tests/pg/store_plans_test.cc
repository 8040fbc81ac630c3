// The query plans of /drift and a path's history on both stores: each
// shape of query (every filter of docs/api.md, both orders, the cursor's
// pages) is read through an index of `events`, never by a scan of the whole
// table, with the values the store binds; and each returns exactly the
// events a plain filter of the whole history returns, so that an index
// dropped or a plan changed cannot go unnoticed either way.
#include <fnmatch.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "collector/pg_conn.h"
#include "collector/pg_events.h"
#include "collector/sqlite_events.h"
#include "collector/sqlite_store.h"
#include "core/drift_json.h"
#include "core/sqlite.h"
#include "tests/pg/both_stores.h"

namespace driftwatch::collector {
namespace {

constexpr int64_t kSec = 1000000000LL;
constexpr int64_t kFeb2026 = 1769904000LL * kSec;  // 2026-02-01T00:00:00Z
constexpr int kHosts = 12;
constexpr int kReportsPerHost = 6;
constexpr int kEventsPerReport = 8;

std::string HostName(int h) { return "h" + std::to_string(h); }
std::string GroupName(int h) { return "g" + std::to_string(h % 3); }

// Report r of host h: events on paths shared across hosts and paths of
// its own, every kind and severity, some of them realtime with actors.
ReportEnvelope Report(int h, int r) {
  ReportEnvelope env;
  env.report_id = "r" + std::to_string(h) + "-" + std::to_string(r);
  env.host_id = HostName(h);
  env.agent_version = "1";
  env.received_ns = kFeb2026 + (r * kHosts + h) * 60 * kSec;
  env.result.target = env.host_id;
  env.result.baseline = "default";
  // Two hosts report at the same time: ties broken by id.
  env.result.finished_ns = kFeb2026 + (r * kHosts + h / 2 * 2) * 60 * kSec;
  const bool realtime = r % 3 == 2;
  if (realtime) env.result.source = "realtime";
  for (int i = 0; i < kEventsPerReport; ++i) {
    DriftEvent e;
    e.path = i % 2 ? "/etc/app" + std::to_string(i % 4) + "/conf"
                   : "/var/lib/" + env.report_id + "/" + std::to_string(i);
    e.kind = static_cast<DriftKind>(1 + i % 3);
    e.severity = static_cast<Severity>(1 + (h + r + i) % 4);
    if (realtime) {
      Actor a;
      a.pid = 100 + i;
      a.exe = i % 2 ? "/usr/bin/vim" : "/usr/bin/sed";
      a.uid = i % 3 ? 1000 : 0;
      e.actor = a;
      e.time_ns = env.result.finished_ns - kSec;
      e.transient = i == 3;
    }
    env.result.events.push_back(e);
    env.events_json.push_back(DriftEventToJson(e).serialize());
  }
  return env;
}

// A /drift query shape and the indexes that may serve it: SQLite's index
// names, and the column part of PostgreSQL's partition index names
// ("events_y2026m02_" + this); "pk" is the primary key (rowid in SQLite).
// `sort` allows SQLite to sort what an index range found instead of reading
// it in order (a path glob's prefix range). PostgreSQL's planner weighs
// the statistics: it may sort the few rows of a host's range, or walk the
// time order for a common group, and for a filter no index leads with
// (kind, severity, transient, a glob without a prefix) it may read a month
// whole when it expects the value to be rare (`pg_scan`): those shapes are
// checked for their answers only.
struct Shape {
  std::string name;
  DriftQuery q;
  std::set<std::string> sqlite;
  std::set<std::string> pg;
  bool sort = false;
  bool pg_scan = false;
};

std::vector<Shape> Shapes() {
  std::vector<Shape> out;
  auto add = [&](std::string name, std::set<std::string> lite, std::set<std::string> pg, auto set) {
    Shape s{std::move(name), {}, std::move(lite), std::move(pg)};
    s.q.page.limit = 7;
    set(s);
    out.push_back(std::move(s));
  };
  const int64_t mid = kFeb2026 + 2 * kHosts * 60 * kSec;
  const EventKey key{mid, 0};
  const std::set<std::string> detected = {"events_detected"};
  const std::set<std::string> pg_detected = {"detected_ns_id_idx"};
  add("latest page", detected, pg_detected, [](Shape&) {});
  add("oldest first", detected, pg_detected, [](Shape& s) { s.q.page.newest_first = false; });
  add("next page", detected, pg_detected, [&](Shape& s) { s.q.page.after = key; });
  add("previous page", detected, pg_detected, [&](Shape& s) { s.q.page.before = key; });
  add("a window", detected, pg_detected, [&](Shape& s) {
    s.q.since_ns = kFeb2026 + 10 * 60 * kSec;
    s.q.until_ns = mid;
  });
  add("kind", detected, pg_detected, [](Shape& s) { s.q.kind = DriftKind::kRemoved; });
  add("min severity", detected, pg_detected,
      [](Shape& s) { s.q.min_severity = Severity::kCritical; });
  add("transient", detected, pg_detected, [](Shape& s) { s.q.transient = true; });
  add("a glob without a prefix", detected, pg_detected, [](Shape& s) { s.q.path_glob = "*/conf"; });
  const std::set<std::string> host = {"events_host_time"};
  const std::set<std::string> pg_host = {"host_id_detected_ns_id_idx"};
  add("host", host, pg_host, [](Shape& s) { s.q.host = "h4"; });
  add("host, oldest first", host, pg_host, [](Shape& s) {
    s.q.host = "h4";
    s.q.page.newest_first = false;
  });
  add("host, next page", host, pg_host, [&](Shape& s) {
    s.q.host = "h4";
    s.q.page.after = key;
  });
  add("host, previous page", host, pg_host, [&](Shape& s) {
    s.q.host = "h5";
    s.q.page.before = key;
  });
  add("host and window", host, pg_host, [&](Shape& s) {
    s.q.host = "h4";
    s.q.since_ns = kFeb2026;
    s.q.until_ns = mid;
  });
  add("host and severity", host, pg_host, [](Shape& s) {
    s.q.host = "h7";
    s.q.min_severity = Severity::kHigh;
  });
  const std::set<std::string> group = {"events_group_time"};
  const std::set<std::string> pg_group = {"grp_detected_ns_id_idx", "detected_ns_id_idx"};
  add("group", group, pg_group, [](Shape& s) { s.q.group = "g1"; });
  add("group, next page", group, pg_group, [&](Shape& s) {
    s.q.group = "g1";
    s.q.page.after = key;
  });
  add("group and severity", group, pg_group, [](Shape& s) {
    s.q.group = "g2";
    s.q.min_severity = Severity::kCritical;
  });
  const std::set<std::string> path = {"events_path_time"};
  const std::set<std::string> pg_path = {"path_detected_ns_id_idx"};
  add("exact path", path, pg_path, [](Shape& s) { s.q.path = "/etc/app1/conf"; });
  add("exact path, realtime filter", path, pg_path, [](Shape& s) {
    s.q.path = "/etc/app3/conf";
    s.q.transient = false;
  });
  // A glob's literal prefix is a range of the path index, sorted by time,
  // or the time order read and filtered: either reads no row outside both.
  std::set<std::string> glob = {"events_path_time", "events_detected"};
  add("a glob with a prefix", glob, {"path_detected_ns_id_idx", "detected_ns_id_idx"},
      [](Shape& s) { s.q.path_glob = "/etc/app1*"; });
  out.back().sort = true;
  add("actor executable", {"events_actor_exe"}, {"actor_exe_detected_ns_id_idx"},
      [](Shape& s) { s.q.actor_exe = "/usr/bin/vim"; });
  add("actor uid", {"events_actor_uid"}, {"actor_uid_detected_ns_id_idx"},
      [](Shape& s) { s.q.actor_uid = 0; });
  add("one event", {"pk"}, {"pkey"}, [](Shape& s) { s.q.event_id = 17; });
  for (Shape& s : out) {
    s.pg_scan = s.name == "kind" || s.name == "min severity" || s.name == "transient" ||
                s.name == "a glob without a prefix";
  }
  return out;
}

struct Stored {
  EventRecord rec;
  DriftEvent event;
  std::string group;
};

// The events `q` asks for, by a plain filter of the whole history.
std::vector<int64_t> Reference(const std::vector<Stored>& all, const DriftQuery& q) {
  std::vector<const Stored*> hit;
  for (const Stored& s : all) {
    const DriftEvent& e = s.event;
    const std::string escaped = EscapePath(e.path);
    if (!q.host.empty() && s.rec.host_id != q.host) continue;
    if (!q.group.empty() && s.group != q.group) continue;
    if (!q.path.empty() && escaped != q.path) continue;
    if (!q.path_glob.empty() && fnmatch(q.path_glob.c_str(), escaped.c_str(), 0) != 0) continue;
    if (q.kind && e.kind != *q.kind) continue;
    if (q.min_severity && e.severity < *q.min_severity) continue;
    if (q.since_ns && s.rec.detected_ns < *q.since_ns) continue;
    if (q.until_ns && s.rec.detected_ns >= *q.until_ns) continue;
    if (q.event_id && s.rec.id != *q.event_id) continue;
    if (!q.actor_exe.empty() && (!e.actor || e.actor->exe != q.actor_exe)) continue;
    if (q.actor_uid && (!e.actor || e.actor->uid != *q.actor_uid)) continue;
    if (q.transient && e.transient != *q.transient) continue;
    hit.push_back(&s);
  }
  auto before = [](const Stored* a, const Stored* b) {
    return std::pair(a->rec.detected_ns, a->rec.id) < std::pair(b->rec.detected_ns, b->rec.id);
  };
  std::sort(hit.begin(), hit.end(), before);
  const EventPageQuery& p = q.page;
  auto key_of = [](const Stored* s) { return std::pair(s->rec.detected_ns, s->rec.id); };
  std::vector<int64_t> ids;
  if (p.before) {
    // The last `limit` before the key in the page's order, in that order.
    const auto k = std::pair(p.before->detected_ns, p.before->id);
    std::vector<const Stored*> in;
    for (const Stored* s : hit) {
      if (p.newest_first ? key_of(s) > k : key_of(s) < k) in.push_back(s);
    }
    if (p.newest_first) std::reverse(in.begin(), in.end());
    const size_t from = in.size() > static_cast<size_t>(p.limit) ? in.size() - p.limit : 0;
    for (size_t i = from; i < in.size(); ++i) ids.push_back(in[i]->rec.id);
    return ids;
  }
  if (p.newest_first) std::reverse(hit.begin(), hit.end());
  for (const Stored* s : hit) {
    if (p.after) {
      const auto k = std::pair(p.after->detected_ns, p.after->id);
      if (p.newest_first ? !(key_of(s) < k) : !(key_of(s) > k)) continue;
    }
    if (ids.size() == static_cast<size_t>(p.limit)) break;
    ids.push_back(s->rec.id);
  }
  return ids;
}

std::string Describe(const std::vector<std::string>& plan) {
  std::string out;
  for (const std::string& line : plan) out += "  " + line + "\n";
  return out;
}

class StorePlansTest : public BothStoresTest {
 protected:
  void Seed() override {
    for (int h = 0; h < kHosts; ++h) {
      ASSERT_TRUE(
          store_->EnrollHost(HostName(h), GroupName(h), "1", "sha" + HostName(h), 1, "").ok());
    }
    for (int r = 0; r < kReportsPerHost; ++r) {
      for (int h = 0; h < kHosts; ++h) {
        auto in = store_->IngestReport(Report(h, r), {});
        ASSERT_TRUE(in.ok()) << in.status().message();
      }
    }
    DriftQuery all;
    all.page.limit = 100000;
    auto events = store_->QueryDrift(all);
    ASSERT_TRUE(events.ok()) << events.status().message();
    ASSERT_EQ(events->size(), size_t{kHosts * kReportsPerHost * kEventsPerReport});
    for (EventRecord& rec : *events) {
      auto e = DriftEventFromJson(web::json::value::parse(rec.event_json), "event");
      ASSERT_TRUE(e.ok()) << e.status().message();
      const int h = std::stoi(rec.host_id.substr(1));
      all_.push_back({std::move(rec), std::move(e).value(), GroupName(h)});
    }
  }

  // The plan of `s` as the store would run it: one line per step.
  std::vector<std::string> SqlitePlan(const Shape& s) {
    std::vector<std::string> out;
    auto db = sqlite::Db::Open(dir_ + "/c.db", SqliteStoreOptions());
    EXPECT_TRUE(db.ok()) << db.status().message();
    if (!db.ok()) return out;
    auto st = sqlite_events::PrepareQuery(**db, s.q, "EXPLAIN QUERY PLAN ");
    EXPECT_TRUE(st.ok()) << st.status().message();
    if (!st.ok()) return out;
    while (true) {
      auto row = st->Step();
      EXPECT_TRUE(row.ok()) << row.status().message();
      if (!row.ok() || !*row) break;
      out.push_back(st->Text(3));
    }
    return out;
  }

  std::vector<std::string> PgPlan(const Shape& s) {
    std::vector<std::string> out;
    auto c = PgConn::Connect(url_, 5);
    EXPECT_TRUE(c.ok()) << c.status().message();
    if (!c.ok()) return out;
    auto b = PgDriftQueryFor(s.q);
    EXPECT_TRUE(b.has_value());
    if (!b) return out;
    auto r = (*c)->Exec("explain", (std::string("EXPLAIN ") + b->sql).c_str(), b->params);
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (!r.ok()) return out;
    for (int i = 0; i < r->size(); ++i) out.push_back(r->Text(i, 0));
    return out;
  }

  // History in bulk, so that PostgreSQL's planner weighs months of some
  // size (its plans depend on the statistics; SQLite's do not, as the
  // store never runs ANALYZE): 40,000 more events in February, after the
  // seeded ones, and 40,000 in March, over 200 hosts.
  void FillPgHistory() {
    auto c = PgConn::Connect(url_, 5);
    ASSERT_TRUE(c.ok()) << c.status().message();
    const int64_t mar = kFeb2026 + 28LL * 86400 * kSec;
    ASSERT_TRUE((*c)->ExecScript("CREATE TABLE events_y2026m03 PARTITION OF events FOR VALUES "
                                 "FROM (" +
                                 std::to_string(mar) + ") TO (" +
                                 std::to_string(mar + 31LL * 86400 * kSec) + ")")
                    .ok());
    for (int64_t start : {kFeb2026 + 86400 * kSec, mar}) {
      ASSERT_TRUE(
          (*c)->ExecScript("INSERT INTO events(report_seq, report_id, host_id, grp, path, kind, "
                           "severity, detected_ns, received_ns, body, actor_exe, actor_uid) "
                           "SELECT 1, 'bulk', 'h' || (g % 200), 'g' || (g % 3), '/srv/f' || g, "
                           "1 + g % 3, 1 + g % 4, " +
                           std::to_string(start) + " + g::bigint * " + std::to_string(kSec) +
                           ", 0, '{}', CASE WHEN g % 50 = 0 THEN '/usr/bin/vim' END, "
                           "CASE WHEN g % 50 = 0 THEN g % 7 END FROM generate_series(0, 39999) g")
              .ok());
    }
    ASSERT_TRUE((*c)->ExecScript("ANALYZE events").ok());
  }

  std::vector<Stored> all_;
};

TEST_P(StorePlansTest, EachDriftShapeReturnsWhatAFilterOfTheHistoryReturns) {
  for (const Shape& s : Shapes()) {
    auto got = store_->QueryDrift(s.q);
    ASSERT_TRUE(got.ok()) << s.name << ": " << got.status().message();
    std::vector<int64_t> ids;
    for (const EventRecord& e : *got) ids.push_back(e.id);
    const std::vector<int64_t> want = Reference(all_, s.q);
    EXPECT_EQ(ids, want) << s.name;
    EXPECT_FALSE(want.empty()) << s.name << ": the shape finds nothing to compare";
  }
  // A path's history, both orders.
  for (bool newest_first : {true, false}) {
    EventPageQuery page;
    page.newest_first = newest_first;
    page.limit = 5;
    auto got = store_->PathHistory("/etc/app1/conf", page);
    ASSERT_TRUE(got.ok()) << got.status().message();
    DriftQuery q;
    q.path = "/etc/app1/conf";
    q.page = page;
    std::vector<int64_t> ids;
    for (const EventRecord& e : *got) ids.push_back(e.id);
    EXPECT_EQ(ids, Reference(all_, q));
  }
}

TEST_P(StorePlansTest, EachDriftShapeIsReadThroughAnIndex) {
  if (GetParam() == "sqlite") {
    for (const Shape& s : Shapes()) {
      const std::vector<std::string> plan = SqlitePlan(s);
      ASSERT_FALSE(plan.empty()) << s.name;
      std::set<std::string> used;
      bool sorted = false;
      for (const std::string& line : plan) {
        // The reports row of each event comes by its key.
        if (line.rfind("SEARCH r ", 0) == 0 || line.rfind("SCAN r", 0) == 0) {
          EXPECT_NE(line.find("INTEGER PRIMARY KEY"), std::string::npos) << s.name << ":\n"
                                                                         << Describe(plan);
          continue;
        }
        if (line.find("TEMP B-TREE") != std::string::npos) {
          sorted = true;
          continue;
        }
        ASSERT_TRUE(line.rfind("SEARCH e ", 0) == 0 || line.rfind("SCAN e ", 0) == 0)
            << s.name << ": a step that reads events without an index:\n"
            << Describe(plan);
        const size_t at = line.find("USING INDEX ");
        const size_t covering = line.find("USING COVERING INDEX ");
        if (line.find("USING INTEGER PRIMARY KEY") != std::string::npos) {
          used.insert("pk");
        } else if (at != std::string::npos || covering != std::string::npos) {
          std::istringstream in(line.substr(at != std::string::npos ? at + 12 : covering + 21));
          std::string name;
          in >> name;
          used.insert(name);
        } else {
          ADD_FAILURE() << s.name << ": a full scan of events:\n" << Describe(plan);
        }
      }
      ASSERT_EQ(used.size(), 1u) << s.name << ":\n" << Describe(plan);
      EXPECT_EQ(s.sqlite.count(*used.begin()), 1u) << s.name << ":\n" << Describe(plan);
      if (!s.sort) {
        EXPECT_FALSE(sorted) << s.name << ":\n" << Describe(plan);
      }
    }
    return;
  }
  FillPgHistory();
  for (const Shape& s : Shapes()) {
    if (s.pg_scan) continue;
    const std::vector<std::string> plan = PgPlan(s);
    ASSERT_FALSE(plan.empty()) << s.name;
    std::set<std::string> used;
    for (const std::string& line : plan) {
      // (The horizon of ingests in flight, a handful of rows at most, may
      // be read whole: "Seq Scan on ingest_horizons".)
      EXPECT_EQ(line.find("Seq Scan on events"), std::string::npos)
          << s.name << ": a full scan of a month:\n"
          << Describe(plan);
      size_t at = line.find(" using events_y");
      if (at == std::string::npos && line.find("Bitmap Index Scan") != std::string::npos) {
        at = line.find(" on events_y");
        if (at != std::string::npos) at -= 3;  // " on" is 3 shorter than " using"
      }
      if (at == std::string::npos) continue;
      std::istringstream in(line.substr(at + 7));
      std::string name;
      in >> name;  // events_y2026m02_host_id_detected_ns_id_idx
      ASSERT_GT(name.size(), 16u) << line;
      used.insert(name.substr(16));
    }
    ASSERT_FALSE(used.empty()) << s.name << ": no index:\n" << Describe(plan);
    for (const std::string& u : used) {
      // The visibility bound (id <= the lowest horizon) may add the
      // primary key of a month to the index the shape reads.
      if (u == "pkey" && used.size() > 1) continue;
      EXPECT_EQ(s.pg.count(u), 1u) << s.name << ": " << u << "\n" << Describe(plan);
    }
  }
}

// A path's history reads the path's index in time order on both stores.
TEST_P(StorePlansTest, PathHistoryIsReadThroughThePathIndex) {
  if (GetParam() != "sqlite") FillPgHistory();
  for (bool newest_first : {true, false}) {
    EventPageQuery page;
    page.newest_first = newest_first;
    // The path's latest (oldest) page: a key near one end would make the
    // time order the cheaper read for PostgreSQL, rightly.
    std::string plan;
    if (GetParam() == "sqlite") {
      auto db = sqlite::Db::Open(dir_ + "/c.db", SqliteStoreOptions());
      ASSERT_TRUE(db.ok()) << db.status().message();
      auto st =
          sqlite_events::PreparePathHistory(**db, "/etc/app1/conf", page, "EXPLAIN QUERY PLAN ");
      ASSERT_TRUE(st.ok()) << st.status().message();
      while (*st->Step()) plan += st->Text(3) + "\n";
      EXPECT_NE(plan.find("SEARCH e USING INDEX events_path_time (path=? AND detected_ns"),
                std::string::npos)
          << plan;
      EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
    } else {
      auto c = PgConn::Connect(url_, 5);
      ASSERT_TRUE(c.ok()) << c.status().message();
      const PgBoundQuery b = PgPathHistoryFor("/etc/app1/conf", page);
      // (A statement name per SQL text: a connection prepares each once.)
      auto r = (*c)->Exec(newest_first ? "explain_down" : "explain_up",
                          (std::string("EXPLAIN ") + b.sql).c_str(), b.params);
      ASSERT_TRUE(r.ok()) << r.status().message();
      for (int i = 0; i < r->size(); ++i) plan += r->Text(i, 0) + "\n";
      EXPECT_NE(plan.find("_path_detected_ns_id_idx"), std::string::npos) << plan;
      EXPECT_EQ(plan.find("Seq Scan on events"), std::string::npos) << plan;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, StorePlansTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace driftwatch::collector
