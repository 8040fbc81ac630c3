// `driftwatch-collector migrate --from sqlite:///PATH --store postgresql://...`:
// a SQLite collector seeded through its API (reports over two months, a
// duplicate, host inventories, baseline revisions, queued commands incl. an
// accept, pending alerts) is copied into PostgreSQL; a
// collector on the copy answers every read exactly as the SQLite one does,
// accepts the same tokens, hands out the same commands and continues the
// id sequences. A second copy into the now non-empty database is refused.
#include <gtest/gtest.h>

#include "collector/pg_import.h"
#include "collector/pg_store.h"
#include "collector/sqlite_store.h"
#include "core/sqlite.h"
#include "tests/collector/harness.h"
#include "tests/pg/pg_cluster.h"
#include "tests/testing/container_row.h"
#include "tests/testing/tree_objects.h"

namespace driftwatch::collector_it {
namespace {

using pgtest::PgCluster;

constexpr int64_t kDay = 86400LL * 1000000000LL;
constexpr int64_t kOct30 = 1793318400LL * 1000000000LL;  // 2026-10-30T00:00:00Z
constexpr int64_t kNov1 = 1793491200LL * 1000000000LL;

// ReportJson plus an inventory: the agent's check interval, containers, and
// the host's packages (the full list, or only its digest when `list` is
// false). Reports from the 15th on are against baseline revision 2.
std::string InventoryReportJson(const std::string& report_id, const std::string& host,
                                const std::vector<DriftEvent>& events, int64_t finished_ns, int n,
                                bool list) {
  value v = value::parse(ReportJson(report_id, host, events, finished_ns));
  CheckResult r;
  r.interval_ns = int64_t{60 + n} * 1000000000;
  // web-1 and web-2 run the same nginx image; db-1 runs postgres.
  if (host == "db-1") {
    r.containers = std::vector<ContainerInfo>{
        testing::ContainerRow("pg", "c-db", "driftwatch", "postgres:16", "sha256:p16", true, 2)};
  } else {
    r.containers = std::vector<ContainerInfo>{
        testing::ContainerRow("web", "c-" + host, "driftwatch", "nginx:1.27", "sha256:n127",
                              n % 2 == 0, n % 3),
        testing::ContainerRow("docker:ab12", "ab12" + host, "docker", "", "", false, 0)};
  }
  PackageInventory pk;
  pk.list = {{"dpkg", "libc6", "2.36", "amd64"},
             {"dpkg", "openssl", "3.0." + std::to_string(n), "amd64"},
             {"dpkg", host, "1.0", ""}};
  pk.digest = HashBytes(PackageInventoryText(pk.list));
  pk.count = static_cast<int64_t>(pk.list.size());
  pk.full = list;
  if (!list) pk.list.clear();
  r.packages = pk;
  value inv = CheckResultToJson(r);
  for (const char* field : {"interval_seconds", "containers", "packages"}) v[field] = inv[field];
  if (n >= 15) {
    v["baseline_revision"] = value::number(2);
    v["baseline_root"] = value(HashBytes("revision 2 of " + host).Hex());
  }
  return v.serialize();
}

// Moves every "age_seconds" / "baseline_age_seconds" number of `v` into
// `ages` (document order) and leaves null in its place.
void TakeAges(value& v, std::vector<int64_t>* ages) {
  if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) TakeAges(v[i], ages);
  } else if (v.is_object()) {
    for (auto& [key, field] : v.as_object()) {
      if ((key == "age_seconds" || key == "baseline_age_seconds") && field.is_number()) {
        ages->push_back(field.as_number().to_int64());
        field = value::null();
      } else {
        TakeAges(field, ages);
      }
    }
  }
}

