// PostgreSQL-only behaviour of the fleet store on a throw-away cluster:
// versioned migrations, monthly partitions and their retention, index use
// of the /drift query, and several stores (as several collectors) sharing
// one database concurrently.
#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "collector/pg_conn.h"
#include "collector/pg_events.h"
#include "collector/pg_schema.h"
#include "collector/pg_store.h"
#include "core/drift_json.h"
#include "tests/pg/pg_cluster.h"

namespace driftwatch::collector {
namespace {

using pgtest::PgCluster;
using pgtest::Rows;

constexpr int64_t kSec = 1000000000LL;
constexpr int64_t kJan2026 = 1767225600LL * kSec;  // 2026-01-01T00:00:00Z
constexpr int64_t kFeb2026 = 1769904000LL * kSec;
constexpr int64_t kMar2026 = 1772323200LL * kSec;
constexpr int64_t kDay = 86400LL * kSec;

class PgStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    skip_ = PgCluster::SkipReason();
    if (!skip_.empty()) return;
    cluster_ = new PgCluster();
    start_error_ = cluster_->Start();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_EQ(start_error_, "");
    db_ = "it" + std::to_string(++databases_);
    url_ = cluster_->NewDatabase(db_);
    ASSERT_NE(url_, "");
  }

  // Brings the empty database to schema `version` as that version's build
  // left it (the migrations up to it, and its schema_versions row).
  void MigrateTo(int version) {
    for (const PgMigration& m : PgMigrations()) {
      if (m.version <= version) Sql(m.sql);
    }
    Sql("CREATE TABLE schema_versions(component TEXT PRIMARY KEY, version INTEGER NOT NULL); "
        "INSERT INTO schema_versions VALUES('collector-pg', " +
        std::to_string(version) + ")");
  }

