#include "collector/tree_outliers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "tests/testing/memory_tree_store.h"

namespace driftwatch::collector {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using testutil::MemoryTreeStore;
using testutil::TestDir;
using testutil::TestFile;
using testutil::TreeBuilder;

TreeBuilder WebHost(const std::string& name) {
  TreeBuilder b;
  b.Add("/etc/hostname", TestFile(name + "\n"))
      .Add("/etc/ssh/sshd_config", TestFile("PermitRootLogin no\n", 0600))
      .Add("/etc/ssh/ssh_host_ed25519_key", TestFile("key of " + name, 0600))
      .Add("/etc/cron.d/backup", TestFile("0 3 * * * root backup\n"))
      .Add("/etc/cron.d/logrotate", TestFile("0 4 * * * root logrotate\n"))
      .Add("/usr/bin/nginx", TestFile("ELF nginx", 0755))
      .Add("/usr/share/doc/nginx/README", TestFile("readme"));
  return b;
}

HostTree Host(MemoryTreeStore& store, const std::string& id, const TreeBuilder& b,
              std::vector<std::string> host_specific = {"/etc/hostname",
                                                        "/etc/ssh/ssh_host_ed25519_key"}) {
  HostTree h;
  h.host_id = id;
  h.root = testutil::StoreBuilt(store, b);
  h.host_specific = std::move(host_specific);
  return h;
}

// "path majority(holders) host:entry host:entry", entries as "file:<size>"
// or "-" for absent.
std::string Show(const std::optional<Entry>& e) {
  if (!e) return "-";
  return std::string(EntryTypeName(e->type)) + ":" + std::to_string(e->size);
}
std::vector<std::string> Lines(const OutlierReport& r) {
  std::vector<std::string> out;
  for (const OutlierPath& p : r.paths) {
    std::string s = p.path + " " + Show(p.majority) + "(" + std::to_string(p.holders) + ")";
    for (const Outlier& o : p.outliers) s += " " + o.host_id + ":" + Show(o.entry);
    out.push_back(s);
  }
  return out;
}

// The id of the directory at `comps` in the tree `root`.
Result<Hash128> LookupSubtree(TreeStore& store, Hash128 root,
                              const std::vector<std::string>& comps) {
  Hash128 id = root;
  for (const std::string& c : comps) {
    DW_ASSIGN_OR_RETURN(auto data, store.GetTrees({id}));
    if (!data[0]) return Status::NotFound(id.Hex());
    DW_ASSIGN_OR_RETURN(Tree t, ParseTree(*data[0]));
    bool found = false;
    for (const Entry& e : t.entries) {
      if (e.name == c) {
        id = e.subtree;
        found = true;
      }
    }
    if (!found) return Status::NotFound(c);
  }
  return id;
}

struct Case {
  const char* name;
  // Five hosts web1..web5 from WebHost, edited.
  std::function<void(std::vector<TreeBuilder>&)> edit;
  std::string prefix;
  size_t limit;
  std::vector<std::string> want;
  std::vector<std::string> differing;
  int64_t ignored;
  bool truncated;
};

TEST(FindOutliersTest, GroupOfFive) {
  const std::vector<Case> cases = {
      {"the issue's case: an edited sshd_config, an extra cron file, hostnames everywhere",
       [](std::vector<TreeBuilder>& h) {
         h[1].Add("/etc/ssh/sshd_config", TestFile("PermitRootLogin yes\n", 0600));
         h[3].Add("/etc/cron.d/extra", TestFile("* * * * * root miner\n"));
       },
       "/",
       1000,
       {"/etc/cron.d/extra -(4) web4:file:21", "/etc/ssh/sshd_config file:19(4) web2:file:20"},
       {"web2", "web4"},
       2,
       false},
      {"all alike but for host-specific paths",
       [](std::vector<TreeBuilder>&) {},
       "/",
       1000,
       {},
       {},
       2,
       false},
      {"a file missing on two, kept by three",
       [](std::vector<TreeBuilder>& h) {
         h[0].Remove("/usr/bin/nginx");
         h[4].Remove("/usr/bin/nginx");
       },
       "/",
       1000,
       {"/usr/bin/nginx file:9(3) web1:- web5:-"},
       {"web1", "web5"},
       2,
       false},
      {"a file present on two only",
       [](std::vector<TreeBuilder>& h) {
         h[2].Add("/usr/bin/extra", TestFile("e"));
         h[3].Add("/usr/bin/extra", TestFile("e"));
       },
       "/",
       1000,
       {"/usr/bin/extra -(3) web3:file:1 web4:file:1"},
       {"web3", "web4"},
       2,
       false},
      {"three values: the largest side wins",
       [](std::vector<TreeBuilder>& h) {
         h[0].Add("/usr/bin/nginx", TestFile("v1", 0755));
         h[1].Add("/usr/bin/nginx", TestFile("v22", 0755));
         h[2].Add("/usr/bin/nginx", TestFile("v22", 0755));
       },
       "/",
       1000,
       {"/usr/bin/nginx file:3(2) web1:file:2 web4:file:9 web5:file:9"},
       {"web1", "web4", "web5"},
       2,
       false},
      {"a directory only one host has is one path",
       [](std::vector<TreeBuilder>& h) {
         h[4].Add("/opt/agent/bin/a", TestFile("a")).Add("/opt/agent/lib/b", TestFile("bb"));
       },
       "/",
       1000,
       {"/opt -(4) web5:dir:0"},
       {"web5"},
       2,
       false},
      {"a directory missing on one host is one path",
       [](std::vector<TreeBuilder>& h) { h[0].Remove("/usr/share/doc"); },
       "/",
       1000,
       {"/usr/share/doc dir:0(4) web1:-"},
       {"web1"},
       2,
       false},
      {"prefix",
       [](std::vector<TreeBuilder>& h) {
         h[1].Add("/etc/ssh/sshd_config", TestFile("PermitRootLogin yes\n", 0600));
         h[3].Add("/etc/cron.d/extra", TestFile("x"));
       },
       "/etc/ssh",
       1000,
       {"/etc/ssh/sshd_config file:19(4) web2:file:20"},
       {"web2"},
       1,
       false},
      {"prefix under a directory some hosts lack",
       [](std::vector<TreeBuilder>& h) {
         h[0].Remove("/etc/cron.d");
         h[3].Add("/etc/cron.d/extra", TestFile("x"));
       },
       "/etc/cron.d/extra",
       1000,
       {"/etc/cron.d/extra -(4) web4:file:1"},
       {"web4"},
       0,
       false},
      {"prefix that is host-specific",
       [](std::vector<TreeBuilder>& h) {
         h[1].Add("/etc/ssh/sshd_config", TestFile("PermitRootLogin yes\n", 0600));
       },
       "/etc/hostname",
       1000,
       {},
       {},
       1,
       false},
      {"a limit reached",
       [](std::vector<TreeBuilder>& h) {
         h[0].Add("/etc/a", TestFile("a"));
         h[1].Add("/etc/b", TestFile("b"));
         h[2].Add("/etc/c", TestFile("c"));
       },
       "/",
       2,
       {"/etc/a -(4) web1:file:1", "/etc/b -(4) web2:file:1"},
       {"web1", "web2"},
       0,
       true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    MemoryTreeStore store;
    std::vector<TreeBuilder> builders;
    for (int i = 1; i <= 5; ++i) builders.push_back(WebHost("web" + std::to_string(i)));
    c.edit(builders);
    std::vector<HostTree> hosts;
    for (int i = 0; i < 5; ++i) {
      hosts.push_back(Host(store, "web" + std::to_string(i + 1), builders[i]));
    }
    store.ClearReads();
    auto r = FindOutliers(store, hosts, c.prefix, c.limit);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_THAT(Lines(*r), ElementsAreArray(c.want));
    EXPECT_THAT(r->differing_hosts, ElementsAreArray(c.differing));
    if (!c.truncated) {
      EXPECT_EQ(r->ignored, c.ignored);
    }
    EXPECT_EQ(r->truncated, c.truncated);
    const std::vector<Hash128> reads = store.reads();
    EXPECT_EQ(std::set<Hash128>(reads.begin(), reads.end()).size(), reads.size())
        << "an object was loaded twice";
  }
}

// The case, with the objects it costs: at each directory each
// distinct object is loaded once.
TEST(FindOutliersTest, LoadsEachDistinctObjectOnce) {
  MemoryTreeStore store;
  std::vector<HostTree> hosts;
  for (int i = 1; i <= 5; ++i) {
    TreeBuilder b = WebHost("web" + std::to_string(i));
    if (i == 2) b.Add("/etc/ssh/sshd_config", TestFile("PermitRootLogin yes\n", 0600));
    if (i == 4) b.Add("/etc/cron.d/extra", TestFile("x"));
    hosts.push_back(Host(store, "web" + std::to_string(i), b));
  }
  store.ClearReads();
  auto r = FindOutliers(store, hosts, "/", 1000);
  ASSERT_TRUE(r.ok());
  // Five distinct roots and /etc (the hostnames), five /etc/ssh (host
  // keys), two /etc/cron.d; /usr is the same everywhere and never read.
  EXPECT_EQ(store.reads().size(), 5u + 5u + 5u + 2u);
  EXPECT_EQ(r->objects_loaded, 17);
}

TEST(FindOutliersTest, CostFollowsTheDisagreementsNotTheHosts) {
  MemoryTreeStore store;
  std::vector<HostTree> hosts;
  for (int i = 0; i < 200; ++i) {
    TreeBuilder b;
    for (int f = 0; f < 50; ++f) b.Add("/usr/lib/f" + std::to_string(f), TestFile("lib"));
    b.Add("/etc/app/app.conf", TestFile(i == 17 ? "edited" : "default"));
    hosts.push_back(Host(store, "h" + std::to_string(1000 + i), b, {}));
  }
  store.ClearReads();
  auto r = FindOutliers(store, hosts, "/", 1000);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Lines(*r), ElementsAre("/etc/app/app.conf file:7(199) h1017:file:6"));
  // Two distinct trees at each of root, /etc, /etc/app.
  EXPECT_EQ(store.reads().size(), 6u);
  EXPECT_EQ(store.get_calls(), 3);
}

TEST(FindOutliersTest, TiesBreakTheSameWayWhateverTheHostOrder) {
  for (bool reversed : {false, true}) {
    SCOPED_TRACE(reversed);
    MemoryTreeStore store;
    TreeBuilder a, b;
    a.Add("/etc/x", TestFile("aaaa"));
    b.Add("/etc/x", TestFile("b"));
    std::vector<HostTree> hosts = {Host(store, "one", a, {}), Host(store, "two", b, {})};
    if (reversed) std::swap(hosts[0], hosts[1]);
    auto r = FindOutliers(store, hosts, "/", 10);
    ASSERT_TRUE(r.ok());
    // The smaller canonical bytes win: sizes differ first, 1 < 4.
    EXPECT_THAT(Lines(*r), ElementsAre("/etc/x file:1(1) one:file:4"));
  }
}

TEST(FindOutliersTest, ATieWithAbsenceLeavesTheMajorityAbsent) {
  MemoryTreeStore store;
  TreeBuilder a, b;
  a.Add("/etc/x", TestFile("x")).Add("/etc/y", TestFile("y"));
  b.Add("/etc/y", TestFile("y"));
  auto r = FindOutliers(store, {Host(store, "b", b, {}), Host(store, "a", a, {})}, "/", 10);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Lines(*r), ElementsAre("/etc/x -(1) a:file:1"));
}

