// A full disk under the collector's PostgreSQL database (docs/reliability.md,
// "Faults"), the counterpart of the SQLite case in
// tests/collector/reliability_it_test.cc, through the real collector and the
// agent's reporting code:
//  - the database in a tablespace on a small full tmpfs, the write-ahead log
//    in the cluster's own directory: ingest answers 503 with a JSON error
//    that says nothing was stored (SQLSTATE 53100), no row of the report is
//    stored, the agent's outbox keeps it, reads keep working, and once space
//    returns it is stored exactly once and in order;
//  - the whole data directory, pg_wal included, on the full tmpfs: the
//    server PANICs; the collector answers 503 while the server is down and,
//    once there is room and the server runs again, every report is stored
//    once.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <iostream>

#include "report/reporter.h"
#include "tests/collector/agent_outbox.h"
#include "tests/collector/harness.h"
#include "tests/hostile/agent_runner.h"
#include "tests/pg/pg_cluster.h"
#include "tests/testing/full_disk.h"

namespace driftwatch::collector_it {
namespace {

using pgtest::PgCluster;
using pgtest::Rows;
using report::Enrollment;
using report::Outbox;

constexpr int64_t kT0 = kNov1Ns;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The stored rows of every report, by SQL: "report_id events-column
// event-rows", in ingest order, and the severity counters' total.
Rows StoredReports(const PgCluster& cluster) {
  return cluster.Sql("fleet",
                     "SELECT r.report_id, r.events, (SELECT count(*) FROM events e WHERE "
                     "e.report_id = r.report_id) FROM reports r ORDER BY r.seq");
}
std::string CountedEvents(const PgCluster& cluster) {
  Rows r = cluster.Sql("fleet", "SELECT coalesce(sum(n), 0) FROM event_counts");
  return r.empty() ? "?" : r[0][0];
}

// A collector on `store` (migrated here) and one agent, host "full-1",
// enrolled with it; the agent's database is `agent_db`.
struct Fleet {
  Process collector;
  std::string url, read, log;
  Enrollment enrollment;
};

void StartFleet(const std::string& store, const TempDir& dir, const std::string& agent_db,
                Fleet* f) {
  auto cli = [&](const std::string& args) {
    return testutil::Run(Q(CollectorBin()) + " " + args + " 2>&1");
  };
  auto m = cli("migrate --store " + Q(store));
  ASSERT_EQ(m.exit_code, 0) << m.out;
  const std::string enroll = Trim(cli("token create --store " + Q(store) + " --role enroll").out);
  f->read = Trim(cli("token create --store " + Q(store) + " --role read").out);
  ASSERT_EQ(enroll.rfind("dw_", 0), 0u) << enroll;
  f->log = dir / "collector.log";
  f->url = f->collector.Start(
      {CollectorBin(), "--listen", "127.0.0.1:0", "--store", store, "--store-pool", "2"}, f->log);
  ASSERT_NE(f->url, "") << testutil::Run("cat " + Q(f->log)).out;

  // The agent enrolls and stores its enrollment, as `driftwatch enroll` does.
  Enrollment& e = f->enrollment;
  e.collector = f->url;
  e.host_id = "full-1";
  value b = value::object();
  b["host"] = value(e.host_id);
  b["group"] = value("");
  Answer a = Http("POST", f->url + "/api/v1/enroll", enroll, b.serialize());
  ASSERT_EQ(a.status, 201) << a.body;
  e.token = a.json().at("token").as_string();
  auto outbox = Outbox::Open(agent_db);
  ASSERT_TRUE(outbox.ok()) << outbox.status().message();
  ASSERT_TRUE((*outbox)->SaveEnrollment(e).ok());
}

// The three reports of the full-disk cases (10, 3,000 and 1 events) are
// stored once each, whole, in the order they were made: by SQL and through
// /drift, event ids ascending.
void ExpectStoredOnceInOrder(const PgCluster& cluster, const std::string& url,
                             const std::string& read, const std::vector<std::string>& ids) {
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(StoredReports(cluster),
            (Rows{{ids[0], "10", "10"}, {ids[1], "3000", "3000"}, {ids[2], "1", "1"}}));
  EXPECT_EQ(CountedEvents(cluster), "3011");
  const std::vector<value> events = AllDrift(url, read, "host=full-1");
  ASSERT_EQ(events.size(), 3011u);
  EXPECT_EQ(ReportIdsOf(events), ids);
  ExpectAscendingIds(events);
}

TEST(PgFullDiskTest, FullTablespaceIs503NothingStoredAndDeliveredOnceAfter) {
  const std::string skip = PgCluster::SkipReason();
  if (!skip.empty()) GTEST_SKIP() << skip << " (and mount -t tmpfs)";
  if (CollectorBin().empty()) GTEST_SKIP() << "DW_COLLECTOR_BIN not set (run through meson test)";
  // The server must start inside the namespace that holds the tmpfs; the
  // Tmpfs guard unmounts it in any case.
  (void)testutil::EnterPrivateMountNamespace();
  PgCluster cluster;
  ASSERT_EQ(cluster.Start(), "");
  TempDir dir;
  // Inside the cluster's directory, which the postgres user can reach.
  const std::string space = cluster.dir() + "/space";
  ASSERT_EQ(mkdir(space.c_str(), 0700), 0);
  // Bigger than the database PostgreSQL copies from template1 (about 8 MiB).
  testutil::Tmpfs tmpfs(space, "size=24m,mode=0700");
  ASSERT_TRUE(tmpfs.mounted()) << "mount tmpfs: " << tmpfs.error();
  ASSERT_EQ(testutil::Run("chown postgres: " + Q(space)).exit_code, 0);
  std::string err;
  cluster.Sql("postgres", "CREATE TABLESPACE small LOCATION '" + space + "'", &err);
  ASSERT_EQ(err, "");
  cluster.Sql("postgres", "CREATE DATABASE fleet TABLESPACE small", &err);
  ASSERT_EQ(err, "");
  const std::string store = cluster.Url("fleet");
  const std::string agent_db = dir / "agent.db";
  Fleet fleet;
  ASSERT_NO_FATAL_FAILURE(StartFleet(store, dir, agent_db, &fleet));
  const std::string& url = fleet.url;
  const std::string& read = fleet.read;
  const Enrollment& e = fleet.enrollment;

  std::string note;
  auto first = report::QueueAndDeliver(DefaultHost(), agent_db, Numbered("full-1", 0, 10), &note);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(note, "delivered 1 report(s)");

  const std::string filler = space + "/filler";
  ASSERT_GT(testutil::FillDisk(filler), 0);
  // Bigger than the free room left in the pages written so far, so the
  // tables and indexes must grow.
  auto second =
      report::QueueAndDeliver(DefaultHost(), agent_db, Numbered("full-1", 1, 3000), &note);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(note.rfind("delivered 0 report(s), 1 kept in the outbox (report: collector answered "
                       "503: postgresql: ",
                       0),
            0u)
      << note;
  EXPECT_NE(note.find("No space left on device"), std::string::npos) << note;
  EXPECT_NE(note.find("disk is full; nothing was stored"), std::string::npos) << note;
  std::cout << "[ message  ] " << note << "\n";

  // The API answer as any client sees it.
  const std::vector<report::QueuedReport> kept = PendingReports(agent_db);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].report_id, *second);
  EXPECT_EQ(kept[0].attempts, 1);
  const std::string body = report::StampReport(kept[0].body, "full-1", kT0);
  Answer a = Http("POST", url + "/api/v1/reports", e.token, body);
  EXPECT_EQ(a.status, 503) << a.body;
  value error = a.json();
  EXPECT_EQ(error.at("error").as_string(), "unavailable");
  EXPECT_NE(error.at("detail").as_string().find("nothing was stored"), std::string::npos) << a.body;