  std::unique_ptr<FleetStore> MigrateAndOpen(int pool = 2) {
    auto m = MigratePgStore(url_);
    EXPECT_TRUE(m.ok()) << m.status().message();
    auto s = OpenPgStore(url_, PgStoreOptions{pool, 5});
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  Rows Sql(const std::string& sql) {
    std::string err;
    Rows r = cluster_->Sql(db_, sql, &err);
    EXPECT_EQ(err, "") << sql;
    return r;
  }

  static ReportEnvelope Envelope(const std::string& id, const std::string& host, int events,
                                 int64_t t) {
    ReportEnvelope env;
    env.report_id = id;
    env.host_id = host;
    env.agent_version = "1";
    env.received_ns = t;
    env.result.target = host;
    env.result.baseline = "default";
    env.result.finished_ns = t;
    for (int i = 0; i < events; ++i) {
      DriftEvent e;
      e.path = "/etc/" + id + "/" + std::to_string(i);
      e.kind = DriftKind::kModified;
      e.severity = Severity::kMedium;
      env.result.events.push_back(e);
      env.events_json.push_back(DriftEventToJson(e).serialize());
    }
    return env;
  }

  static std::string skip_, start_error_;
  static PgCluster* cluster_;
  static int databases_;
  std::string db_, url_;
};

std::string PgStoreTest::skip_;
std::string PgStoreTest::start_error_;
PgCluster* PgStoreTest::cluster_ = nullptr;
int PgStoreTest::databases_ = 0;

TEST_F(PgStoreTest, MigrationsAreVersionedIdempotentAndRefuseNewer) {
  auto unmigrated = OpenPgStore(url_);
  ASSERT_FALSE(unmigrated.ok());
  EXPECT_EQ(unmigrated.status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(unmigrated.status().message(),
            "collector store schema version 0 is older than this build's 12; run "
            "`driftwatch-collector migrate --store URL`");

  auto first = MigratePgStore(url_);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(*first, 0);
  auto second = MigratePgStore(url_);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(*second, 12);
  EXPECT_EQ(Sql("SELECT component, version FROM schema_versions"), (Rows{{"collector-pg", "12"}}));
  ASSERT_TRUE(OpenPgStore(url_).ok());

  Sql("UPDATE schema_versions SET version = 13");
  const std::string newer =
      "collector store schema version 13 is not supported by this build (knows version 12); see "
      "docs/store-postgresql.md";
  auto open = OpenPgStore(url_);
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(open.status().message(), newer);
  auto migrate = MigratePgStore(url_);
  ASSERT_FALSE(migrate.ok());
  EXPECT_EQ(migrate.status().message(), newer);
}

// An acknowledged report must survive a server crash: the collector's
// sessions commit durably even where the server's default is
// synchronous_commit = off (as on these throw-away clusters), and keep a
// stronger setting an operator chose for the database.
TEST_F(PgStoreTest, SessionsCommitDurablyWhateverTheServerDefault) {
  ASSERT_EQ(Sql("SHOW synchronous_commit"), (Rows{{"off"}}));
  auto setting = [&] {
    auto c = PgConn::Connect(url_, 5);
    EXPECT_TRUE(c.ok()) << c.status().message();
    if (!c.ok()) return std::string();
    auto r = (*c)->Exec("setting", "SELECT current_setting('synchronous_commit')", {});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->Text(0, 0) : std::string();
  };
  EXPECT_EQ(setting(), "on");
  Sql("ALTER DATABASE " + db_ + " SET synchronous_commit = remote_apply");
  EXPECT_EQ(setting(), "remote_apply");
  Sql("ALTER DATABASE " + db_ + " SET synchronous_commit = local");
  EXPECT_EQ(setting(), "local");
}

// Version 4 adds enroll token limits: `migrate` upgrades a version 3
// database in place, and its tokens keep working without limits.
TEST_F(PgStoreTest, MigrateUpgradesVersion3TokensToUnlimited) {
  MigrateTo(3);
  Sql("INSERT INTO tokens(sha256, role, host_id, created_ns) VALUES('old', 'enroll', '', 1)");
  auto m = MigratePgStore(url_);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(*m, 3);
  EXPECT_EQ(Sql("SELECT component, version FROM schema_versions"), (Rows{{"collector-pg", "12"}}));
  auto store = OpenPgStore(url_);
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto info = (*store)->LookupToken("old");
  ASSERT_TRUE(info.ok() && info->has_value());
  EXPECT_EQ((*info)->limits.uses_left, -1);
  EXPECT_EQ((*info)->limits.expires_ns, 0);
  EXPECT_TRUE((*store)->EnrollHost("h", "", "1", "agent-sha", 2, "old").ok());
}

// Version 5 adds token ids, revocation and last use, and the time-ordered
// event indexes: a version 4 database's tokens get their ids and stay
// usable, unrevoked.
TEST_F(PgStoreTest, MigrateUpgradesVersion4TokensWithIdsUnrevoked) {
  MigrateTo(4);
  Sql("INSERT INTO tokens(sha256, role, host_id, created_ns, uses_left, expires_ns) "
      "VALUES('0123456789abcdef', 'enroll', '', 1, 3, 0)");
  auto m = MigratePgStore(url_);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(*m, 4);
  EXPECT_EQ(Sql("SELECT component, version FROM schema_versions"), (Rows{{"collector-pg", "12"}}));
  EXPECT_EQ(Sql("SELECT indexdef FROM pg_indexes WHERE tablename = 'events' AND indexname "
                "LIKE 'events_%_time' ORDER BY indexname"),
            (Rows{{"CREATE INDEX events_group_time ON ONLY public.events USING btree (grp, "
                   "detected_ns, id)"},
                  {"CREATE INDEX events_host_time ON ONLY public.events USING btree (host_id, "
                   "detected_ns, id)"},
                  {"CREATE INDEX events_path_time ON ONLY public.events USING btree (path, "
                   "detected_ns, id)"}}));
  auto store = OpenPgStore(url_);
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto tokens = (*store)->ListTokens();
  ASSERT_TRUE(tokens.ok()) << tokens.status().message();
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ((*tokens)[0].id, "t_0123456789ab");
  EXPECT_EQ((*tokens)[0].info.revoked_ns, 0);
  EXPECT_EQ((*tokens)[0].info.limits.uses_left, 3);
  EXPECT_TRUE((*store)->EnrollHost("h", "", "1", "agent-sha", 2, "0123456789abcdef").ok());
}

// Version 9 adds the runtime identity of containers: a version 8
// database's container rows read with no identity and are found by the
// fleet's container list.
TEST_F(PgStoreTest, MigrateUpgradesVersion8ContainersWithoutIdentity) {
  MigrateTo(8);
  Sql("INSERT INTO hosts(id, enrolled_ns) VALUES('h', 1)");
  Sql("INSERT INTO host_inventory(host_id, containers_ns) VALUES('h', 5)");
  Sql("INSERT INTO host_containers VALUES('h', 0, 'web', 'c1', 'docker', 'nginx', 'd1', true, 2)");
  auto m = MigratePgStore(url_);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(*m, 8);
  EXPECT_EQ(Sql("SELECT component, version FROM schema_versions"), (Rows{{"collector-pg", "12"}}));
  auto store = OpenPgStore(url_);
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto inv = (*store)->GetInventory("h");
  ASSERT_TRUE(inv.ok()) << inv.status().message();
  ASSERT_EQ(inv->containers.size(), 1u);
  const ContainerInfo& c = inv->containers[0];
  EXPECT_EQ(c.name, "web");
  EXPECT_EQ(c.events, 2);
  EXPECT_TRUE(c.labels.empty());
  EXPECT_TRUE(c.excluded.empty());
  EXPECT_EQ(c.image_id, "");
  ContainerQuery q;
  q.runtime = "docker";
  auto rows = (*store)->ListContainers(q);
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].host_id, "h");
}

