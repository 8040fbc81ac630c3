#include "collector/sqlite_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/drift_json.h"
#include "core/sqlite.h"

namespace driftwatch::collector {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dw_store_test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/c.db";
    auto s = OpenSqliteStore(path_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s).value();
    ASSERT_TRUE(store_->EnrollHost("h", "web", "1", "sha-h", 1, "").ok());
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  static ReportEnvelope Envelope(const std::string& id, std::vector<Severity> sevs, int64_t t) {
    ReportEnvelope env;
    env.report_id = id;
    env.host_id = "h";
    env.received_ns = t;
    env.result.target = "h";
    env.result.baseline = "default";
    env.result.finished_ns = t;
    for (size_t i = 0; i < sevs.size(); ++i) {
      DriftEvent e;
      e.path = "/etc/f" + std::to_string(i);
      e.kind = DriftKind::kAdded;
      e.severity = sevs[i];
      env.result.events.push_back(e);
      env.events_json.push_back(DriftEventToJson(e).serialize());
    }
    return env;
  }

  // Runs `sql` on the file through a connection of its own.
  static void ExecOn(const std::string& path, const char* sql) {
    auto db = sqlite::Db::Open(path);
    ASSERT_TRUE(db.ok()) << db.status().message();
    Status s = (*db)->Exec(sql);
    ASSERT_TRUE(s.ok()) << s.message();
  }

  std::string dir_, path_;
  std::unique_ptr<FleetStore> store_;
};

