// db check and db recover on a real store whose pages were overwritten.
#include "report/store_repair.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "agent/check.h"
#include "agent/file_hash.h"
#include "agent/store.h"
#include "report/outbox.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::report {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testutil::TempDir;
using testutil::WriteFile;

constexpr const char* kRules = R"(version: 1
rules:
  - path: /etc/**
    check: content
    severity: high
)";

// Page numbers of `table`'s b-tree leaves, from SQLite's dbstat table.
std::vector<int64_t> LeafPages(const std::string& db_path, const std::string& table) {
  sqlite3* db = nullptr;
  std::vector<int64_t> out;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return out;
  sqlite3_stmt* q = nullptr;
  const std::string sql = "SELECT pageno FROM dbstat WHERE name = '" + table +
                          "' AND pagetype = 'leaf' ORDER BY pageno";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr) == SQLITE_OK) {
    while (sqlite3_step(q) == SQLITE_ROW) out.push_back(sqlite3_column_int64(q, 0));
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  return out;
}

// Overwrites page `page` (numbered from 1) of the file with garbage.
void Clobber(const std::string& path, int64_t page, int page_size = 4096) {
  const int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  std::string junk(static_cast<size_t>(page_size), '\0');
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>(i * 31 + 7);
  ASSERT_EQ(::pwrite(fd, junk.data(), junk.size(), (page - 1) * page_size),
            static_cast<ssize_t>(junk.size()));
  ::close(fd);
}

// The first column of every row of `sql` on the store at `db_path`, as
// text; an empty list when the query fails.
std::vector<std::string> Query(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::vector<std::string> out;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* q = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr) == SQLITE_OK) {
      int rc;
      while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const unsigned char* t = sqlite3_column_text(q, 0);
        out.push_back(t ? reinterpret_cast<const char*>(t) : "");
      }
      if (rc != SQLITE_DONE) out.clear();
    }
    sqlite3_finalize(q);
  }
  sqlite3_close(db);
  return out;
}

std::map<std::string, TableRecovery> ByTable(const StoreRecovery& r) {
  std::map<std::string, TableRecovery> out;
  for (const TableRecovery& t : r.tables) out[t.table] = t;
  return out;
}

class StoreRepairTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_ / "rules.yaml", kRules);
    for (int i = 0; i < 300; ++i) WriteFile(Etc(i), "v0 " + std::to_string(i) + "\n");
    options_.host = &DefaultHost();
    options_.db_path = db_;
    options_.rules_path = dir_ / "rules.yaml";
    options_.root = dir_ / "root";
    options_.jobs = 1;
    ASSERT_TRUE(agent::CreateBaseline(options_, "test", "first").ok());
    // Four checks of 300 modified files each: events over many pages.
    for (int round = 1; round <= 4; ++round) {
      for (int i = 0; i < 300; ++i) {
        WriteFile(Etc(i), "v" + std::to_string(round) + " " + std::to_string(i) + "\n");
      }
      auto r = agent::RunCheck(options_);
      ASSERT_TRUE(r.ok()) << r.status().message();
      ASSERT_EQ(r->events.size(), 300u);
    }
    auto outbox = Outbox::Open(db_);
    ASSERT_TRUE(outbox.ok());
    ASSERT_TRUE(
        (*outbox)->SaveEnrollment(Enrollment{"http://127.0.0.1:1", "web-1", "tok", "", ""}).ok());
  }
  std::string Etc(int i) { return dir_ / ("root/etc/f" + std::to_string(i) + ".conf"); }

  TempDir dir_;
  std::string db_ = dir_ / "state/agent.db";
  agent::CheckOptions options_;
};

TEST_F(StoreRepairTest, SoundStorePasses) {
  auto check = CheckAgentStore(DefaultHost(), db_);
  ASSERT_TRUE(check.ok()) << check.status().message();
  EXPECT_THAT(check->problems, IsEmpty());
  EXPECT_EQ(check->checked.size(), 4u);
}

TEST_F(StoreRepairTest, OverwrittenPagesAreFoundAndRecoveryKeepsTheBaseline) {
  std::vector<int64_t> leaves = LeafPages(db_, "events");
  ASSERT_GT(leaves.size(), 10u);
  const std::vector<std::string> events = Query(db_, "SELECT count(*) FROM events");
  const std::vector<std::string> on_damaged =
      Query(db_, "SELECT sum(ncell) FROM dbstat WHERE pageno IN (" + std::to_string(leaves[3]) +
                     ", " + std::to_string(leaves[leaves.size() / 2]) + ")");
  ASSERT_EQ(events.size(), 1u);
  ASSERT_EQ(on_damaged.size(), 1u);
  Clobber(db_, leaves[3]);
  Clobber(db_, leaves[leaves.size() / 2]);

  auto check = CheckAgentStore(DefaultHost(), db_);
  ASSERT_TRUE(check.ok()) << check.status().message();
  EXPECT_THAT(check->problems, Not(IsEmpty()));

  auto recovered = RecoverAgentStore(DefaultHost(), db_);
  ASSERT_TRUE(recovered.ok()) << recovered.status().message();
  EXPECT_THAT(recovered->damaged_copy, HasSubstr("agent.db.damaged-"));
  EXPECT_EQ(::access(recovered->damaged_copy.c_str(), F_OK), 0);
  std::map<std::string, TableRecovery> by_table = ByTable(*recovered);
  // Two leaves of events lost, every other row kept.
  EXPECT_EQ(by_table["events"].kept, std::stoll(events[0]) - std::stoll(on_damaged[0]));
  EXPECT_EQ(by_table["events"].lost_ranges.size(), 2u);
  EXPECT_EQ(by_table["baselines"].kept, 1);
  EXPECT_EQ(by_table["checks"].kept, 4);
  EXPECT_EQ(by_table["report_state"].kept, 5);
  EXPECT_THAT(by_table["trees"].lost_ranges, IsEmpty());

  auto again = CheckAgentStore(DefaultHost(), db_);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_THAT(again->problems, IsEmpty());
  // The baseline still works: a check against it finds the 300 changes.
  auto r = agent::RunCheck(options_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->events.size(), 300u);
  EXPECT_EQ(r->baseline_revision, 1);
  auto outbox = Outbox::Open(db_);
  ASSERT_TRUE(outbox.ok());
  auto e = (*outbox)->LoadEnrollment();
  ASSERT_TRUE(e.ok() && e->has_value());
  EXPECT_EQ((*e)->host_id, "web-1");
}

// A baseline of `dirs` directories of one file each: a store without the
// outbox's tables and with a tree row per directory.
agent::CheckOptions BaselineOnlyStore(const TempDir& dir, int dirs) {
  WriteFile(dir / "rules.yaml", kRules);
  for (int i = 0; i < dirs; ++i) {
    WriteFile(dir / ("root/etc/d" + std::to_string(i) + "/f.conf"), std::to_string(i) + "\n");
  }
  agent::CheckOptions options;
  options.host = &DefaultHost();
  options.db_path = dir / "state/agent.db";
  options.rules_path = dir / "rules.yaml";
  options.root = dir / "root";
  options.jobs = 1;
  auto b = agent::CreateBaseline(options, "test", "first");
  EXPECT_TRUE(b.ok()) << b.status().message();
  // Into the main file, where the pages are overwritten.
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(options.db_path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  return options;
}

TEST(StoreRecoverTreesTest, ADamagedTreesLeafLosesOnlyItsRowsAndRecoveryGoesOn) {
  TempDir dir;
  const agent::CheckOptions options = BaselineOnlyStore(dir, 600);
  const std::string db = options.db_path;
  std::vector<int64_t> leaves = LeafPages(db, "trees");
  ASSERT_GE(leaves.size(), 4u);
  const std::vector<std::string> root =
      Query(db, "SELECT hex(s.root) FROM baselines b JOIN snapshots s ON s.id = b.snapshot_id");
  ASSERT_EQ(root.size(), 1u);
  // A leaf in the middle that does not hold the baseline's root tree (its
  // loss would be a problem db check rightly reports): tried on a copy.
  const std::string trial = dir / "trial.db";
  int64_t victim = 0;
  for (size_t i = leaves.size() / 2; i + 1 < leaves.size() && victim == 0; ++i) {
    std::filesystem::copy_file(db, trial, std::filesystem::copy_options::overwrite_existing);
    Clobber(trial, leaves[i]);
    if (Query(trial, "SELECT 1 FROM trees WHERE id = x'" + root[0] + "'").size() == 1) {
      victim = leaves[i];
    }
  }
  ASSERT_NE(victim, 0);
  const std::vector<std::string> total = Query(db, "SELECT count(*) FROM trees");
  const std::vector<std::string> on_victim =
      Query(db, "SELECT ncell FROM dbstat WHERE pageno = " + std::to_string(victim));
  ASSERT_EQ(total.size(), 1u);
  ASSERT_EQ(on_victim.size(), 1u);
  ASSERT_GT(std::stoll(on_victim[0]), 0);
  Clobber(db, victim);
  ASSERT_THAT(Query(db, "SELECT count(*) FROM trees"), IsEmpty());  // unreadable now

  auto recovered = RecoverAgentStore(DefaultHost(), db);
  ASSERT_TRUE(recovered.ok()) << recovered.status().message();
  std::map<std::string, TableRecovery> by_table = ByTable(*recovered);
  const TableRecovery& trees = by_table["trees"];
  EXPECT_EQ(trees.note, "");
  EXPECT_EQ(trees.kept, std::stoll(total[0]) - std::stoll(on_victim[0]));
  ASSERT_EQ(trees.lost_ranges.size(), 1u);
  EXPECT_THAT(trees.lost_ranges[0], Not(HasSubstr("not read")));
  EXPECT_EQ(by_table["baselines"].kept, 1);
  EXPECT_EQ(by_table["snapshots"].kept, 1);
  EXPECT_NE(::access((db + ".recovering").c_str(), F_OK), 0);

  auto check = CheckAgentStore(DefaultHost(), db);
  ASSERT_TRUE(check.ok()) << check.status().message();
  EXPECT_THAT(check->problems, IsEmpty());
}

TEST(StoreRecoverTreesTest, WhenTheReadsRunOutWhatWasNotReadIsReportedLost) {
  TempDir dir;
  const agent::CheckOptions options = BaselineOnlyStore(dir, 600);
  const std::string db = options.db_path;
  std::vector<int64_t> leaves = LeafPages(db, "trees");
  ASSERT_GE(leaves.size(), 4u);
  const std::vector<std::string> total = Query(db, "SELECT count(*) FROM trees");
  ASSERT_EQ(total.size(), 1u);
  Clobber(db, leaves[leaves.size() / 2]);

  auto recovered = RecoverAgentStore(DefaultHost(), db, /*max_reads_per_table=*/20);
  ASSERT_TRUE(recovered.ok()) << recovered.status().message();
  std::map<std::string, TableRecovery> by_table = ByTable(*recovered);
  const TableRecovery& trees = by_table["trees"];
  EXPECT_EQ(trees.note, "stopped after 20 reads");
  ASSERT_THAT(trees.lost_ranges, Not(IsEmpty()));
  // Everything from where the reads stopped to the last possible id.
  EXPECT_THAT(trees.lost_ranges.back(), HasSubstr(".." + std::string(32, 'f') + " (not read)"));
  EXPECT_GT(trees.kept, 0);
  EXPECT_LT(trees.kept, std::stoll(total[0]));
  // The other tables read whole within their own budget.
  EXPECT_EQ(by_table["snapshots"].kept, 1);
  EXPECT_EQ(by_table["baselines"].kept, 1);
  EXPECT_THAT(by_table["baselines"].lost_ranges, IsEmpty());
}