// Version 6 adds the realtime columns of events (actor, actor_exe,
// actor_uid, transient, reverted_by, event_ns) and their indexes: a version
// 5 database's events read as events of a check, and realtime events are
// stored and filtered beside them.
TEST_F(PgStoreTest, MigrateUpgradesVersion5EventsWithoutActors) {
  MigrateTo(5);
  {
    auto store = OpenPgStore(url_);
    ASSERT_FALSE(store.ok());  // older than this build: migrate first
  }
  auto m = MigratePgStore(url_);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(*m, 5);
  EXPECT_EQ(Sql("SELECT component, version FROM schema_versions"), (Rows{{"collector-pg", "12"}}));
  EXPECT_EQ(Sql("SELECT indexname FROM pg_indexes WHERE tablename = 'events' AND indexname "
                "LIKE 'events_actor_%' ORDER BY indexname"),
            (Rows{{"events_actor_exe"}, {"events_actor_uid"}}));
  auto store = OpenPgStore(url_);
  ASSERT_TRUE(store.ok()) << store.status().message();
  ASSERT_TRUE((*store)->EnrollHost("h", "", "1", "agent-sha", 1, "").ok());
  ReportEnvelope env;
  env.report_id = "r1";
  env.host_id = "h";
  env.received_ns = 10;
  env.result.finished_ns = 10;
  env.result.source = "realtime";
  DriftEvent e;
  e.path = "/etc/passwd";
  Actor a;
  a.pid = 1;
  a.exe = "/usr/bin/vim";
  a.uid = 1000;
  e.actor = a;
  env.result.events.push_back(e);
  env.events_json.push_back(DriftEventToJson(e).serialize());
  ASSERT_TRUE((*store)->IngestReport(env, {}).ok());
  EXPECT_EQ(Sql("SELECT actor_exe, actor_uid, transient, event_ns IS NULL FROM events"),
            (Rows{{"/usr/bin/vim", "1000", "f", "t"}}));
}