int ModeOf(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

// The database holds every token's hash: its files are the collector's
// alone, and a file other users may read is refused with the fix.
TEST_F(SqliteStoreTest, FilesArePrivateAndAnOpenFileIsRefused) {
  EXPECT_EQ(ModeOf(path_), 0600);
  EXPECT_EQ(ModeOf(path_ + "-wal"), 0600);
  EXPECT_EQ(ModeOf(path_ + "-shm"), 0600);
  auto nested = OpenSqliteStore(dir_ + "/new/c.db");
  ASSERT_TRUE(nested.ok()) << nested.status().message();
  EXPECT_EQ(ModeOf(dir_ + "/new"), 0700);
  EXPECT_EQ(ModeOf(dir_ + "/new/c.db"), 0600);
  nested->reset();

  store_.reset();
  ASSERT_EQ(chmod(path_.c_str(), 0644), 0);
  auto refused = OpenSqliteStore(path_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.status().message(),
            path_ +
                ": mode 0644 lets other users read the collector's database (its tokens' "
                "hashes and the fleet's data); refusing to open it. Fix: chmod 600 " +
                path_);
  ASSERT_EQ(chmod(path_.c_str(), 0600), 0);
  // The -wal file as a crashed collector of an older build left it.
  const int wal = open((path_ + "-wal").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(wal, 0);
  ASSERT_EQ(fchmod(wal, 0660), 0);
  close(wal);
  refused = OpenSqliteStore(path_);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("Fix: chmod 600 " + path_ + "-wal"), std::string::npos)
      << refused.status().message();
  ASSERT_EQ(chmod((path_ + "-wal").c_str(), 0600), 0);
  EXPECT_TRUE(OpenSqliteStore(path_).ok());
}

TEST_F(SqliteStoreTest, RefusesUnknownSchemaVersion) {
  store_.reset();
  ExecOn(path_, "UPDATE schema_versions SET version = 11 WHERE component = 'collector'");
  auto s = OpenSqliteStore(path_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(s.status().message(),
            path_ +
                ": collector store schema version 11 is not supported by this build (knows "
                "version 10); see docs/collector.md");
}

// A version 1 file (as written before host inventories existed) is upgraded
// in place: its rows stay, the new columns and tables appear.
TEST_F(SqliteStoreTest, UpgradesAVersion1File) {
  store_.reset();
  const std::string old = dir_ + "/v1.db";
  const char* kV1 = R"sql(
    CREATE TABLE schema_versions(component TEXT PRIMARY KEY, version INTEGER NOT NULL);
    INSERT INTO schema_versions VALUES('collector', 1);
    CREATE TABLE hosts(
      id TEXT PRIMARY KEY, grp TEXT NOT NULL DEFAULT '', agent_version TEXT NOT NULL DEFAULT '',
      target TEXT NOT NULL DEFAULT '', enrolled_ns INTEGER NOT NULL,
      last_seen_ns INTEGER NOT NULL DEFAULT 0, last_report_ns INTEGER NOT NULL DEFAULT 0,
      baseline TEXT NOT NULL DEFAULT '', baseline_revision INTEGER NOT NULL DEFAULT 0,
      baseline_since_ns INTEGER NOT NULL DEFAULT 0, root TEXT NOT NULL DEFAULT '',
      subtrees TEXT NOT NULL DEFAULT '{}', reports INTEGER NOT NULL DEFAULT 0,
      events INTEGER NOT NULL DEFAULT 0, last_report_events INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE commands(
      id INTEGER PRIMARY KEY, host_id TEXT NOT NULL, kind TEXT NOT NULL,
      created_ns INTEGER NOT NULL, handed_out_ns INTEGER NOT NULL DEFAULT 0,
      acked_ns INTEGER NOT NULL DEFAULT 0, ok INTEGER NOT NULL DEFAULT 0,
      detail TEXT NOT NULL DEFAULT '');
    INSERT INTO hosts(id, grp, enrolled_ns, baseline, baseline_revision) VALUES('old', 'db', 5, 'default', 3);
    INSERT INTO commands(host_id, kind, created_ns) VALUES('old', 'baseline', 6);
  )sql";
  ExecOn(old, kV1);
  ASSERT_EQ(chmod(old.c_str(), 0600), 0);  // as a collector created it
  auto s = OpenSqliteStore(old);
  ASSERT_TRUE(s.ok()) << s.status().message();
  auto h = (*s)->GetHost("old");
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->group, "db");
  EXPECT_EQ(h->baseline_revision, 3);
  EXPECT_EQ(h->interval_ns, 0);
  auto cmds = (*s)->ListCommands("old");
  ASSERT_TRUE(cmds.ok()) << cmds.status().message();
  ASSERT_EQ(cmds->size(), 1u);
  EXPECT_TRUE((*cmds)[0].paths.empty());
  ASSERT_TRUE((*s)->QueueAccept("old", {"/etc/x"}, 7).ok());
  EXPECT_EQ((*s)->ListCommands("old")->back().paths, std::vector<std::string>{"/etc/x"});
  EXPECT_TRUE((*s)->GetInventory("old").ok());
  s->reset();
  // Opened again: already at version 2, nothing to do.
  auto again = OpenSqliteStore(old);
  ASSERT_TRUE(again.ok()) << again.status().message();
  auto db = sqlite::Db::Open(old);
  ASSERT_TRUE(db.ok()) << db.status().message();
  auto q = (*db)->Prepare("SELECT version FROM schema_versions WHERE component = 'collector'");
  ASSERT_TRUE(q.ok()) << q.status().message();
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Int(0), kCollectorSchemaVersion);
}

TEST_F(SqliteStoreTest, AlertsQueuedOncePerEventAndRoute) {
  std::vector<AlertRoute> routes = {{"ops", Severity::kHigh, {}}, {"db", Severity::kLow, {"db"}}};
  auto r = store_->IngestReport(
      Envelope("r1", {Severity::kLow, Severity::kHigh, Severity::kCritical}, 100), routes);
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto again = store_->IngestReport(
      Envelope("r1", {Severity::kLow, Severity::kHigh, Severity::kCritical}, 200), routes);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->received_ns, 100);
  auto due = store_->DueAlerts(1000, 100);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[0].route, "ops");
  EXPECT_EQ((*due)[0].event_id, 2);
  EXPECT_EQ((*due)[1].event_id, 3);
  ASSERT_TRUE(store_->RescheduleAlert((*due)[0].id, 1, 5000, "refused").ok());
  ASSERT_TRUE(store_->MarkAlertDelivered((*due)[1].id, 1000).ok());
  EXPECT_EQ(store_->DueAlerts(1000, 100)->size(), 0u);
  EXPECT_EQ(store_->DueAlerts(5000, 100)->size(), 1u);
}