TEST(FindOutliersTest, EmptyGroupAndSingleHost) {
  MemoryTreeStore store;
  auto none = FindOutliers(store, {}, "/", 10);
  ASSERT_TRUE(none.ok());
  EXPECT_THAT(none->paths, IsEmpty());
  EXPECT_FALSE(none->truncated);
  auto one = FindOutliers(store, {Host(store, "solo", WebHost("solo"))}, "/", 10);
  ASSERT_TRUE(one.ok());
  EXPECT_THAT(one->paths, IsEmpty());
  EXPECT_THAT(store.reads(), IsEmpty());
}

TEST(FindOutliersTest, OneHostsHostSpecificPathsApplyToTheGroup) {
  MemoryTreeStore store;
  TreeBuilder a, b, c;
  a.Add("/etc/machine-id", TestFile("1")).Add("/etc/hosts", TestFile("h1"));
  b.Add("/etc/machine-id", TestFile("22")).Add("/etc/hosts", TestFile("h1"));
  c.Add("/etc/machine-id", TestFile("333")).Add("/etc/hosts", TestFile("h22"));
  auto r = FindOutliers(
      store,
      {Host(store, "a", a, {"/etc/machine-id"}), Host(store, "b", b, {}), Host(store, "c", c, {})},
      "/", 10);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Lines(*r), ElementsAre("/etc/hosts file:2(2) c:file:3"));
  EXPECT_EQ(r->ignored, 1);
}

