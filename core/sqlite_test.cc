#include "core/sqlite.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <string>

#include "tests/testing/temp_tree.h"

namespace driftwatch::sqlite {
namespace {

using ::testing::HasSubstr;

class SqliteTest : public ::testing::Test {
 protected:
  std::unique_ptr<Db> OpenDb(DbOptions options = {}) {
    auto db = Db::Open(path_, options);
    EXPECT_TRUE(db.ok()) << db.status().message();
    return db.ok() ? std::move(db).value() : nullptr;
  }
  // The values of column `t.v`, in rowid order, joined with ','.
  static std::string Values(Db& db) {
    auto q = db.Prepare("SELECT v FROM t ORDER BY rowid");
    EXPECT_TRUE(q.ok()) << q.status().message();
    std::string out;
    for (;;) {
      auto row = q->Step();
      EXPECT_TRUE(row.ok()) << row.status().message();
      if (!row.ok() || !*row) break;
      out += (out.empty() ? "" : ",") + q->Text(0);
    }
    return out;
  }

  testutil::TempDir dir_;
  const std::string path_ = dir_ / "test.db";
};

TEST_F(SqliteTest, BindIndexOutOfRangeFailsStepAndRunNamingIt) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Exec("CREATE TABLE t(v TEXT)").ok());
  auto q = db->Prepare("INSERT INTO t(v) VALUES(?)");
  ASSERT_TRUE(q.ok()) << q.status().message();
  q->Bind(1, "a").Bind(3, int64_t{7}).Bind(4, "later errors are not kept");
  auto step = q->Step();
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), StatusCode::kInternal);
  EXPECT_EQ(step.status().message(), path_ +
                                         ": bind parameter 3 of 'INSERT INTO t(v) VALUES(?)': "
                                         "column index out of range");
  // Run reports the same error and does not insert.
  Status run = q->Run();
  EXPECT_EQ(run.message(), step.status().message());
  EXPECT_EQ(Values(*db), "");
  // Run reset the statement: a good binding runs.
  ASSERT_TRUE(q->Bind(1, "b").Run().ok());
  EXPECT_EQ(Values(*db), "b");
}

TEST_F(SqliteTest, BindErrorIsForgottenByResetAndWhenHandedBack) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Exec("CREATE TABLE t(v TEXT)").ok());
  {
    auto q = db->Prepare("INSERT INTO t(v) VALUES(?)");
    ASSERT_TRUE(q.ok());
    q->Bind(0, "zero is not a parameter");
    EXPECT_FALSE(q->Step().ok());
    q->Reset();
    EXPECT_TRUE(q->Bind(1, "x").Run().ok());
    q->Bind(2, "y");  // kept, then dropped with the handle
  }
  auto again = db->Prepare("INSERT INTO t(v) VALUES(?)");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->Bind(1, "z").Run().ok());
  EXPECT_EQ(Values(*db), "x,z");
}

TEST_F(SqliteTest, CacheHandsBackAResetStatementWithoutBindings) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Exec("CREATE TABLE t(v INTEGER); INSERT INTO t VALUES(1), (2), (3)").ok());
  const char* kSql = "SELECT v, ?1 FROM t ORDER BY v";
  {
    auto q = db->Prepare(kSql);
    ASSERT_TRUE(q.ok());
    q->Bind(1, "bound");
    ASSERT_TRUE(*q->Step());
    EXPECT_EQ(q->Int(0), 1);
    EXPECT_EQ(q->Text(1), "bound");
    // Given back in the middle of its rows.
  }
  EXPECT_EQ(db->idle_statements(), 1u);
  auto q = db->Prepare(kSql);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(db->idle_statements(), 0u);  // the same statement again
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Int(0), 1);    // from the first row
  EXPECT_TRUE(q->IsNull(1));  // the binding was cleared
  // A second handle of the same text while the first is out is its own statement.
  auto other = db->Prepare(kSql);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(*other->Step());
  EXPECT_EQ(other->Int(0), 1);
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Int(0), 2);
}

TEST_F(SqliteTest, TransactionRollsBackOnScopeExitAndCommits) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Exec("CREATE TABLE t(v TEXT)").ok());
  {
    auto tx = Transaction::Begin(*db);
    ASSERT_TRUE(tx.ok()) << tx.status().message();
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES('dropped')").ok());
  }
  EXPECT_EQ(Values(*db), "");
  {
    auto tx = Transaction::Begin(*db, Transaction::Mode::kDeferred);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES('kept')").ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  EXPECT_EQ(Values(*db), "kept");
  // InTransaction rolls back when the function fails.
  Status s = InTransaction(*db, [&]() -> Status {
    DW_RETURN_IF_ERROR(db->Exec("INSERT INTO t VALUES('partial')"));
    return Status::InvalidArgument("no");
  });
  EXPECT_EQ(s.message(), "no");
  EXPECT_TRUE(InTransaction(*db, [&] { return db->Exec("INSERT INTO t VALUES('more')"); }).ok());
  EXPECT_EQ(Values(*db), "kept,more");
}