TEST_F(SqliteStoreTest, RetentionPrunesOldEventsAndCounts) {
  ASSERT_TRUE(
      store_->IngestReport(Envelope("r1", {Severity::kLow, Severity::kHigh}, 100), {}).ok());
  ASSERT_TRUE(store_->IngestReport(Envelope("r2", {Severity::kHigh}, 300), {}).ok());
  auto n = store_->PruneEvents(200, 1000);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 2);
  DriftQuery q;
  auto left = store_->QueryDrift(q);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].id, 3);
  auto sum = store_->Summary(300, 1000);
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->events_by_severity[0].second, 0);  // low
  EXPECT_EQ(sum->events_by_severity[2].second, 1);  // high
  EXPECT_EQ(store_->Counts()->events, 1);
}

TEST_F(SqliteStoreTest, UnknownHostStoresNothing) {
  ReportEnvelope env = Envelope("r9", {Severity::kLow}, 100);
  env.host_id = "ghost";
  auto r = store_->IngestReport(env, {});
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Counts()->reports, 0);
  EXPECT_EQ(store_->QueueCommand("ghost", "baseline", 1).status().code(), StatusCode::kNotFound);
}

// /healthz's check reads the file, not this connection's page cache: a
// file overwritten with garbage, replaced or removed under a running
// collector is reported, although the open connection still answers from
// its cache.
TEST_F(SqliteStoreTest, HealthCheckSeesTheFileNotTheCache) {
  ASSERT_TRUE(store_->CheckHealth().ok());
  ASSERT_TRUE(store_->Counts().ok());
  // Garbage over every page but the first (the header still looks valid),
  // once the write-ahead log is folded into the file.
  {
    ExecOn(path_, "PRAGMA wal_checkpoint(TRUNCATE)");
    FILE* f = std::fopen(path_.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fseek(f, 0, SEEK_END);
    const long size = std::ftell(f);
    std::string junk(static_cast<size_t>(size > 4096 ? size - 4096 : 0), '\x5a');
    std::fseek(f, 4096, SEEK_SET);
    std::fwrite(junk.data(), 1, junk.size(), f);
    std::fclose(f);
  }
  Status s = store_->CheckHealth();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("malformed"), std::string::npos) << s.message();
}

TEST_F(SqliteStoreTest, HealthCheckSeesTheFileReplacedOrRemoved) {
  ASSERT_EQ(
      std::system(("cp " + path_ + " " + path_ + ".new && mv " + path_ + ".new " + path_).c_str()),
      0);
  Status s = store_->CheckHealth();
  EXPECT_NE(s.message().find("replaced"), std::string::npos) << s.message();
  // The open connection still reads the old, unlinked file (what /healthz
  // asked before): only the check of the path sees it.
  EXPECT_TRUE(store_->Counts().ok());
  ASSERT_EQ(std::remove(path_.c_str()), 0);
  s = store_->CheckHealth();
  EXPECT_NE(s.message().find("No such file"), std::string::npos) << s.message();
}

// Version 3 adds enroll token limits: a version 2 file is upgraded in place
// when opened, and its tokens keep working without limits.
TEST_F(SqliteStoreTest, UpgradesVersion2TokensToUnlimited) {
  store_.reset();
  {
    auto db = sqlite::Db::Open(path_, SqliteStoreOptions());
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("ALTER TABLE tokens DROP COLUMN uses_left").ok());
    ASSERT_TRUE((*db)->Exec("ALTER TABLE tokens DROP COLUMN expires_ns").ok());
    ASSERT_TRUE((*db)->Exec("UPDATE schema_versions SET version = 2").ok());
    ASSERT_TRUE((*db)
                    ->Exec("INSERT INTO tokens(sha256, role, host_id, created_ns) "
                           "VALUES('old', 'enroll', '', 1)")
                    .ok());
  }
  auto s = OpenSqliteStore(path_);
  ASSERT_TRUE(s.ok()) << s.status().message();
  store_ = std::move(s).value();
  auto info = store_->LookupToken("old");
  ASSERT_TRUE(info.ok() && info->has_value());
  EXPECT_EQ((*info)->limits.uses_left, -1);
  EXPECT_EQ((*info)->limits.expires_ns, 0);
  EXPECT_TRUE(store_->EnrollHost("h2", "", "1", "sha-h2", 2, "old").ok());
  store_.reset();
  auto db = sqlite::Db::Open(path_, SqliteStoreOptions());
  ASSERT_TRUE(db.ok());
  auto q = (*db)->Prepare("SELECT version FROM schema_versions WHERE component = 'collector'");
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Int(0), kCollectorSchemaVersion);
  EXPECT_EQ(kCollectorSchemaVersion, 10);
}

