// The fleet's trees (TreeStore, tree_store.h) on both store backends:
// objects stored once per content, closure, host trees and their history,
// group baseline revisions and retention.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/pg/both_stores.h"
#include "tests/testing/tree_objects.h"

namespace driftwatch::collector {
namespace {

using testing::Dir;
using testing::DirEntry;
using testing::FileEntry;

constexpr int64_t kDay = 86400LL * 1000000000;

class StoreTreesTest : public BothStoresTest {
 protected:
  void Seed() override {
    ASSERT_TRUE(store_->EnrollHost("h1", "web", "1", "sha-h1", 1, "").ok());
    ASSERT_TRUE(store_->EnrollHost("h2", "web", "1", "sha-h2", 1, "").ok());
    ASSERT_TRUE(store_->EnrollHost("d1", "db", "1", "sha-d1", 1, "").ok());
    ssh_ = Dir({FileEntry("sshd_config", "PermitRootLogin no\n", 0600)});
    etc_ = Dir({FileEntry("hostname", "h\n"), DirEntry("ssh", ssh_)});
    root_ = Dir({DirEntry("etc", etc_)});
    // The same /etc with an edited sshd_config: new ssh, etc and root.
    ssh2_ = Dir({FileEntry("sshd_config", "PermitRootLogin yes\n", 0600)});
    etc2_ = Dir({FileEntry("hostname", "h\n"), DirEntry("ssh", ssh2_)});
    root2_ = Dir({DirEntry("etc", etc2_)});
  }

  TreeStore& trees() { return store_->trees(); }
  TreeStoreCounts Counts() {
    auto c = trees().CountTrees();
    EXPECT_TRUE(c.ok()) << c.status().message();
    return c.ok() ? *c : TreeStoreCounts{};
  }
  std::vector<bool> Has(const std::vector<TreeObject>& objects) {
    std::vector<Hash128> ids;
    for (const TreeObject& o : objects) ids.push_back(o.id);
    auto h = trees().HasTrees(ids);
    EXPECT_TRUE(h.ok()) << h.status().message();
    return h.ok() ? *h : std::vector<bool>{};
  }
  Status SetTree(const std::string& host, const TreeObject& root, int64_t t,
                 std::vector<std::string> host_specific = {}) {
    HostTree tree;
    tree.host_id = host;
    tree.root = root.id;
    tree.set_ns = t;
    tree.host_specific = std::move(host_specific);
    return trees().SetHostTree(tree);
  }