TEST_F(SqliteTest, BusyAcrossTwoConnectionsIsUnavailableUntilTheWriterCommits) {
  DbOptions options;
  options.wal = true;
  options.busy_timeout_ms = 50;
  auto writer = OpenDb(options);
  auto other = OpenDb(options);
  ASSERT_TRUE(writer->Exec("CREATE TABLE t(v TEXT); INSERT INTO t VALUES('old')").ok());
  auto tx = Transaction::Begin(*writer);
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE(writer->Exec("INSERT INTO t VALUES('new')").ok());

  auto blocked = Transaction::Begin(*other);
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(blocked.status().message(), path_ + ": database is locked");
  auto insert = other->Prepare("INSERT INTO t VALUES('other')");
  ASSERT_TRUE(insert.ok());
  EXPECT_EQ(insert->Run().code(), StatusCode::kUnavailable);
  EXPECT_EQ(Values(*other), "old");  // WAL: readers see the last commit

  ASSERT_TRUE(tx->Commit().ok());
  EXPECT_TRUE(insert->Run().ok());
  EXPECT_EQ(Values(*other), "old,new,other");
}

TEST_F(SqliteTest, BlobsRoundTripWithNulsAndEmptyIsNotNull) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Exec("CREATE TABLE b(k INTEGER PRIMARY KEY, v BLOB)").ok());
  const std::string bytes("\0a\0\xff\0", 5);
  auto ins = db->Prepare("INSERT INTO b(k, v) VALUES(?, ?)");
  ASSERT_TRUE(ins.ok());
  ASSERT_TRUE(ins->Bind(1, 1).BindBlob(2, bytes).Run().ok());
  ASSERT_TRUE(ins->Bind(1, 2).BindBlob(2, "").Run().ok());
  ASSERT_TRUE(ins->Bind(1, 3).BindNull(2).Run().ok());
  ASSERT_TRUE(ins->Bind(1, 4).Bind(2, 2.5).Run().ok());
  auto q = db->Prepare("SELECT v, typeof(v) FROM b ORDER BY k");
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Blob(0), bytes);
  EXPECT_EQ(q->Text(0), bytes);
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Text(1), "blob");
  EXPECT_FALSE(q->IsNull(0));
  EXPECT_EQ(q->Blob(0), "");
  ASSERT_TRUE(*q->Step());
  EXPECT_TRUE(q->IsNull(0));
  EXPECT_EQ(q->Blob(0), "");
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Double(0), 2.5);
  EXPECT_FALSE(*q->Step());
}

TEST_F(SqliteTest, ReadOnlyOpenOfAMissingFileFailsClearly) {
  DbOptions options;
  options.read_only = true;
  auto db = Db::Open(path_, options);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db.status().message(),
            path_ + ": unable to open database file: No such file or directory");
  // And it was not created.
  EXPECT_NE(::access(path_.c_str(), F_OK), 0);
}

TEST_F(SqliteTest, PrepareErrorsNameTheSql) {
  auto db = OpenDb();
  auto bad = db->Prepare("SELECT nope FROM nowhere");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            path_ + ": prepare 'SELECT nope FROM nowhere': no such table: nowhere");
  auto two = db->Prepare("SELECT 1; SELECT 2");
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(two.status().message(), HasSubstr("more than one statement"));
  EXPECT_TRUE(db->Prepare("SELECT 1;").ok());
  EXPECT_EQ(db->Prepare("  ").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteTest, OptionsSetPragmasNameAndErrorCodes) {
  DbOptions options;
  options.wal = true;
  options.foreign_keys = true;
  options.cache_kib = 2048;
  options.name = "store";
  auto db = OpenDb(options);
  EXPECT_EQ(*db->Pragma("journal_mode"), "wal");
  EXPECT_EQ(*db->Pragma("synchronous"), "1");
  EXPECT_EQ(*db->Pragma("foreign_keys"), "1");
  EXPECT_EQ(*db->Pragma("cache_size"), "-2048");
  ASSERT_TRUE(db->Exec("CREATE TABLE u(k TEXT PRIMARY KEY)").ok());
  ASSERT_TRUE(db->Exec("INSERT INTO u VALUES('a')").ok());
  Status dup = db->Exec("INSERT INTO u VALUES('a')");
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.message(), "store: UNIQUE constraint failed: u.k");

  options.codes = ErrorCodes::kIoError;
  auto plain = OpenDb(options);
  EXPECT_EQ(plain->Exec("INSERT INTO u VALUES('a')").code(), StatusCode::kIoError);
}

TEST_F(SqliteTest, ChangesAndLastInsertId) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)").ok());
  auto ins = db->Prepare("INSERT INTO t(v) VALUES(?)");
  ASSERT_TRUE(ins.ok());
  ASSERT_TRUE(ins->Bind(1, "a").Run().ok());
  ASSERT_TRUE(ins->Bind(1, "b").Run().ok());
  EXPECT_EQ(db->LastInsertId(), 2);
  ASSERT_TRUE(db->Exec("UPDATE t SET v = 'c'").ok());
  EXPECT_EQ(db->Changes(), 2);
}

}  // namespace
}  // namespace driftwatch::sqlite