TEST(StoreRecoverTreesTest, AStoreNeverEnrolledIsRecoveredWithoutTheOutboxTables) {
  TempDir dir;
  const agent::CheckOptions options = BaselineOnlyStore(dir, 3);
  const std::string db = options.db_path;
  ASSERT_THAT(Query(db, "SELECT name FROM sqlite_master WHERE name LIKE 'report%'"), IsEmpty());
  const std::vector<std::string> trees = Query(db, "SELECT count(*) FROM trees");
  ASSERT_EQ(trees.size(), 1u);

  auto recovered = RecoverAgentStore(DefaultHost(), db);
  ASSERT_TRUE(recovered.ok()) << recovered.status().message();
  std::map<std::string, TableRecovery> by_table = ByTable(*recovered);
  EXPECT_EQ(by_table["baselines"].kept, 1);
  EXPECT_EQ(by_table["trees"].kept, std::stoll(trees[0]));
  EXPECT_THAT(by_table["trees"].lost_ranges, IsEmpty());
  for (const char* table : {"report_state", "report_outbox"}) {
    EXPECT_THAT(by_table[table].note, HasSubstr("not in the damaged store")) << table;
    EXPECT_EQ(by_table[table].kept, 0) << table;
  }
  EXPECT_NE(::access((db + ".recovering").c_str(), F_OK), 0);
  auto check = CheckAgentStore(DefaultHost(), db);
  ASSERT_TRUE(check.ok()) << check.status().message();
  EXPECT_THAT(check->problems, IsEmpty());
}