  // Nothing of the refused report is in the database, and the collector
  // still serves reads.
  EXPECT_EQ(StoredReports(cluster), (Rows{{*first, "10", "10"}}));
  EXPECT_EQ(CountedEvents(cluster), "10");
  Answer hosts = Http("GET", url + "/api/v1/hosts", read);
  ASSERT_EQ(hosts.status, 200) << hosts.body;
  const value hosts_json = hosts.json();
  ASSERT_EQ(hosts_json.at("hosts").as_array().size(), 1u);
  EXPECT_EQ(hosts_json.at("hosts").as_array().at(0).at("reports").as_integer(), 1);
  EXPECT_EQ(hosts_json.at("hosts").as_array().at(0).at("events").as_integer(), 10);
  EXPECT_EQ(AllDrift(url, read, "host=full-1").size(), 10u);

  // Space returns: the next delivery stores the kept report and a new one,
  // each once, in the order they were made.
  ASSERT_EQ(unlink(filler.c_str()), 0);
  auto third = report::QueueAndDeliver(DefaultHost(), agent_db, Numbered("full-1", 2, 1), &note);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(note, "delivered 2 report(s)");
  ExpectStoredOnceInOrder(cluster, url, read, {*first, *second, *third});
  // A resend of the refused-then-stored report is a duplicate.
  Answer again = Http("POST", url + "/api/v1/reports", e.token, body);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_TRUE(again.json().at("duplicate").as_bool());
  EXPECT_EQ(fleet.collector.Kill(SIGTERM), 0) << testutil::Run("cat " + Q(fleet.log)).out;
}

