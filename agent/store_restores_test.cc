#include <gtest/gtest.h>

#include "agent/store.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::agent {
namespace {

using driftwatch::testutil::TempDir;

TEST(StoreRestoresTest, RecordsRestoresWithTheirActionsInOrder) {
  TempDir dir;
  std::vector<RestoreRow> want(2);
  {
    auto store = Store::Open(DefaultHost(), dir / "agent.db");
    ASSERT_TRUE(store.ok()) << store.status().message();
    want[0] = {0,
               100,
               "root",
               "ticket 42",
               "default",
               3,
               1,
               {{"/etc/a\xff", "write", "write 3 bytes", true},
                {"/etc/b", "refused", "its content was not kept", false}}};
    want[1] = {0, 200, "collector", "fleet", "web", 1, 0, {}};
    for (RestoreRow& r : want) {
      auto id = (*store)->RecordRestore(r);
      ASSERT_TRUE(id.ok()) << id.status().message();
      r.id = *id;
    }
    EXPECT_LT(want[0].id, want[1].id);
  }
  // Read back by a new handle: what was recorded is on disk.
  auto store = Store::Open(DefaultHost(), dir / "agent.db");
  ASSERT_TRUE(store.ok());
  auto all = (*store)->Restores(0, 10);
  ASSERT_TRUE(all.ok()) << all.status().message();
  ASSERT_EQ(all->size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const RestoreRow& got = (*all)[i];
    EXPECT_EQ(got.id, want[i].id);
    EXPECT_EQ(got.created_ns, want[i].created_ns);
    EXPECT_EQ(got.author, want[i].author);
    EXPECT_EQ(got.reason, want[i].reason);
    EXPECT_EQ(got.baseline, want[i].baseline);
    EXPECT_EQ(got.revision, want[i].revision);
    EXPECT_EQ(got.refused, want[i].refused);
    ASSERT_EQ(got.actions.size(), want[i].actions.size());
    for (size_t j = 0; j < got.actions.size(); ++j) {
      EXPECT_EQ(got.actions[j].path, want[i].actions[j].path);
      EXPECT_EQ(got.actions[j].action, want[i].actions[j].action);
      EXPECT_EQ(got.actions[j].detail, want[i].actions[j].detail);
      EXPECT_EQ(got.actions[j].ok, want[i].actions[j].ok);
    }
  }
  auto since = (*store)->Restores(150, 10);
  ASSERT_TRUE(since.ok());
  ASSERT_EQ(since->size(), 1u);
  EXPECT_EQ((*since)[0].author, "collector");
  auto limited = (*store)->Restores(0, 1);
  ASSERT_TRUE(limited.ok());
  ASSERT_EQ(limited->size(), 1u);
  EXPECT_EQ((*limited)[0].reason, "ticket 42");
}

}  // namespace
}  // namespace driftwatch::agent
