// End to end: the agent store's hash chain through the driftwatch binary.
// The store is kept by driftwatch (baseline, checks, an accept), then
// edited with the sqlite3 tool as an intruder with root would, and
// `driftwatch store verify` must name what was done (docs/integrity.md).
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/e2e/e2e_env.h"
#include "tests/testing/run.h"
#include "tests/testing/temp_tree.h"

// After gtest: cpprestsdk defines a U() macro that breaks gtest templates.
#include <cpprest/json.h>

namespace driftwatch {
namespace {

namespace tu = driftwatch::testutil;
using e2e::Bin;
using e2e::Rules;
using ::testing::HasSubstr;
using tu::Quote;
using tu::TempDir;
using tu::WriteFile;

class IntegrityE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "root";
    WriteFile(root_ + "/etc/passwd", "root:x:0:0\n");
    WriteFile(root_ + "/etc/hosts", "127.0.0.1 localhost\n");
    ASSERT_EQ(Dw("baseline create").exit_code, 0);
    ASSERT_EQ(Dw("check --quiet").exit_code, 0);
    WriteFile(root_ + "/etc/hosts", "127.0.0.1 localhost\n10.0.0.1 db\n");
    ASSERT_EQ(Dw("baseline accept default --path /etc/hosts --reason 'new db host'").exit_code, 0);
    WriteFile(root_ + "/etc/backdoor", "nc -l -p 4444 -e /bin/sh\n");
    ASSERT_EQ(Dw("check --quiet").exit_code, 1);  // the backdoor, found and recorded
  }
  tu::RunResult Dw(const std::string& args) {
    return tu::Run(Quote(Bin()) + " " + args + " --root " + Quote(root_) + " --rules " +
                   Quote(Rules()) + " --db " + Quote(db_) + " 2>&1");
  }
  tu::RunResult Verify(const std::string& extra = "") {
    return tu::Run(Quote(Bin()) + " store verify --db " + Quote(db_) + extra + " 2>&1");
  }
  // Edits the store with the sqlite3 tool.
  void Sqlite3(const std::string& sql) {
    const std::string script = dir_ / "edit.sql";
    WriteFile(script, sql);
    tu::RunResult r = tu::Run("sqlite3 -bail " + Quote(db_) + " < " + Quote(script) + " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }

  TempDir dir_;
  std::string root_;
  std::string db_ = dir_ / "state/agent.db";
};

TEST_F(IntegrityE2e, AStoreKeptByDriftwatchVerifiesClean) {
  tu::RunResult text = Verify();
  EXPECT_EQ(text.exit_code, 0) << text.out;
  EXPECT_THAT(text.out, HasSubstr(": chain of 4 record(s), head "));
  EXPECT_THAT(text.out, HasSubstr("2 baseline revision(s), 2 check(s), 0 restore(s)"));
  EXPECT_THAT(text.out, HasSubstr("checked: clean\n"));
  tu::RunResult json = Verify(" --format json");
  ASSERT_EQ(json.exit_code, 0) << json.out;
  web::json::value v = web::json::value::parse(json.out);
  EXPECT_TRUE(v.at("clean").as_bool());
  EXPECT_EQ(v.at("length").as_integer(), 4);
  EXPECT_EQ(v.at("head").as_string().size(), 64u);
  EXPECT_EQ(v.at("checked").at("checks").as_integer(), 2);
  EXPECT_EQ(v.at("findings").size(), 0u);
}

// (a) The backdoor accepted into the baseline by editing the database: the
// check's snapshot, which holds it, becomes revision 3. The next check is
// clean, store verify is not.
TEST_F(IntegrityE2e, ABackdoorAcceptedByEditingTheStoreIsFound) {
  Sqlite3(
      "INSERT INTO snapshots(kind, target, root_path, rules_hash, root, created_ns, files, dirs,"
      " others, files_hashed, bytes_hashed, duration_ns, warnings, subtrees, packages,"
      " rules_path, content_hash)"
      " SELECT 'baseline', target, root_path, rules_hash, root, created_ns, files, dirs, others,"
      " files_hashed, bytes_hashed, duration_ns, warnings, subtrees, packages, rules_path,"
      " content_hash FROM snapshots WHERE kind = 'check' ORDER BY id DESC LIMIT 1;\n"
      "INSERT INTO baselines(name, revision, snapshot_id, created_ns, author, reason)"
      " VALUES('default', 3, last_insert_rowid(), 1, 'root', 'routine');\n");
  EXPECT_EQ(Dw("check --quiet").exit_code, 0);
  tu::RunResult r = Verify();
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("baselines: baseline 'default' revision 3 (snapshot "));
  EXPECT_THAT(r.out, HasSubstr("by 'root') has no chain record: it was added outside driftwatch"));
  EXPECT_THAT(r.out, HasSubstr("1 finding(s) do not fit"));
}

// (b) The check that found the backdoor deleted from history.
TEST_F(IntegrityE2e, ADeletedCheckIsFound) {
  Sqlite3("DELETE FROM events; DELETE FROM checks WHERE id = (SELECT max(id) FROM checks);\n");
  tu::RunResult r = Verify();
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("seq 4 (check, "));
  EXPECT_THAT(r.out,
              HasSubstr("): check 2 is in the chain but not in the checks table (deleted?)"));
  tu::RunResult json = Verify(" --format json");
  ASSERT_EQ(json.exit_code, 1);
  web::json::value v = web::json::value::parse(json.out);
  EXPECT_FALSE(v.at("clean").as_bool());
  ASSERT_EQ(v.at("findings").size(), 1u);
  EXPECT_EQ(v.at("findings").at(0).at("seq").as_integer(), 4);
  EXPECT_EQ(v.at("findings").at(0).at("kind").as_string(), "check");
}

// The same deletion with the check's record removed too (the trigger
// dropped first): the gap in the chain is named.
TEST_F(IntegrityE2e, ADeletedChainRecordIsFound) {
  Sqlite3(
      "DROP TRIGGER chain_no_delete; DELETE FROM chain WHERE seq = 2;"
      " DELETE FROM checks WHERE id = 1;\n");
  tu::RunResult r = Verify();
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("seq 3 (accept, "));
  EXPECT_THAT(r.out, HasSubstr("): follows record 1: record(s) 2 are missing (deleted?)"));
}

TEST_F(IntegrityE2e, AnEditedAcceptIsFound) {
  Sqlite3(
      "DROP TRIGGER chain_no_update;"
      " UPDATE chain SET body = replace(body, 'new db host', 'routine') WHERE kind = 'accept';"
      " UPDATE baselines SET reason = 'routine' WHERE revision = 2;\n");
  tu::RunResult r = Verify();
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("seq 3 (accept, "));
  EXPECT_THAT(r.out, HasSubstr("this record, or the head before it, was changed"));
}

TEST_F(IntegrityE2e, AStoreThatCannotBeReadExitsTwo) {
  tu::RunResult r =
      tu::Run(Quote(Bin()) + " store verify --db " + Quote(dir_ / "nothing/agent.db") + " 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.out;
}

}  // namespace
}  // namespace driftwatch