// The whole cluster, pg_wal included, on a small full tmpfs. PostgreSQL
// cannot go on without writing WAL and checkpoint files: the process that
// needs to write one PANICs, the postmaster ends every connection and runs
// crash recovery, which either brings the server back (and ingest gets
// 53100 again) or, when recovery finds no room either, stops the server for
// good. The collector answers 503 through all of it, keeps serving once the
// server is back, and after space returns (and `pg_ctl start` when the
// server stopped) every report is stored once.
TEST(PgFullDiskTest, FullDataDirectoryPanicsTheServerCollectorAnswers503ThenDeliversOnce) {
  const std::string skip = PgCluster::SkipReason();
  if (!skip.empty()) GTEST_SKIP() << skip << " (and mount -t tmpfs)";
  if (CollectorBin().empty()) GTEST_SKIP() << "DW_COLLECTOR_BIN not set (run through meson test)";
  (void)testutil::EnterPrivateMountNamespace();
  TempDir dir;
  ASSERT_EQ(chmod(dir.path().c_str(), 0711), 0);  // the postgres user goes through it
  const std::string disk = dir / "disk";
  ASSERT_EQ(mkdir(disk.c_str(), 0700), 0);
  // A fresh cluster takes about 40 MiB, 16 of them the first WAL segment.
  testutil::Tmpfs tmpfs(disk, "size=64m,mode=0700");
  ASSERT_TRUE(tmpfs.mounted()) << "mount tmpfs: " << tmpfs.error();
  ASSERT_EQ(testutil::Run("chown postgres: " + Q(disk)).exit_code, 0);
  PgCluster cluster;  // stopped before the tmpfs goes; its log stays off the tmpfs
  // The cluster keeps the test default synchronous_commit = off: the
  // collector's sessions commit durably regardless (pg_conn.cc). Without
  // that, the report acknowledged just before the crash was lost with the WAL
  // buffers while the agent had already deleted it.
  ASSERT_EQ(cluster.Start(disk + "/data"), "");
  const std::string store = cluster.NewDatabase("fleet");
  ASSERT_NE(store, "");
  const std::string agent_db = dir / "agent.db";
  Fleet fleet;
  ASSERT_NO_FATAL_FAILURE(StartFleet(store, dir, agent_db, &fleet));
  const std::string& url = fleet.url;
  const std::string& read = fleet.read;
  std::string note;
  auto first = report::QueueAndDeliver(DefaultHost(), agent_db, Numbered("full-1", 0, 10), &note);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(note, "delivered 1 report(s)");

  const std::string filler = disk + "/filler";
  ASSERT_GT(testutil::FillDisk(filler), 0);
  // A checkpoint writes new files in the data directory (and recycles WAL):
  // with no room left the checkpointer PANICs.
  std::string err;
  cluster.Sql("postgres", "CHECKPOINT", &err);
  EXPECT_NE(err, "");
  const std::string server_log = testutil::Run("cat " + Q(cluster.log())).out;
  EXPECT_NE(server_log.find("PANIC:"), std::string::npos) << server_log;
  // Crash recovery ends either way within seconds.
  bool back = false;
  ASSERT_TRUE(WaitFor(
      [&] {
        if (!cluster.Running()) return true;
        back = cluster.Sql("postgres", "SELECT 1") == Rows{{"1"}};
        return back;
      },
      30))
      << testutil::Run("cat " + Q(cluster.log())).out;
  std::cout << "[ server   ] after the PANIC: " << (back ? "recovered by itself" : "stopped")
            << "\n"
            << testutil::Run("grep -E 'PANIC|FATAL|startup process|ready to accept' " +
                             Q(cluster.log()) + " | cut -d' ' -f4-")
                   .out;

  // Disk still full: the report is refused with 503, whatever state the
  // server is in, and kept; the collector process stays up.
  auto second =
      report::QueueAndDeliver(DefaultHost(), agent_db, Numbered("full-1", 1, 3000), &note);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(note.rfind("delivered 0 report(s), 1 kept in the outbox (report: collector answered "
                       "503: postgresql: ",
                       0),
            0u)
      << note;
  std::cout << "[ message  ] " << note << "\n";
  const std::vector<report::QueuedReport> kept = PendingReports(agent_db);
  ASSERT_EQ(kept.size(), 1u);
  const std::string body = report::StampReport(kept[0].body, "full-1", kT0);
  for (int attempt = 0; attempt < 3; ++attempt) {  // every pooled connection, and a new one
    Answer a = Http("POST", url + "/api/v1/reports", fleet.enrollment.token, body);
    EXPECT_EQ(a.status, 503) << a.body;
    EXPECT_EQ(a.json().at("error").as_string(), "unavailable") << a.body;
  }
  Answer hosts = Http("GET", url + "/api/v1/hosts", read);
  if (back) {
    EXPECT_EQ(hosts.status, 200) << hosts.body;
  } else {
    EXPECT_EQ(hosts.status, 503) << hosts.body;
    EXPECT_EQ(hosts.json().at("error").as_string(), "unavailable") << hosts.body;
  }

  // Space returns; a stopped server is started again by the operator.
  ASSERT_EQ(unlink(filler.c_str()), 0);
  if (!cluster.Running()) {
    ASSERT_EQ(cluster.StartServer(), "");
  }
  auto third = report::QueueAndDeliver(DefaultHost(), agent_db, Numbered("full-1", 2, 1), &note);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(note, "delivered 2 report(s)");
  ExpectStoredOnceInOrder(cluster, url, read, {*first, *second, *third});
  Answer again = Http("POST", url + "/api/v1/reports", fleet.enrollment.token, body);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_TRUE(again.json().at("duplicate").as_bool());
  EXPECT_EQ(fleet.collector.Kill(SIGTERM), 0) << testutil::Run("cat " + Q(fleet.log)).out;
}

}  // namespace
}  // namespace driftwatch::collector_it