TEST(ImportTest, SqliteCollectorCopiedIntoPostgresAnswersTheSame) {
  std::string skip = PgCluster::SkipReason();
  if (!skip.empty()) GTEST_SKIP() << skip;
  if (CollectorBin().empty()) GTEST_SKIP() << "DW_COLLECTOR_BIN not set (run through meson test)";
  TempDir dir;
  // Alerts to a port nobody listens on stay pending (and are copied).
  WriteFile(dir / "collector.yaml",
            "version: 1\nalerts:\n  - name: ops\n    min_severity: critical\n    webhook: "
            "http://127.0.0.1:" +
                std::to_string(FreePort()) + "/hook\n");
  Collector lite(dir, dir / "collector.yaml");
  ASSERT_TRUE(lite.Start()) << testutil::Run("cat " + Q(lite.log())).out;
  const std::string read = lite.Token("read");
  const std::string admin = lite.Token("admin");
  const std::string enroll = lite.Token("enroll");
  const std::vector<std::string> hosts = {"web-1", "web-2", "db-1"};
  std::map<std::string, std::string> agent;
  for (const std::string& h : hosts) {
    agent[h] = lite.EnrollApi(enroll, h, h.substr(0, h.find('-')));
    ASSERT_FALSE(agent[h].empty()) << h;
  }
  // 30 reports, 7.2 h apart from 2026-10-30: two calendar months.
  const Severity sev[] = {Severity::kLow, Severity::kHigh, Severity::kCritical};
  int october = 0, november = 0;
  for (int n = 0; n < 30; ++n) {
    const std::string& h = hosts[n % 3];
    std::vector<DriftEvent> ev;
    for (int i = 0; i <= n % 4; ++i) {
      ev.push_back(
          Added("/etc/app" + std::to_string(i) + "/f" + std::to_string(n), sev[(n + i) % 3]));
    }
    if (n % 5 == 0) ev.push_back(Added("/etc/shared.conf", Severity::kHigh));
    const int64_t at = kOct30 + n * kDay / 10 * 3 + n;
    (at < kNov1 ? october : november) += static_cast<int>(ev.size());
    // The first report of a host sends its package list, later ones
    // the digest only (the list changes with n: the stored one is kept).
    Answer a = Http("POST", lite.url() + "/api/v1/reports", agent[h],
                    InventoryReportJson(Uuid(n), h, ev, at, n, n < 3));
    ASSERT_EQ(a.status, 200) << a.body;
  }
  Answer dup = Http("POST", lite.url() + "/api/v1/reports", agent["web-1"],
                    ReportJson(Uuid(0), "web-1", {Added("/etc/app0/f0")}, kOct30));
  ASSERT_EQ(dup.status, 200);
  EXPECT_TRUE(dup.json().at("duplicate").as_bool());
  auto q = testutil::Run(Q(CollectorBin()) + " baseline " + lite.StoreFlags() + " --group web");
  ASSERT_EQ(q.exit_code, 0) << q.out;
  value cmd = value::object();
  cmd["command"] = value("check-now");
  ASSERT_EQ(Http("POST", lite.url() + "/api/v1/hosts/db-1/commands", admin, cmd.serialize()).status,
            201);
  value accept = value::object();
  accept["paths"] = value::array({value("/etc/app0/f1"), value("/etc/shared.conf")});
  ASSERT_EQ(
      Http("POST", lite.url() + "/api/v1/hosts/web-2/accept", admin, accept.serialize()).status,
      201);
  ASSERT_EQ(lite.Stop(), 0);

  PgCluster cluster;
  ASSERT_EQ(cluster.Start(), "");
  const std::string url = cluster.NewDatabase("fleet");
  ASSERT_NE(url, "");
  auto cli = [&](const std::string& args) {
    return testutil::Run(Q(CollectorBin()) + " " + args + " 2>&1");
  };
  // Only sqlite -> postgresql, and only from a file that exists.
  auto r = cli("migrate --from " + Q(url) + " --store " + Q(url));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out,
            "driftwatch-collector: migrate --from copies a sqlite:/// database into a "
            "postgresql:// --store\n");
  r = cli("migrate --from sqlite://" + Q(dir / "missing.db") + " --store " + Q(url));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out,
            "postgresql store migrated from schema version 0 to 12\n"
            "driftwatch-collector: " +
                dir / "missing.db" + ": no such SQLite collector database\n");
  EXPECT_FALSE(testutil::Run("test -e " + Q(dir / "missing.db")).exit_code == 0);

  r = cli("migrate --from sqlite://" + Q(lite.db()) + " --store " + Q(url));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const pgtest::Rows alerts = cluster.Sql("fleet", "SELECT count(*) FROM alerts");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(r.out,
            "postgresql store already at schema version 12\n"
            "copied from " +
                lite.db() + ": 6 tokens, 3 hosts, 30 reports, " +
                std::to_string(october + november) + " events, 3 event_counts, 4 commands, " +
                alerts[0][0] +
                " alerts, 3 host_inventory, 9 host_packages, 5 host_containers, "
                "6 host_baselines, 3 host_report_status, 3 chain_hosts, 0 chain_records, "
                "0 chain_baselines, 0 integrity_alerts, 0 tree_objects, 0 host_trees, "
                "0 host_tree_history, 0 group_baselines\n");
  // Every fleet table of the schema is copied: one missing from the list
  // above would leave its rows behind. ingest_horizons holds no fleet data
  // (a row lives for one ingest).
  EXPECT_EQ(cluster.Sql("fleet",
                        "SELECT string_agg(relname, ' ' ORDER BY relname) FROM pg_class WHERE "
                        "relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') AND "
                        "NOT relispartition AND relname NOT IN ('schema_versions', "
                        "'ingest_horizons')"),
            (pgtest::Rows{{"alerts chain_baselines chain_hosts chain_records commands "
                           "event_counts events group_baselines host_baselines host_containers "
                           "host_inventory host_packages host_report_status host_tree_history "
                           "host_trees hosts integrity_alerts reports tokens tree_objects"}}));
  EXPECT_GT(std::stoi(alerts[0][0]), 0);
  // Events landed in the partitions of both months.
  EXPECT_EQ(
      cluster.Sql("fleet",
                  "SELECT tableoid::regclass::text, count(*) FROM events GROUP BY 1 ORDER BY 1"),
      (pgtest::Rows{{"events_y2026m10", std::to_string(october)},
                    {"events_y2026m11", std::to_string(november)}}));
  ASSERT_GT(october, 0);
  ASSERT_GT(november, 0);
  const int total = october + november;

  // Copying again would duplicate: refused, nothing changed.
  r = cli("migrate --from sqlite://" + Q(lite.db()) + " --store " + Q(url));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out,
            "postgresql store already at schema version 12\n"
            "driftwatch-collector: the target PostgreSQL store is not empty (6 row(s) in "
            "tokens); migrate --from copies into an empty database only\n");
  EXPECT_EQ(cluster.Sql("fleet", "SELECT count(*) FROM events"),
            (pgtest::Rows{{std::to_string(total)}}));

  ASSERT_TRUE(lite.Start()) << testutil::Run("cat " + Q(lite.log())).out;
  Process pg;
  const std::string pg_url = pg.Start({CollectorBin(), "--listen", "127.0.0.1:0", "--store", url,
                                       "--config", dir / "collector.yaml"},
                                      dir / "pg.log");
  ASSERT_NE(pg_url, "") << testutil::Run("cat " + Q(dir / "pg.log")).out;

  auto same = [&](const std::string& path) {
    Answer a = Http("GET", lite.url() + path, read);
    Answer b = Http("GET", pg_url + path, read);
    ASSERT_EQ(a.status, 200) << path << ": " << a.body;
    EXPECT_EQ(b.status, 200) << path << ": " << b.body;
    // Ages are counted from the moment of each request: the second one
    // may be a second older.
    value ja = a.json(), jb = b.json();
    std::vector<int64_t> ages_a, ages_b;
    TakeAges(ja, &ages_a);
    TakeAges(jb, &ages_b);
    ASSERT_EQ(ages_a.size(), ages_b.size()) << path;
    for (size_t i = 0; i < ages_a.size(); ++i) {
      EXPECT_GE(ages_b[i], ages_a[i]) << path;
      EXPECT_LE(ages_b[i], ages_a[i] + 5) << path;
    }
    EXPECT_EQ(jb, ja) << path << "\nsqlite:     " << a.body << "\npostgresql: " << b.body;
  };
  same("/api/v1/hosts");
  for (const std::string& h : hosts) same("/api/v1/hosts/" + h);
  same("/api/v1/fleet/summary");
  same("/api/v1/paths/history?path=/etc/shared.conf");
  same("/api/v1/drift?limit=1000");
  same("/api/v1/drift?group=web&severity=critical&limit=1000");
  same("/api/v1/drift?host=db-1&since=2026-11-01T00:00:00Z&limit=1000");
  same("/api/v1/drift?path=/etc/app1/*&limit=1000");
  // The inventories, baseline revisions and images.
  for (const std::string& h : hosts) {
    for (const char* what : {"packages", "containers", "baselines"}) {
      same("/api/v1/hosts/" + h + "/" + what);
    }
  }
  same("/api/v1/images");
  {
    // Not compared empty: the copy carries what the reports sent.
    value web2 = Http("GET", pg_url + "/api/v1/hosts/web-2", read).json();
    EXPECT_EQ(web2.at("interval_seconds").as_integer(), 60 + 28);
    // Its baseline command (group web), then the accept with its paths.
    ASSERT_EQ(web2.at("commands").size(), 2u) << web2.serialize();
    EXPECT_EQ(web2.at("commands")[1].at("paths"),
              value::array({value("/etc/app0/f1"), value("/etc/shared.conf")}));
    // db-1's list is the one of its first report (n = 2); later reports
    // sent a digest only.
    value pk = Http("GET", pg_url + "/api/v1/hosts/db-1/packages", read).json();
    ASSERT_EQ(pk.at("packages").size(), 3u) << pk.serialize();
    EXPECT_EQ(pk.at("packages")[1].at("version").as_string(), "3.0.2");
    value bl = Http("GET", pg_url + "/api/v1/hosts/db-1/baselines", read).json();
    ASSERT_EQ(bl.at("baselines").size(), 2u) << bl.serialize();
    EXPECT_EQ(bl.at("baselines")[0].at("root").as_string(), HashBytes("revision 2 of db-1").Hex());
    EXPECT_TRUE(bl.at("baselines")[0].at("current").as_bool());
    value img = Http("GET", pg_url + "/api/v1/images", read).json();
    EXPECT_EQ(img.at("distinct_images").as_integer(), 2) << img.serialize();
    EXPECT_EQ(
        Http("GET", pg_url + "/api/v1/hosts/web-1/containers", read).json().at("containers").size(),
        2u);
  }
  // Page by page: the same cursors on both.
  std::string cursor;
  size_t paged = 0;
  for (int pages = 0; pages < 100; ++pages) {
    const std::string path = "/api/v1/drift?limit=7" + (cursor.empty() ? "" : "&cursor=" + cursor);
    same(path);
    value v = Http("GET", pg_url + path, read).json();
    paged += v.at("events").size();
    if (v.at("next_cursor").is_null()) break;
    cursor = v.at("next_cursor").as_string();
  }
  EXPECT_EQ(paged, static_cast<size_t>(total));
  EXPECT_EQ(AllDrift(lite, read, "").size(), static_cast<size_t>(total));

  // Agent tokens and queued commands moved too: web-1 gets its baseline
  // command (same id) from the PostgreSQL collector.
  Answer cmds = Http("GET", pg_url + "/api/v1/agents/commands", agent["web-1"]);
  ASSERT_EQ(cmds.status, 200) << cmds.body;
  value list = cmds.json().at("commands");
  ASSERT_EQ(list.size(), 1u) << cmds.body;
  EXPECT_EQ(list[0].at("command").as_string(), "baseline");
  EXPECT_EQ(list[0].at("id").as_integer(), 1);
  // Ids continue after the copied ones.
  Answer next = Http("POST", pg_url + "/api/v1/reports", agent["db-1"],
                     ReportJson(Uuid(100), "db-1", {Added("/etc/new")}, kOct30 + 40 * kDay));
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_EQ(next.json().at("sequence").as_integer(), 31);
  EXPECT_EQ(next.json().at("first_event_id").as_integer(), total + 1);
  Answer again = Http("POST", pg_url + "/api/v1/reports", agent["web-2"],
                      ReportJson(Uuid(1), "web-2", {}, kOct30));
  EXPECT_TRUE(again.json().at("duplicate").as_bool()) << again.body;
  EXPECT_EQ(pg.Kill(SIGTERM), 0);
  EXPECT_EQ(lite.Stop(), 0);
}