TEST(FindOutliersTest, HostSpecificDirectoryLeavesOutEverythingBeneath) {
  MemoryTreeStore store;
  TreeBuilder a, b;
  a.Add("/var/lib/app/state/1", TestFile("1")).Add("/var/lib/app/conf", TestFile("c"));
  b.Add("/var/lib/app/state/2", TestFile("2")).Add("/var/lib/app/conf", TestFile("c2"));
  auto r = FindOutliers(
      store, {Host(store, "a", a, {"/var/lib/app/state"}), Host(store, "b", b, {})}, "/", 10);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Lines(*r), ElementsAre("/var/lib/app/conf file:1(1) b:file:2"));
  EXPECT_EQ(r->ignored, 1);
}

TEST(FindOutliersTest, OutlierDirectoriesCarryTheirOwnSubtree) {
  MemoryTreeStore store;
  TreeBuilder a, b, c;
  a.Add("/srv/www/index.html", TestFile("i"));
  b.Add("/srv/www/index.html", TestFile("i"));
  c.Add("/srv/www", TestDir(0777)).Add("/srv/www/index.html", TestFile("i2"));
  const HostTree hc = Host(store, "c", c, {});
  auto r = FindOutliers(store, {Host(store, "a", a, {}), Host(store, "b", b, {}), hc}, "/", 10);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->paths.size(), 2u);
  EXPECT_EQ(r->paths[0].path, "/srv/www");
  ASSERT_EQ(r->paths[0].outliers.size(), 1u);
  const std::optional<Entry>& e = r->paths[0].outliers[0].entry;
  ASSERT_TRUE(e);
  EXPECT_EQ(e->mode, 0777u);
  // c's own /srv/www, as a lookup in its tree finds it.
  auto sub = LookupSubtree(store, hc.root, {"srv", "www"});
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(e->subtree, *sub);
  ASSERT_TRUE(r->paths[0].majority);
  EXPECT_EQ(r->paths[0].majority->subtree,
            *LookupSubtree(store, Host(store, "a", a, {}).root, {"srv", "www"}));
  EXPECT_EQ(r->paths[1].path, "/srv/www/index.html");
}

}  // namespace
}  // namespace driftwatch::collector