TEST_F(StoreRepairTest, AFailedRecoveryLeavesTheStoreAndNoNewFile) {
  Clobber(db_, 1);
  auto recovered = RecoverAgentStore(DefaultHost(), db_);
  ASSERT_FALSE(recovered.ok());
  EXPECT_EQ(::access(db_.c_str(), F_OK), 0);
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    EXPECT_NE(::access((db_ + ".recovering" + suffix).c_str(), F_OK), 0) << suffix;
  }
}

TEST_F(StoreRepairTest, ARuinedHeaderIsAProblemNotACrash) {
  Clobber(db_, 1);
  auto check = CheckAgentStore(DefaultHost(), db_);
  ASSERT_TRUE(check.ok()) << check.status().message();
  ASSERT_THAT(check->problems, Not(IsEmpty()));
  EXPECT_THAT(check->problems[0], HasSubstr("not a database"));
}

TEST_F(StoreRepairTest, NoStoreIsAnError) {
  auto check = CheckAgentStore(DefaultHost(), dir_ / "none/agent.db");
  ASSERT_FALSE(check.ok());
  EXPECT_EQ(check.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace driftwatch::report

namespace driftwatch::report {
namespace {

// Kept content and xattr sets come through a recovery.
TEST(StoreRecoverContentTest, BlobsAndXattrSetsAreCopied) {
  testutil::TempDir dir;
  const std::string db = dir / "agent.db";
  const std::string raw = "kept through a recovery\n";
  const std::vector<Xattr> xattrs = {{"user.a", "1"}};
  const Hash128 xd = agent::XattrDigest(xattrs);
  {
    auto store = agent::Store::Open(DefaultHost(), db);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->PutContent(Hasher::Of(HashAlgo::kXxh128, raw), raw).ok());
    ASSERT_TRUE((*store)->PutXattrs(xd, xattrs).ok());
  }
  auto recovered = RecoverAgentStore(DefaultHost(), db);
  ASSERT_TRUE(recovered.ok()) << recovered.status().message();
  int64_t blobs = -1, sets = -1;
  for (const TableRecovery& t : recovered->tables) {
    if (t.table == "blobs") blobs = t.kept;
    if (t.table == "xattr_sets") sets = t.kept;
  }
  EXPECT_EQ(blobs, 1);
  EXPECT_EQ(sets, 1);
  auto store = agent::Store::Open(DefaultHost(), db);
  ASSERT_TRUE(store.ok());
  auto back = (*store)->GetContent(Hasher::Of(HashAlgo::kXxh128, raw));
  ASSERT_TRUE(back.ok() && back->has_value()) << back.status().message();
  EXPECT_EQ(**back, raw);
  auto set = (*store)->GetXattrs(xd);
  ASSERT_TRUE(set.ok() && set->has_value());
  EXPECT_EQ((*set)->size(), 1u);
}

}  // namespace
}  // namespace driftwatch::report