// Version 12 drops the events' (host_id | grp | path, id) indexes, which
// the time-ordered ones serve the same queries with: a version 11 database
// with events in a month's partition loses them on the parent and the
// partition, keeps every other index and every event, and answers the
// same as before.
TEST_F(PgStoreTest, MigrateUpgradesVersion11DroppingTheRedundantEventIndexes) {
  MigrateTo(11);
  Sql("INSERT INTO hosts(id, grp, enrolled_ns) VALUES('h1', 'web', 1), ('h2', 'db', 1)");
  Sql("CREATE TABLE events_y2026m02 PARTITION OF events FOR VALUES FROM (" +
      std::to_string(kFeb2026) + ") TO (" + std::to_string(kMar2026) + ")");
  Sql("INSERT INTO events(report_seq, report_id, host_id, grp, path, kind, severity, detected_ns, "
      "received_ns, body) SELECT 1, 'r', 'h' || (1 + g % 2), CASE WHEN g % 2 = 0 THEN 'db' ELSE "
      "'web' END, '/etc/f' || (g % 5), 1, 1 + g % 4, " +
      std::to_string(kFeb2026) +
      " + g * 1000, 0, '{\"path\": \"/etc/f\", \"kind\": "
      "\"modified\"}' FROM generate_series(1, 40) g");
  auto index_names = [&](const std::string& table) {
    return Sql(
        "SELECT string_agg(indexname, ' ' ORDER BY indexname) FROM pg_indexes WHERE "
        "tablename = '" +
        table + "'")[0][0];
  };
  EXPECT_EQ(index_names("events"),
            "events_actor_exe events_actor_uid events_chain events_detected events_group "
            "events_group_time events_host events_host_time events_path events_path_time "
            "events_pkey");
  const std::string partition_before = index_names("events_y2026m02");
  EXPECT_NE(partition_before.find("events_y2026m02_host_id_id_idx"), std::string::npos)
      << partition_before;

  auto m = MigratePgStore(url_);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(*m, 11);
  EXPECT_EQ(Sql("SELECT component, version FROM schema_versions"), (Rows{{"collector-pg", "12"}}));
  EXPECT_EQ(index_names("events"),
            "events_actor_exe events_actor_uid events_chain events_detected "
            "events_group_time events_host_time events_path_time events_pkey");
  EXPECT_EQ(index_names("events_y2026m02"),
            "events_y2026m02_actor_exe_detected_ns_id_idx "
            "events_y2026m02_actor_uid_detected_ns_id_idx "
            "events_y2026m02_detected_ns_id_idx events_y2026m02_grp_detected_ns_id_idx "
            "events_y2026m02_host_id_chain_seq_idx events_y2026m02_host_id_detected_ns_id_idx "
            "events_y2026m02_path_detected_ns_id_idx events_y2026m02_pkey");
  EXPECT_EQ(Sql("SELECT count(*) FROM events"), (Rows{{"40"}}));

  auto store = OpenPgStore(url_);
  ASSERT_TRUE(store.ok()) << store.status().message();
  DriftQuery q;
  q.host = "h1";
  q.page.limit = 100;
  auto h1 = (*store)->QueryDrift(q);
  ASSERT_TRUE(h1.ok()) << h1.status().message();
  ASSERT_EQ(h1->size(), 20u);
  EXPECT_EQ(h1->front().detected_ns, kFeb2026 + 40 * 1000);  // newest first
  q = DriftQuery();
  q.group = "db";
  q.min_severity = Severity::kHigh;
  auto db = (*store)->QueryDrift(q);
  ASSERT_TRUE(db.ok()) << db.status().message();
  EXPECT_EQ(db->size(), 10u);  // g even and 1 + g % 4 >= 3: g % 4 == 2
  EventPageQuery page;
  page.limit = 100;
  auto path = (*store)->PathHistory("/etc/f3", page);
  ASSERT_TRUE(path.ok()) << path.status().message();
  EXPECT_EQ(path->size(), 8u);
  // A version 11 database migrated twice is left as it is.
  auto again = MigratePgStore(url_);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(*again, 12);
}

TEST_F(PgStoreTest, ConcurrentMigrationsApplyOnce) {
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<int> before;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto m = MigratePgStore(url_);
      std::lock_guard<std::mutex> lock(mu);
      before.push_back(m.ok() ? *m : -1);
    });
  }
  for (auto& t : threads) t.join();
  std::sort(before.begin(), before.end());
  // One caller found the empty database. Each migration is its own
  // transaction, so the others saw any version from 1 to the newest
  // depending on which of them got the schema lock between them.
  ASSERT_EQ(before.size(), 4u);
  EXPECT_EQ(before[0], 0);
  for (size_t i = 1; i < before.size(); ++i) {
    EXPECT_TRUE(before[i] >= 1 && before[i] <= kPgSchemaVersion) << before[i];
  }
  EXPECT_EQ(Sql("SELECT component, version FROM schema_versions"), (Rows{{"collector-pg", "12"}}));
  EXPECT_EQ(Sql("SELECT count(*) FROM pg_class WHERE relname = 'host_inventory'"), (Rows{{"1"}}));
}

