// End to end: the agent store as an operator meets it through the
// driftwatch binary: status, db check and db recover of a store whose
// pages were overwritten, and the reasons a store cannot be opened.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

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
using ::testing::Not;
using tu::Quote;
using tu::TempDir;
using tu::WriteFile;

// Runs SQL on the store with SQLite's own API; returns the first column of
// each row.
std::vector<std::string> Sql(const std::string& db_path, const std::string& sql) {
  std::vector<std::string> out;
  sqlite3* db = nullptr;
  if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) return {"open failed"};
  sqlite3_stmt* q = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr) == SQLITE_OK) {
    while (sqlite3_step(q) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(q, 0);
      out.push_back(t ? reinterpret_cast<const char*>(t) : "");
    }
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  return out;
}

class StoreE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "root";
    for (int i = 0; i < 200; ++i) WriteFile(Conf(i), "v0\n");
    ASSERT_EQ(Dw("baseline create").exit_code, 0);
  }
  std::string Conf(int i) { return root_ + "/etc/app/f" + std::to_string(i) + ".conf"; }
  tu::RunResult Dw(const std::string& args) {
    return tu::Run(Quote(Bin()) + " " + args + " --root " + Quote(root_) + " --rules " +
                   Quote(Rules()) + " --db " + Quote(db_) + " 2>&1");
  }
  tu::RunResult DbOnly(const std::string& args) {
    return tu::Run(Quote(Bin()) + " " + args + " --db " + Quote(db_) + " 2>&1");
  }

  TempDir dir_;
  std::string root_;
  std::string db_ = dir_ / "state/agent.db";
};

TEST_F(StoreE2e, StatusDbCheckAndRecoverOfOverwrittenPages) {
  for (int round = 1; round <= 3; ++round) {
    for (int i = 0; i < 200; ++i) WriteFile(Conf(i), "v" + std::to_string(round) + "\n");
    ASSERT_EQ(Dw("check --quiet").exit_code, 1);
  }
  // An enrolled agent: its token must never be shown. (The outbox's tables
  // are made by the first command that opens it.)
  ASSERT_EQ(DbOnly("status").exit_code, 0);
  Sql(db_,
      "INSERT INTO report_state(key, value) VALUES ('collector', 'http://127.0.0.1:1'),"
      " ('host_id', 'web-1'), ('token', 'agent-secret-4711'), ('group', 'db')");
  tu::RunResult status = DbOnly("status --format json");
  ASSERT_EQ(status.exit_code, 0) << status.out;
  EXPECT_THAT(status.out, Not(HasSubstr("agent-secret-4711")));
  web::json::value v = web::json::value::parse(status.out);
  EXPECT_EQ(v.at("enrollment").at("host_id").as_string(), "web-1");
  EXPECT_EQ(v.at("last_check").at("events").as_integer(), 200);
  EXPECT_EQ(v.at("last_check").at("result").as_string(), "drift");
  EXPECT_EQ(v.at("baselines").at(0).at("name").as_string(), "default");
  EXPECT_FALSE(v.at("collector").at("checked").as_bool());
  tu::RunResult probed = DbOnly("status --probe");
  EXPECT_EQ(probed.exit_code, 1) << probed.out;
  EXPECT_THAT(probed.out, HasSubstr("collector   UNREACHABLE: "));
  EXPECT_THAT(probed.out, Not(HasSubstr("agent-secret-4711")));

  EXPECT_EQ(DbOnly("db check").exit_code, 0);
  std::vector<std::string> leaves =
      Sql(db_, "SELECT pageno FROM dbstat WHERE name = 'events' AND pagetype = 'leaf'");
  ASSERT_GT(leaves.size(), 4u);
  const int fd = ::open(db_.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  const std::string junk(4096, '\x5a');
  ASSERT_EQ(::pwrite(fd, junk.data(), junk.size(), (std::stoll(leaves[2]) - 1) * 4096), 4096);
  ::close(fd);

  tu::RunResult damaged = DbOnly("db check");
  EXPECT_EQ(damaged.exit_code, 2) << damaged.out;
  EXPECT_THAT(damaged.out, HasSubstr("problem: integrity_check: "));
  EXPECT_THAT(damaged.out, HasSubstr("damaged"));
  tu::RunResult recovered = DbOnly("db recover");
  EXPECT_EQ(recovered.exit_code, 0) << recovered.out;
  EXPECT_THAT(recovered.out, HasSubstr("baselines: 1 row(s) kept"));
  EXPECT_THAT(recovered.out, HasSubstr("unreadable, lost: keys"));
  EXPECT_THAT(recovered.out, HasSubstr("the damaged store is kept as " + db_ + ".damaged-"));
  EXPECT_EQ(DbOnly("db check").exit_code, 0);
  // The baseline is still there: the next check compares with it.
  tu::RunResult check = Dw("check --quiet");
  EXPECT_EQ(check.exit_code, 1) << check.out;
  EXPECT_THAT(check.out, HasSubstr("baseline 'default' rev 1: 0 added, 200 modified"));
}

TEST_F(StoreE2e, StoreErrorsNameTheReason) {
  tu::RunResult dir = tu::Run(Quote(Bin()) + " history --db " + Quote(dir_ / "state") + " 2>&1");
  EXPECT_EQ(dir.exit_code, 2);
  EXPECT_THAT(dir.out, HasSubstr(dir_ / "state" + ": is a directory"));
  WriteFile(dir_ / "file", "x");
  tu::RunResult notdir =
      tu::Run(Quote(Bin()) + " history --db " + Quote(dir_ / "file/agent.db") + " 2>&1");
  EXPECT_EQ(notdir.exit_code, 2);
  EXPECT_THAT(notdir.out, HasSubstr("not a directory: " + (dir_ / "file") + " is a file"));
  ASSERT_EQ(::chmod((dir_ / "state").c_str(), 0755), 0);
  tu::RunResult open = Dw("check");
  EXPECT_EQ(open.exit_code, 2);
  EXPECT_THAT(open.out, HasSubstr("chmod 700 " + (dir_ / "state")));
}

}  // namespace
}  // namespace driftwatch