  TreeObject ssh_, etc_, root_, ssh2_, etc2_, root2_;
};

TEST_P(StoreTreesTest, TwoHostsWithIdenticalTreesStoreEachTreeObjectOnce) {
  auto first = trees().PutTrees({ssh_, etc_, root_}, 10);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(*first, 3);
  ASSERT_TRUE(SetTree("h1", root_, 10, {"/etc/hostname"}).ok());
  // The second host sends the same objects (an agent that did not offer).
  auto second = trees().PutTrees({ssh_, etc_, root_}, 20);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(*second, 0);
  ASSERT_TRUE(SetTree("h2", root_, 20, {"/etc/hostname"}).ok());
  const TreeStoreCounts c = Counts();
  EXPECT_EQ(c.objects, 3);
  EXPECT_EQ(c.bytes, static_cast<int64_t>(ssh_.data.size() + etc_.data.size() + root_.data.size()));
  EXPECT_EQ(c.host_trees, 2);
  auto data = trees().GetTrees({root_.id, ssh2_.id, ssh_.id});
  ASSERT_TRUE(data.ok()) << data.status().message();
  ASSERT_EQ(data->size(), 3u);
  EXPECT_EQ((*data)[0], root_.data);
  EXPECT_EQ((*data)[1], std::nullopt);
  EXPECT_EQ((*data)[2], ssh_.data);
  EXPECT_EQ(Has({ssh_, ssh2_, root_}), (std::vector<bool>{true, false, true}));
}

TEST_P(StoreTreesTest, PutTreesStoresNothingWhenASubtreeIsMissing) {
  auto put = trees().PutTrees({etc2_, ssh_}, 10);
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().code(), StatusCode::kFailedPrecondition) << put.status().message();
  EXPECT_EQ(Counts().objects, 0);
  // Children first in one call is fine.
  put = trees().PutTrees({ssh2_, etc2_}, 10);
  ASSERT_TRUE(put.ok()) << put.status().message();
  EXPECT_EQ(*put, 2);
}

TEST_P(StoreTreesTest, HostTreesByGroupAndUnknownHosts) {
  ASSERT_TRUE(trees().PutTrees({ssh_, etc_, root_, ssh2_, etc2_, root2_}, 10).ok());
  ASSERT_TRUE(SetTree("h2", root2_, 30).ok());
  ASSERT_TRUE(SetTree("h1", root_, 20, {"/etc/hostname", std::string("/etc/\xff\x01")}).ok());
  ASSERT_TRUE(SetTree("d1", root_, 25).ok());
  auto none = SetTree("nope", root_, 30);
  EXPECT_EQ(none.code(), StatusCode::kNotFound);
  const TreeObject absent = Dir({FileEntry("x", "x")});
  EXPECT_EQ(SetTree("h1", absent, 40).code(), StatusCode::kFailedPrecondition);

  auto web = trees().GroupTrees("web");
  ASSERT_TRUE(web.ok()) << web.status().message();
  ASSERT_EQ(web->size(), 2u);
  EXPECT_EQ((*web)[0].host_id, "h1");
  EXPECT_EQ((*web)[0].root, root_.id);
  EXPECT_EQ((*web)[0].set_ns, 20);
  EXPECT_EQ((*web)[0].host_specific,
            (std::vector<std::string>{"/etc/hostname", std::string("/etc/\xff\x01")}));
  EXPECT_EQ((*web)[1].host_id, "h2");
  EXPECT_EQ((*web)[1].root, root2_.id);
  EXPECT_TRUE((*web)[1].host_specific.empty());
  EXPECT_TRUE(trees().GroupTrees("none")->empty());

  auto h1 = trees().GetHostTree("h1");
  ASSERT_TRUE(h1.ok() && h1->has_value());
  EXPECT_EQ((*h1)->root, root_.id);
  EXPECT_EQ(trees().GetHostTree("nope").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->EnrollHost("h3", "web", "1", "sha-h3", 1, "").ok());
  auto h3 = trees().GetHostTree("h3");
  ASSERT_TRUE(h3.ok());
  EXPECT_FALSE(h3->has_value());

  // A renamed host keeps its tree; a removed one loses it.
  ASSERT_TRUE(store_->RenameHost("h1", "h1b").ok());
  auto moved = trees().GetHostTree("h1b");
  ASSERT_TRUE(moved.ok() && moved->has_value());
  EXPECT_EQ((*moved)->root, root_.id);
  ASSERT_TRUE(store_->RemoveHost("h2", 50).ok());
  EXPECT_EQ(trees().GroupTrees("web")->size(), 1u);
  EXPECT_EQ(Counts().host_trees, 2);
}

TEST_P(StoreTreesTest, GroupBaselinesAreRevisionsNewestFirst) {
  ASSERT_TRUE(trees().PutTrees({ssh_, etc_, root_, ssh2_, etc2_, root2_}, 10).ok());
  GroupBaseline b;
  b.group = "web";
  b.root = root_.id;
  b.source = "host:h1";
  b.by = "alice";
  b.why = "golden host";
  b.created_ns = 100;
  ASSERT_EQ(*trees().AddGroupBaseline(b), 1);
  b.root = root2_.id;
  b.source = "majority";
  b.by = "bob";
  b.why = "after the upgrade";
  b.created_ns = 200;
  ASSERT_EQ(*trees().AddGroupBaseline(b), 2);
  b.group = "db";
  ASSERT_EQ(*trees().AddGroupBaseline(b), 1);
  const TreeObject absent = Dir({FileEntry("x", "x")});
  b.root = absent.id;
  EXPECT_EQ(trees().AddGroupBaseline(b).status().code(), StatusCode::kFailedPrecondition);

  auto latest = trees().GetGroupBaseline("web", 0);
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->revision, 2);
  EXPECT_EQ((*latest)->root, root2_.id);
  EXPECT_EQ((*latest)->source, "majority");
  EXPECT_EQ((*latest)->by, "bob");
  EXPECT_EQ((*latest)->why, "after the upgrade");
  EXPECT_EQ((*latest)->created_ns, 200);
  auto first = trees().GetGroupBaseline("web", 1);
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->root, root_.id);
  EXPECT_EQ((*first)->source, "host:h1");
  EXPECT_FALSE(trees().GetGroupBaseline("web", 3)->has_value());
  EXPECT_FALSE(trees().GetGroupBaseline("none", 0)->has_value());
  auto list = trees().ListGroupBaselines("web");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].revision, 2);
  EXPECT_EQ((*list)[1].revision, 1);
  EXPECT_EQ((*list)[1].group, "web");
}