TEST_F(PgStoreTest, EventsArePartitionedByMonthAndRetentionDropsMonths) {
  auto store = MigrateAndOpen();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->EnrollHost("h", "", "1", "t", 1, "").ok());
  ASSERT_TRUE(store->IngestReport(Envelope("jan", "h", 2, kJan2026 + 5 * kDay), {}).ok());
  ASSERT_TRUE(store->IngestReport(Envelope("feb", "h", 3, kFeb2026 + 1), {}).ok());
  ASSERT_TRUE(store->IngestReport(Envelope("mar1", "h", 1, kMar2026 + 2 * kDay), {}).ok());
  ASSERT_TRUE(store->IngestReport(Envelope("mar2", "h", 2, kMar2026 + 20 * kDay), {}).ok());
  const std::string parts =
      "SELECT c.relname, (SELECT count(*) FROM events e WHERE e.tableoid = c.oid) "
      "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
      "WHERE i.inhparent = 'events'::regclass ORDER BY 1";
  EXPECT_EQ(Sql(parts),
            (Rows{{"events_y2026m01", "2"}, {"events_y2026m02", "3"}, {"events_y2026m03", "3"}}));

  // Cutoff mid-March: January and February go as whole partitions, March
  // loses its rows before the cutoff.
  auto n = store->PruneEvents(kMar2026 + 10 * kDay, 1000);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 6);
  EXPECT_EQ(Sql(parts), (Rows{{"events_y2026m03", "2"}}));
  EXPECT_EQ(store->Counts()->events, 2);
  auto left = store->QueryDrift(DriftQuery{});
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 2u);
  EXPECT_EQ((*left)[0].report_id, "mar2");

  // A late report for a dropped month recreates its partition.
  ASSERT_TRUE(store->IngestReport(Envelope("late", "h", 1, kJan2026 + 1), {}).ok());
  EXPECT_EQ(Sql(parts), (Rows{{"events_y2026m01", "1"}, {"events_y2026m03", "2"}}));
}