// Version 8 adds the runtime identity of containers: a version 7 file keeps
// its container rows, read with no identity, and takes new ones whole.
TEST_F(SqliteStoreTest, UpgradesVersion7ContainersWithoutIdentity) {
  ASSERT_TRUE(store_->EnrollHost("h1", "", "1", "sha-h1", 1, "").ok());
  store_.reset();
  ExecOn(path_, R"sql(
    DROP INDEX host_containers_image; DROP INDEX host_containers_k8s;
    DROP TABLE host_containers;
    CREATE TABLE host_containers(
      host_id TEXT NOT NULL, pos INTEGER NOT NULL, name TEXT NOT NULL,
      container_id TEXT NOT NULL, runtime TEXT NOT NULL, image TEXT NOT NULL,
      image_digest TEXT NOT NULL, drift_known INTEGER NOT NULL, events INTEGER NOT NULL,
      PRIMARY KEY(host_id, pos));
    INSERT INTO host_containers VALUES('h1', 0, 'web', 'c1', 'driftwatch', 'nginx', 'd1', 1, 2);
    INSERT INTO host_inventory(host_id, containers_ns) VALUES('h1', 5);
    UPDATE schema_versions SET version = 7;
  )sql");
  auto s = OpenSqliteStore(path_);
  ASSERT_TRUE(s.ok()) << s.status().message();
  store_ = std::move(s).value();
  auto inv = store_->GetInventory("h1");
  ASSERT_TRUE(inv.ok()) << inv.status().message();
  ContainerInfo old;
  old.name = "web";
  old.id = "c1";
  old.runtime = "driftwatch";
  old.image = "nginx";
  old.image_digest = "d1";
  old.drift_known = true;
  old.events = 2;
  EXPECT_EQ(inv->containers, std::vector<ContainerInfo>{old});
  ContainerQuery q;
  q.image = "nginx";
  auto rows = store_->ListContainers(q);
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].host_id, "h1");
  EXPECT_EQ((*rows)[0].k8s_namespace, "");
  q.kubernetes_only = true;
  EXPECT_TRUE(store_->ListContainers(q)->empty());
}

// Version 4 adds token ids, revocation and last use, and the events'
// time-ordered indexes: a version 3 file is upgraded in place when opened,
// its tokens get their ids and keep working, unrevoked.
TEST_F(SqliteStoreTest, UpgradesVersion3TokensWithIdsUnrevoked) {
  ASSERT_TRUE(store_->AddToken("0123456789abcdef", Role::kEnroll, "", 2, TokenLimits{3, 0}).ok());
  store_.reset();
  ExecOn(path_, R"sql(
    DROP INDEX tokens_id; DROP INDEX tokens_host;
    DROP INDEX events_host_time; DROP INDEX events_group_time; DROP INDEX events_path_time;
    ALTER TABLE tokens DROP COLUMN id;
    ALTER TABLE tokens DROP COLUMN revoked_ns;
    ALTER TABLE tokens DROP COLUMN last_used_ns;
    UPDATE schema_versions SET version = 3;
  )sql");
  auto s = OpenSqliteStore(path_);
  ASSERT_TRUE(s.ok()) << s.status().message();
  store_ = std::move(s).value();
  auto tokens = store_->ListTokens();
  ASSERT_TRUE(tokens.ok()) << tokens.status().message();
  ASSERT_EQ(tokens->size(), 2u);
  EXPECT_EQ((*tokens)[0].id, "t_sha-h");  // the agent token of host h, enrolled at 1
  EXPECT_EQ((*tokens)[0].info.role, Role::kAgent);
  EXPECT_EQ((*tokens)[1].id, "t_0123456789ab");
  EXPECT_EQ((*tokens)[1].info.limits.uses_left, 3);
  EXPECT_EQ((*tokens)[1].info.revoked_ns, 0);
  EXPECT_EQ((*tokens)[1].info.last_used_ns, 0);
  EXPECT_TRUE(store_->EnrollHost("h2", "", "1", "sha-h2", 3, "0123456789abcdef").ok());
  store_.reset();
  auto db = sqlite::Db::Open(path_, SqliteStoreOptions());
  ASSERT_TRUE(db.ok());
  auto q = (*db)->Prepare(
      "SELECT (SELECT version FROM schema_versions WHERE component = 'collector'), "
      "(SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'index' "
      "AND name IN ('tokens_id', 'events_host_time', 'events_group_time', 'events_path_time') "
      "ORDER BY name))");
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Int(0), kCollectorSchemaVersion);
  EXPECT_EQ(q->Text(1), "events_group_time events_host_time events_path_time tokens_id");
}

