// A test fixture that runs each case on both FleetStore backends, chosen by
// the test parameter: "sqlite" (a file in a temporary directory) or
// "postgresql" (a new migrated database on one throw-away cluster per test
// suite, pg_cluster.h; skipped with the reason when the cluster cannot run).
#ifndef DRIFTWATCH_TESTS_PG_BOTH_STORES_H_
#define DRIFTWATCH_TESTS_PG_BOTH_STORES_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <memory>
#include <string>

#include "collector/pg_store.h"
#include "collector/sqlite_store.h"
#include "tests/pg/pg_cluster.h"

namespace driftwatch::collector {

class BothStoresTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    skip_ = pgtest::PgCluster::SkipReason();
    if (!skip_.empty()) return;
    cluster_ = new pgtest::PgCluster();
    start_error_ = cluster_->Start();
  }
  static void TearDownTestSuite() {
    delete cluster_;  // stops the server, removes its directory
    cluster_ = nullptr;
  }

  // Opens store_, then runs Seed() unless the case was skipped or failed.
  void SetUp() override {
    if (GetParam() == "sqlite") {
      char tmpl[] = "/tmp/dw_stores.XXXXXX";
      dir_ = mkdtemp(tmpl);
      auto s = OpenSqliteStore(dir_ + "/c.db");
      ASSERT_TRUE(s.ok()) << s.status().message();
      store_ = std::move(s).value();
    } else {
      if (!skip_.empty()) GTEST_SKIP() << skip_;
      ASSERT_EQ(start_error_, "");
      url_ = cluster_->NewDatabase("stores" + std::to_string(++databases_));
      ASSERT_NE(url_, "");
      auto m = MigratePgStore(url_);
      ASSERT_TRUE(m.ok()) << m.status().message();
      auto s = OpenPgStore(url_, PgStoreOptions{2, 5});
      ASSERT_TRUE(s.ok()) << s.status().message();
      store_ = std::move(s).value();
    }
    Seed();
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::system(("rm -rf " + dir_).c_str());
  }
  // What every case of the suite starts from (e.g. enrolled hosts).
  virtual void Seed() {}

  std::string dir_, url_;  // the SQLite directory, or the PostgreSQL URL
  std::unique_ptr<FleetStore> store_;

 private:
  static inline std::string skip_, start_error_;
  static inline pgtest::PgCluster* cluster_ = nullptr;
  static inline int databases_ = 0;
};

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_TESTS_PG_BOTH_STORES_H_