TEST_F(PgStoreTest, DriftQueryUsesIndexesForHostAndTime) {
  auto store = MigrateAndOpen();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->EnrollHost("h0", "", "1", "t", 1, "").ok());
  for (int64_t month : {kJan2026, kFeb2026, kMar2026}) {
    ASSERT_TRUE(
        store->IngestReport(Envelope("seed" + std::to_string(month), "h0", 1, month), {}).ok());
  }
  // 90,000 events: 200 hosts over three months.
  Sql("INSERT INTO events(report_seq, report_id, host_id, grp, path, kind, severity, "
      "detected_ns, received_ns, body) SELECT 1, 'seed', 'h' || (g % 200), 'web', "
      "'/etc/f' || g, 2, 2, " +
      std::to_string(kJan2026) + " + (g::bigint * " + std::to_string(90 * kDay / 90000) +
      "), 0, '{}' FROM generate_series(0, 89999) g");
  Sql("ANALYZE events");
  std::string plan;
  // The newest-first page, as /drift asks for it by default.
  for (const auto& row :
       Sql(std::string("PREPARE q AS ") + PgDriftQuerySql(false) +
           "; SET plan_cache_mode = force_custom_plan; "
           "EXPLAIN EXECUTE q('h7', NULL, NULL, NULL, NULL, " +
           std::to_string(kFeb2026 + kDay) + ", " + std::to_string(kFeb2026 + 8 * kDay) +
           ", 9223372036854775807, 9223372036854775807, 101, NULL, NULL, NULL, NULL, NULL)")) {
    plan += row[0] + "\n";
  }
  // The realtime filters: one executable's events come from its index.
  std::string by_exe;
  for (const auto& row :
       Sql(std::string("PREPARE q AS ") + PgDriftQuerySql(false) +
           "; SET plan_cache_mode = force_custom_plan; "
           "EXPLAIN EXECUTE q(NULL, NULL, NULL, NULL, NULL, " +
           std::to_string(kFeb2026 + kDay) + ", " + std::to_string(kFeb2026 + 8 * kDay) +
           ", 9223372036854775807, 9223372036854775807, 101, NULL, "
           "'/usr/bin/vim', NULL, NULL, NULL)")) {
    by_exe += row[0] + "\n";
  }
  EXPECT_NE(by_exe.find("actor_exe_detected_ns_id_idx"), std::string::npos) << by_exe;
  // (The horizon of ingests in flight, a handful of rows at most, may be
  // read whole: "Seq Scan on ingest_horizons".)
  EXPECT_EQ(by_exe.find("Seq Scan on events"), std::string::npos) << by_exe;
  EXPECT_TRUE(plan.find("Index Scan") != std::string::npos ||
              plan.find("Bitmap Index Scan") != std::string::npos)
      << plan;
  EXPECT_EQ(plan.find("Seq Scan on events"), std::string::npos) << plan;
  // Partition pruning: only February is read.
  EXPECT_NE(plan.find("events_y2026m02"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("events_y2026m01"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("events_y2026m03"), std::string::npos) << plan;

  // And the store's answer matches a direct count.
  DriftQuery q;
  q.host = "h7";
  q.since_ns = kFeb2026 + kDay;
  q.until_ns = kFeb2026 + 8 * kDay;
  q.page.limit = 1000;
  auto got = store->QueryDrift(q);
  ASSERT_TRUE(got.ok()) << got.status().message();
  Rows expect =
      Sql("SELECT count(*) FROM events WHERE host_id = 'h7' AND detected_ns >= " +
          std::to_string(*q.since_ns) + " AND detected_ns < " + std::to_string(*q.until_ns));
  EXPECT_EQ(std::to_string(got->size()), expect[0][0]);
  EXPECT_GT(got->size(), 0u);
}

TEST_F(PgStoreTest, StoresSharingTheDatabaseStoreReportsOnceAndHandOutCommandsOnce) {
  auto a = MigrateAndOpen(3);
  auto b = MigrateAndOpen(3);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->EnrollHost("h", "", "1", "t", 1, "").ok());
  // Every report is sent to both stores from several threads at once.
  constexpr int kReports = 40;
  std::vector<std::thread> threads;
  std::mutex mu;
  int fresh = 0, dup = 0, failed = 0;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      FleetStore& s = t % 2 ? *a : *b;
      for (int i = 0; i < kReports; ++i) {
        auto r = s.IngestReport(Envelope("r" + std::to_string(i), "h", 2, kJan2026 + i), {});
        std::lock_guard<std::mutex> lock(mu);
        if (!r.ok()) {
          ++failed;
        } else {
          ++(r->duplicate ? dup : fresh);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(fresh, kReports);
  EXPECT_EQ(dup, 3 * kReports);
  EXPECT_EQ(a->Counts()->reports, kReports);
  EXPECT_EQ(b->Counts()->events, 2 * kReports);
  EXPECT_EQ(b->GetHost("h")->reports, kReports);
  // Ids follow commit order: each report's events are consecutive.
  EXPECT_EQ(Sql("SELECT count(*) FROM (SELECT report_id, max(id) - min(id) AS span FROM events "
                "GROUP BY report_id) s WHERE span = 1"),
            (Rows{{std::to_string(kReports)}}));
  EXPECT_EQ(Sql("SELECT min(id), max(id) FROM events"),
            (Rows{{"1", std::to_string(2 * kReports)}}));

  constexpr int kCommands = 120;
  for (int i = 0; i < kCommands; ++i) ASSERT_TRUE(a->QueueCommand("h", "check-now", i).ok());
  std::vector<int64_t> taken;
  threads.clear();
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      FleetStore& s = t % 2 ? *a : *b;
      for (int round = 0; round < 50; ++round) {
        auto got = s.TakeCommands("h", 1000 + round);
        if (!got.ok()) continue;
        std::lock_guard<std::mutex> lock(mu);
        for (const CommandRecord& c : *got) taken.push_back(c.id);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::sort(taken.begin(), taken.end());
  std::vector<int64_t> all(kCommands);
  for (int i = 0; i < kCommands; ++i) all[i] = i + 1;
  EXPECT_EQ(taken, all);  // each command exactly once
}

// Ingests waiting for a host's ingest lock (held here by "another
// collector") must not take every pooled connection: reads still answer.
TEST_F(PgStoreTest, ReadsAreServedWhileIngestsWaitForTheIngestLock) {
  auto store = MigrateAndOpen(2);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->EnrollHost("h", "", "1", "t", 1, "").ok());
  auto other = PgConn::Connect(url_, 5);
  ASSERT_TRUE(other.ok()) << other.status().message();
  auto tx = std::make_unique<PgTx>(**other);
  ASSERT_TRUE(tx->Begin().ok());
  ASSERT_TRUE(PgLockHostIngest(**other, "h").ok());

  std::vector<std::thread> ingests;
  std::atomic<int> stored{0};
  for (int i = 0; i < 3; ++i) {
    ingests.emplace_back([&, i] {
      if (store->IngestReport(Envelope("w" + std::to_string(i), "h", 1, kJan2026 + i), {}).ok()) {
        ++stored;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // they are all waiting now
  EXPECT_EQ(stored.load(), 0);
  auto reads = std::async(std::launch::async, [&] {
    DriftQuery q;
    return store->QueryDrift(q).ok() && store->GetHost("h").ok() && store->Counts().ok();
  });
  const bool answered = reads.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  EXPECT_TRUE(answered) << "reads blocked behind ingests waiting for the ingest lock";
  tx.reset();  // rolls back, releasing the lock
  for (auto& t : ingests) t.join();
  EXPECT_TRUE(reads.get());
  EXPECT_EQ(stored.load(), 3);
  EXPECT_EQ(store->Counts()->reports, 3);
}

}  // namespace
}  // namespace driftwatch::collector