// Version 5 adds the realtime columns of events (actor, actor_exe,
// actor_uid, transient, reverted_by, event_ns) and their indexes: a version
// 4 file is upgraded in place; its events read as events of a check.
TEST_F(SqliteStoreTest, UpgradesVersion4EventsWithoutActors) {
  ASSERT_TRUE(store_->IngestReport(Envelope("r1", {Severity::kHigh}, 10), {}).ok());
  store_.reset();
  ExecOn(path_, R"sql(
    DROP INDEX events_actor_exe; DROP INDEX events_actor_uid;
    ALTER TABLE events DROP COLUMN actor; ALTER TABLE events DROP COLUMN actor_exe;
    ALTER TABLE events DROP COLUMN actor_uid; ALTER TABLE events DROP COLUMN transient;
    ALTER TABLE events DROP COLUMN reverted_by; ALTER TABLE events DROP COLUMN event_ns;
    UPDATE schema_versions SET version = 4;
  )sql");
  auto s = OpenSqliteStore(path_);
  ASSERT_TRUE(s.ok()) << s.status().message();
  store_ = std::move(s).value();
  ReportEnvelope rt = Envelope("r2", {Severity::kLow}, 20);
  rt.result.source = "realtime";
  Actor vim;
  vim.pid = 4242;
  vim.exe = "/usr/bin/vim";
  vim.uid = 1000;
  rt.result.events[0].actor = vim;
  rt.result.events[0].transient = true;
  rt.events_json[0] = DriftEventToJson(rt.result.events[0]).serialize();
  ASSERT_TRUE(store_->IngestReport(rt, {}).ok());
  DriftQuery q;
  q.transient = false;
  auto old = store_->QueryDrift(q);
  ASSERT_TRUE(old.ok()) << old.status().message();
  ASSERT_EQ(old->size(), 1u);
  EXPECT_EQ((*old)[0].report_id, "r1");
  q.transient.reset();
  q.actor_exe = "/usr/bin/vim";
  q.actor_uid = 1000;
  auto by_actor = store_->QueryDrift(q);
  ASSERT_TRUE(by_actor.ok()) << by_actor.status().message();
  ASSERT_EQ(by_actor->size(), 1u);
  EXPECT_EQ((*by_actor)[0].report_id, "r2");
  store_.reset();
  auto db = sqlite::Db::Open(path_, SqliteStoreOptions());
  ASSERT_TRUE(db.ok());
  auto v = (*db)->Prepare(
      "SELECT (SELECT version FROM schema_versions WHERE component = 'collector'), "
      "(SELECT count(*) FROM sqlite_master WHERE type = 'index' "
      "AND name IN ('events_actor_exe', 'events_actor_uid'))");
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(*v->Step());
  EXPECT_EQ(v->Int(0), kCollectorSchemaVersion);
  EXPECT_EQ(v->Int(1), 2);
}