// A row PostgreSQL refuses (bytes that are not UTF-8) half-way through the
// copy: the error names the table, and the target keeps no row of the
// tables copied before it; once fixed, the same copy succeeds, the fleet's
// trees with it, byte for byte.
TEST(ImportTest, AFailedCopyLeavesTheTargetEmpty) {
  std::string skip = PgCluster::SkipReason();
  if (!skip.empty()) GTEST_SKIP() << skip;
  TempDir dir;
  const std::string lite_path = dir / "collector.db";
  const collector::TreeObject leaf =
      testing::Dir({testing::FileEntry("sshd_config", "PermitRootLogin no\n")});
  const collector::TreeObject root = testing::Dir({testing::DirEntry("ssh", leaf)});
  collector::GroupBaseline baseline;
  baseline.group = "web";
  baseline.root = root.id;
  baseline.source = "host:web-1";
  baseline.by = "alice";
  baseline.why = "golden host";
  baseline.created_ns = kNov1;
  {
    auto lite = collector::OpenSqliteStore(lite_path);
    ASSERT_TRUE(lite.ok()) << lite.status().message();
    ASSERT_TRUE((*lite)->EnrollHost("web-1", "web", "1", "sha-web-1", 1, "").ok());
    collector::ReportEnvelope env;
    env.report_id = Uuid(1);
    env.host_id = "web-1";
    env.received_ns = kNov1;
    env.result.target = "web-1";
    env.result.finished_ns = kNov1;
    env.result.events = {Added("/etc/a")};
    env.events_json = {DriftEventToJson(env.result.events[0]).serialize()};
    ASSERT_TRUE((*lite)->IngestReport(env, {}).ok());
    ASSERT_TRUE((*lite)->QueueCommand("web-1", "baseline", 2).ok());
    collector::TreeStore& trees = (*lite)->trees();
    ASSERT_TRUE(trees.PutTrees({leaf, root}, kNov1).ok());
    ASSERT_TRUE(trees.SetHostTree({"web-1", leaf.id, kNov1, {}}).ok());
    ASSERT_TRUE(trees.SetHostTree({"web-1", root.id, kNov1 + 1, {"/etc/\xff"}}).ok());
    ASSERT_TRUE(trees.AddGroupBaseline(baseline).ok());
  }
  auto db = sqlite::Db::Open(lite_path, collector::SqliteStoreOptions());
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Exec("UPDATE commands SET detail = CAST(X'C328' AS TEXT)").ok());

  PgCluster cluster;
  ASSERT_EQ(cluster.Start(), "");
  const std::string url = cluster.NewDatabase("fleet");
  ASSERT_NE(url, "");
  ASSERT_TRUE(collector::MigratePgStore(url).ok());
  auto copied = collector::ImportSqliteIntoPg(lite_path, url);
  ASSERT_FALSE(copied.ok());
  EXPECT_EQ(copied.status().message().rfind("copying commands: ", 0), 0u)
      << copied.status().message();
  EXPECT_EQ(cluster.Sql("fleet",
                        "SELECT (SELECT count(*) FROM tokens), (SELECT count(*) FROM hosts), "
                        "(SELECT count(*) FROM reports), (SELECT count(*) FROM events), "
                        "(SELECT count(*) FROM commands)"),
            (pgtest::Rows{{"0", "0", "0", "0", "0"}}));

  ASSERT_TRUE((*db)->Exec("UPDATE commands SET detail = ''").ok());
  copied = collector::ImportSqliteIntoPg(lite_path, url);
  ASSERT_TRUE(copied.ok()) << copied.status().message();
  EXPECT_EQ(collector::FormatImportCounts(*copied),
            "1 tokens, 1 hosts, 1 reports, 1 events, 1 event_counts, 1 commands, 0 alerts, "
            "0 host_inventory, 0 host_packages, 0 host_containers, 0 host_baselines, "
            "1 host_report_status, 1 chain_hosts, 0 chain_records, 0 chain_baselines, "
            "0 integrity_alerts, 2 tree_objects, 1 host_trees, 1 host_tree_history, "
            "1 group_baselines");
  auto pg = collector::OpenPgStore(url);
  ASSERT_TRUE(pg.ok());
  auto events = (*pg)->QueryDrift(collector::DriftQuery{});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].report_id, Uuid(1));
  collector::TreeStore& trees = (*pg)->trees();
  auto data = trees.GetTrees({leaf.id, root.id});
  ASSERT_TRUE(data.ok()) << data.status().message();
  EXPECT_EQ((*data)[0], leaf.data);
  EXPECT_EQ((*data)[1], root.data);
  auto tree = trees.GetHostTree("web-1");
  ASSERT_TRUE(tree.ok() && tree->has_value());
  EXPECT_EQ((*tree)->root, root.id);
  EXPECT_EQ((*tree)->set_ns, kNov1 + 1);
  EXPECT_EQ((*tree)->host_specific, std::vector<std::string>{"/etc/\xff"});
  auto copied_baseline = trees.GetGroupBaseline("web", 1);
  ASSERT_TRUE(copied_baseline.ok() && copied_baseline->has_value());
  EXPECT_EQ((*copied_baseline)->root, root.id);
  EXPECT_EQ((*copied_baseline)->source, "host:web-1");
  EXPECT_EQ((*copied_baseline)->by, "alice");
  EXPECT_EQ((*copied_baseline)->why, "golden host");
  EXPECT_EQ((*copied_baseline)->created_ns, kNov1);
  // The history copied keeps the replaced root (and so its objects) alive.
  auto removed = trees.PruneTrees(kNov1);
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  EXPECT_EQ(*removed, 0);
}