// Retention: a replaced root stays for the retention after it was
// replaced; then the objects only it reached go, and the shared ones stay.
TEST_P(StoreTreesTest, PruneRemovesWhatNoKeptRootReaches) {
  ASSERT_TRUE(trees().PutTrees({ssh_, etc_, root_}, 1 * kDay).ok());
  ASSERT_TRUE(SetTree("h1", root_, 1 * kDay).ok());
  ASSERT_TRUE(trees().PutTrees({ssh2_, etc2_, root2_}, 2 * kDay).ok());
  ASSERT_TRUE(SetTree("h1", root2_, 3 * kDay).ok());  // root_ replaced on day 3
  // An object nothing names, stored on day 1.
  const TreeObject stray = Dir({FileEntry("stray", "s")});
  ASSERT_TRUE(trees().PutTrees({stray}, 1 * kDay).ok());
  EXPECT_EQ(Counts().objects, 7);

  // Cutoff day 2: root_ was current until day 3 and stays; only the stray goes.
  auto removed = trees().PruneTrees(2 * kDay);
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  EXPECT_EQ(*removed, 1);
  EXPECT_EQ(Has({stray, root_, etc_, ssh_}), (std::vector<bool>{false, true, true, true}));

  // Cutoff day 4: the history of h1 is dropped, so root_, etc_ and ssh_ go.
  removed = trees().PruneTrees(4 * kDay);
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  EXPECT_EQ(*removed, 3);
  EXPECT_EQ(Has({root_, etc_, ssh_, root2_, etc2_, ssh2_}),
            (std::vector<bool>{false, false, false, true, true, true}));
  EXPECT_EQ(Counts().objects, 3);
  EXPECT_EQ(*trees().PruneTrees(4 * kDay), 0);
}

TEST_P(StoreTreesTest, PruneKeepsBaselinesAndRecentUploads) {
  // A baseline keeps root_ whole; etc2_ shares nothing with it but was
  // stored after the cutoff (an upload whose tree is not set yet): it
  // stays with its child ssh2_, stored before.
  ASSERT_TRUE(trees().PutTrees({ssh_, etc_, root_, ssh2_}, 1 * kDay).ok());
  GroupBaseline b;
  b.group = "web";
  b.root = root_.id;
  b.source = "host:h1";
  b.by = "alice";
  b.why = "golden";
  ASSERT_TRUE(trees().AddGroupBaseline(b).ok());
  ASSERT_TRUE(trees().PutTrees({etc2_}, 5 * kDay).ok());
  auto removed = trees().PruneTrees(4 * kDay);
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  EXPECT_EQ(*removed, 0);
  EXPECT_EQ(Counts().objects, 5);
  // Later, with etc2_ old and unnamed, both go.
  removed = trees().PruneTrees(6 * kDay);
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  EXPECT_EQ(*removed, 2);
  EXPECT_EQ(Has({root_, etc_, ssh_, etc2_, ssh2_}),
            (std::vector<bool>{true, true, true, false, false}));
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreTreesTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace driftwatch::collector