// Version 10 drops the events' (host_id | grp | path, id) indexes, which
// the time-ordered ones serve the same queries with: a version 9 file with
// events loses them when opened, keeps every other index and every event,
// and answers the same as before.
TEST_F(SqliteStoreTest, UpgradesVersion9DroppingTheRedundantEventIndexes) {
  ASSERT_TRUE(store_->EnrollHost("g", "db", "1", "sha-g", 1, "").ok());
  for (int i = 0; i < 4; ++i) {
    ReportEnvelope env =
        Envelope("r" + std::to_string(i), {Severity::kHigh, Severity::kLow}, 100 + i);
    if (i % 2) env.host_id = env.result.target = "g";
    ASSERT_TRUE(store_->IngestReport(env, {}).ok());
  }
  auto read = [&] {
    std::vector<std::string> out;
    auto add = [&](const std::string& tag, const Result<std::vector<EventRecord>>& events) {
      EXPECT_TRUE(events.ok()) << events.status().message();
      if (!events.ok()) return;
      for (const EventRecord& e : *events) out.push_back(tag + e.report_id);
    };
    for (const char* host : {"h", "g"}) {
      DriftQuery q;
      q.host = host;
      add("", store_->QueryDrift(q));
    }
    DriftQuery q;
    q.group = "db";
    q.min_severity = Severity::kHigh;
    add("db ", store_->QueryDrift(q));
    add("f1 ", store_->PathHistory("/etc/f1", EventPageQuery{}));
    return out;
  };
  const std::vector<std::string> before = read();
  ASSERT_EQ(before,
            (std::vector<std::string>{"r2", "r2", "r0", "r0", "r3", "r3", "r1", "r1", "db r3",
                                      "db r1", "f1 r3", "f1 r2", "f1 r1", "f1 r0"}));
  store_.reset();
  // The file as version 9 left it.
  ExecOn(path_, R"sql(
    CREATE INDEX events_host ON events(host_id, id);
    CREATE INDEX events_group ON events(grp, id);
    CREATE INDEX events_path ON events(path, id);
    UPDATE schema_versions SET version = 9;
  )sql");
  auto s = OpenSqliteStore(path_);
  ASSERT_TRUE(s.ok()) << s.status().message();
  store_ = std::move(s).value();
  EXPECT_EQ(read(), before);
  EXPECT_EQ(store_->Counts()->events, 8);
  store_.reset();
  auto db = sqlite::Db::Open(path_, SqliteStoreOptions());
  ASSERT_TRUE(db.ok());
  auto v = (*db)->Prepare(
      "SELECT (SELECT version FROM schema_versions WHERE component = 'collector'), "
      "(SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'index' "
      "AND tbl_name = 'events' ORDER BY name))");
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(*v->Step());
  EXPECT_EQ(v->Int(0), 10);
  EXPECT_EQ(v->Text(1),
            "events_actor_exe events_actor_uid events_chain events_detected events_group_time "
            "events_host_time events_path_time");
}

TEST_F(SqliteStoreTest, UpgradesVersion6EventsOutsideTheEventChain) {
  ASSERT_TRUE(
      store_->IngestReport(Envelope("r1", {Severity::kHigh, Severity::kLow}, 100), {}).ok());
  store_.reset();
  // The file as version 6 left it: no integrity columns or tables.
  ExecOn(path_,
         "DROP INDEX events_chain; ALTER TABLE events DROP COLUMN chain_seq; "
         "ALTER TABLE events DROP COLUMN chain_head; ALTER TABLE reports DROP COLUMN "
         "chain_answer; DROP TABLE chain_hosts; DROP TABLE chain_records; DROP TABLE "
         "chain_baselines; DROP TABLE integrity_alerts; UPDATE schema_versions SET version = 6");
  auto s = OpenSqliteStore(path_);
  ASSERT_TRUE(s.ok()) << s.status().message();
  store_ = std::move(s).value();
  // The old events are kept, outside the chain; new ones start it.
  ASSERT_TRUE(store_->IngestReport(Envelope("r2", {Severity::kHigh}, 200), {}).ok());
  auto c = store_->GetHostChain("h");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->events.length, 1);
  auto f = store_->VerifyEventChains("", {});
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_TRUE(f->empty()) << (*f)[0].detail;
  EXPECT_EQ(store_->Counts()->events, 3);
  // Pruning the old events leaves the anchor where it was.
  auto pruned = store_->PruneEvents(150, 100);
  ASSERT_TRUE(pruned.ok()) << pruned.status().message();
  EXPECT_EQ(*pruned, 2);
  EXPECT_EQ(store_->GetHostChain("h")->events.anchor_seq, 0);
  f = store_->VerifyEventChains("h", {});
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->empty());
}

}  // namespace
}  // namespace driftwatch::collector