// Realtime events keep their actor, transient flag and time in the copy:
// the actor filters answer on PostgreSQL as they did on SQLite.
TEST(ImportTest, RealtimeEventsKeepTheirActorColumns) {
  std::string skip = PgCluster::SkipReason();
  if (!skip.empty()) GTEST_SKIP() << skip;
  TempDir dir;
  const std::string lite_path = dir / "collector.db";
  {
    auto lite = collector::OpenSqliteStore(lite_path);
    ASSERT_TRUE(lite.ok()) << lite.status().message();
    ASSERT_TRUE((*lite)->EnrollHost("web-1", "web", "1", "sha-web-1", 1, "").ok());
    collector::ReportEnvelope env;
    env.report_id = Uuid(1);
    env.host_id = "web-1";
    env.received_ns = kNov1;
    env.result.target = "web-1";
    env.result.finished_ns = kNov1;
    env.result.source = "realtime";
    DriftEvent by_vim = Added("/etc/a");
    Actor vim;
    vim.pid = 4242;
    vim.exe = "/usr/bin/vim";
    vim.uid = 1000;
    by_vim.actor = vim;
    by_vim.time_ns = kNov1 - 5;
    by_vim.transient = true;
    env.result.events = {by_vim, Added("/etc/b")};
    for (const DriftEvent& e : env.result.events) {
      env.events_json.push_back(DriftEventToJson(e).serialize());
    }
    ASSERT_TRUE((*lite)->IngestReport(env, {}).ok());
  }
  PgCluster cluster;
  ASSERT_EQ(cluster.Start(), "");
  const std::string url = cluster.NewDatabase("fleet");
  ASSERT_NE(url, "");
  ASSERT_TRUE(collector::MigratePgStore(url).ok());
  auto copied = collector::ImportSqliteIntoPg(lite_path, url);
  ASSERT_TRUE(copied.ok()) << copied.status().message();
  EXPECT_EQ(cluster.Sql("fleet",
                        "SELECT path, coalesce(actor_exe, '-'), coalesce(actor_uid, -1), "
                        "transient, coalesce(event_ns, 0) FROM events ORDER BY id"),
            (pgtest::Rows{{"/etc/a", "/usr/bin/vim", "1000", "t", std::to_string(kNov1 - 5)},
                          {"/etc/b", "-", "-1", "f", "0"}}));
  auto pg = collector::OpenPgStore(url);
  ASSERT_TRUE(pg.ok());
  collector::DriftQuery q;
  q.actor_exe = "/usr/bin/vim";
  auto events = (*pg)->QueryDrift(q);
  ASSERT_TRUE(events.ok()) << events.status().message();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(web::json::value::parse((*events)[0].event_json).at("actor").at("exe").as_string(),
            "/usr/bin/vim");
}

}  // namespace
}  // namespace driftwatch::collector_it
