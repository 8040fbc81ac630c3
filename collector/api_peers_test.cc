// The endpoints over the fleet's trees (docs/api.md "GET /fleet/compare",
// "GET /fleet/outliers", "/groups/{G}/baselines") on a real SQLite store,
// with hand-made trees uploaded by each host through the agent endpoints
// (offer, objects, tree) as an agent would.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "collector/api_test_fixture.h"
#include "collector/auth.h"
#include "core/base64.h"
#include "tests/testing/memory_tree_store.h"

namespace driftwatch::collector {
namespace {

using testutil::TestFile;
using testutil::TreeBuilder;
using web::json::value;

TreeBuilder WebHost(const std::string& name) {
  TreeBuilder b;
  b.Add("/etc/hostname", TestFile(name + "\n"))
      .Add("/etc/ssh/sshd_config", TestFile("PermitRootLogin no\n", 0600))
      .Add("/etc/cron.d/backup", TestFile("0 3 * * * root backup\n"))
      .Add("/usr/bin/nginx", TestFile("ELF nginx", 0755));
  return b;
}

// The issue's group of five: web-2 has an edited sshd_config, web-4 an
// extra file in /etc/cron.d, /etc/hostname differs on all and is
// host-specific; web-6 is in the group but never sends a tree.
TreeBuilder GroupHost(int i) {
  TreeBuilder b = WebHost("web-" + std::to_string(i));
  if (i == 2) b.Add("/etc/ssh/sshd_config", TestFile("PermitRootLogin yes\n", 0600));
  if (i == 4) b.Add("/etc/cron.d/extra", TestFile("* * * * * root miner\n"));
  return b;
}

value Strings(const std::vector<std::string>& items) {
  value a = value::array(items.size());
  for (size_t i = 0; i < items.size(); ++i) a[i] = value(items[i]);
  return a;
}

// What EntryAttributesToJson makes of TestFile(content, mode).
value FileJson(const std::string& content, const char* perm) {
  value o = value::object();
  o["type"] = value("file");
  o["perm"] = value(perm);
  o["uid"] = value::number(0);
  o["gid"] = value::number(0);
  o["size"] = value::number(static_cast<uint64_t>(content.size()));
  o["hash"] = value(TestFile(content).content.Hex());
  return o;
}

class ApiPeersTest : public ApiTest {
 protected:
  // Sends the host's tree as an agent does: offer every object, upload the
  // wanted ones (children first), set the root.
  void Upload(const std::string& token, const TreeBuilder& b,
              const std::vector<std::string>& host_specific = {"/etc/hostname"}) {
    const TreeBuilder::Built built = b.Build();
    value offer = value::object();
    std::vector<std::string> ids;
    for (const TreeObject& o : built.objects) ids.push_back(o.id.Hex());
    offer["ids"] = Strings(ids);
    HttpResponse r = Call("POST", "/api/v1/trees/offer", token, offer.serialize());
    ASSERT_EQ(r.status, 200) << r.body;
    std::set<std::string> want;
    const value offered = value::parse(r.body);
    for (const value& id : offered.at("want").as_array()) want.insert(id.as_string());
    value objects = value::array();
    size_t n = 0;
    for (const TreeObject& o : built.objects) {
      if (want.count(o.id.Hex()) == 0) continue;
      value x = value::object();
      x["id"] = value(o.id.Hex());
      x["data"] = value(Base64Encode(o.data));
      objects[n++] = x;
    }
    if (n > 0) {
      value body = value::object();
      body["objects"] = objects;
      r = Call("POST", "/api/v1/trees/objects", token, body.serialize());
      ASSERT_EQ(r.status, 200) << r.body;
    }
    value tree = value::object();
    tree["root"] = value(built.root.Hex());
    tree["host_specific"] = Strings(host_specific);
    r = Call("POST", "/api/v1/agents/tree", token, tree.serialize());
    ASSERT_EQ(r.status, 200) << r.body;
  }

  void SetUpGroupOfFive() {
    for (int i = 1; i <= 6; ++i) {
      const std::string host = "web-" + std::to_string(i);
      agents_.push_back(Enroll(host, "web"));
      if (i <= 5) Upload(agents_.back(), GroupHost(i));
    }
  }

  value Get(const std::string& target, int want_status = 200) {
    HttpResponse r = Call("GET", target, read_);
    EXPECT_EQ(r.status, want_status) << target << ": " << r.body;
    return value::parse(r.body);
  }

  std::vector<std::string> agents_;
};

TEST_F(ApiPeersTest, GroupOfFiveOutliersAreExactlyTheEditedPaths) {
  SetUpGroupOfFive();
  value want = value::object();
  want["group"] = value("web");
  want["path"] = value("/");
  want["hosts"] = value::number(5);
  want["without_tree"] = Strings({"web-6"});
  want["differing_hosts"] = value::number(2);
  value extra = value::object();
  extra["path"] = value("/etc/cron.d/extra");
  extra["majority"] = value::null();
  extra["holders"] = value::number(4);
  value o4 = value::object();
  o4["host"] = value("web-4");
  o4["entry"] = FileJson("* * * * * root miner\n", "0644");
  extra["outliers"] = value::array({o4});
  value sshd = value::object();
  sshd["path"] = value("/etc/ssh/sshd_config");
  sshd["majority"] = FileJson("PermitRootLogin no\n", "0600");
  sshd["holders"] = value::number(4);
  value o2 = value::object();
  o2["host"] = value("web-2");
  o2["entry"] = FileJson("PermitRootLogin yes\n", "0600");
  sshd["outliers"] = value::array({o2});
  want["paths"] = value::array({extra, sshd});
  want["ignored"] = value::number(1);  // /etc/hostname
  want["truncated"] = value::boolean(false);
  EXPECT_EQ(Get("/api/v1/fleet/outliers?group=web").serialize(), want.serialize());

  // A prefix and a limit.
  value ssh = Get("/api/v1/fleet/outliers?group=web&path=/etc/ssh");
  ASSERT_EQ(ssh.at("paths").size(), 1u);
  EXPECT_EQ(ssh.at("paths")[0].at("path").as_string(), "/etc/ssh/sshd_config");
  EXPECT_EQ(ssh.at("differing_hosts").as_integer(), 1);
  value one = Get("/api/v1/fleet/outliers?group=web&limit=1");
  ASSERT_EQ(one.at("paths").size(), 1u);
  EXPECT_TRUE(one.at("truncated").as_bool());
  EXPECT_EQ(Get("/api/v1/fleet/outliers?group=web&path=/etc/hostname").at("ignored").as_integer(),
            1);
}

TEST_F(ApiPeersTest, CompareNamesExactlyTheChangedPaths) {
  SetUpGroupOfFive();
  value r = Get("/api/v1/fleet/compare?a=web-1&b=web-2");
  EXPECT_EQ(r.at("a").as_string(), "web-1");
  EXPECT_EQ(r.at("trees").at("a").as_string(), GroupHost(1).Build().root.Hex());
  EXPECT_EQ(r.at("trees").at("b").as_string(), GroupHost(2).Build().root.Hex());
  value hostname = value::object();
  hostname["path"] = value("/etc/hostname");
  hostname["status"] = value("differ");
  hostname["a"] = FileJson("web-1\n", "0644");
  hostname["b"] = FileJson("web-2\n", "0644");
  hostname["changed"] = Strings({"hash"});
  value sshd = value::object();
  sshd["path"] = value("/etc/ssh/sshd_config");
  sshd["status"] = value("differ");
  sshd["a"] = FileJson("PermitRootLogin no\n", "0600");
  sshd["b"] = FileJson("PermitRootLogin yes\n", "0600");
  sshd["changed"] = Strings({"size", "hash"});
  EXPECT_EQ(r.at("paths").serialize(), value::array({hostname, sshd}).serialize());
  EXPECT_FALSE(r.at("truncated").as_bool());
  // Today's fields are still there.
  EXPECT_TRUE(r.has_field("subtrees"));
  EXPECT_TRUE(r.has_field("differ"));
  EXPECT_TRUE(r.has_field("root_equal"));

  value cron = Get("/api/v1/fleet/compare?a=web-1&b=web-4&path=/etc/cron.d");
  ASSERT_EQ(cron.at("paths").size(), 1u);
  EXPECT_EQ(cron.at("paths")[0].at("path").as_string(), "/etc/cron.d/extra");
  EXPECT_EQ(cron.at("paths")[0].at("status").as_string(), "only_b");
  EXPECT_TRUE(cron.at("paths")[0].at("a").is_null());
  EXPECT_TRUE(cron.at("paths")[0].at("changed").as_array().size() == 0);

  value same = Get("/api/v1/fleet/compare?a=web-1&b=web-1");
  EXPECT_EQ(same.at("paths").size(), 0u);
  value cut = Get("/api/v1/fleet/compare?a=web-1&b=web-2&limit=1");
  EXPECT_EQ(cut.at("paths").size(), 1u);
  EXPECT_TRUE(cut.at("truncated").as_bool());
  value none = Get("/api/v1/fleet/compare?a=web-1&b=web-6");
  EXPECT_TRUE(none.at("paths").is_null());
  EXPECT_TRUE(none.at("trees").at("b").is_null());
  EXPECT_EQ(none.at("trees").at("a").as_string(), GroupHost(1).Build().root.Hex());
}

TEST_F(ApiPeersTest, BadRequestsAreRefusedClearly) {
  SetUpGroupOfFive();
  struct Case {
    std::string target;
    int status;
  };
  const Case cases[] = {
      {"/api/v1/fleet/outliers", 400},
      {"/api/v1/fleet/outliers?group=", 400},
      {"/api/v1/fleet/outliers?group=nowhere", 404},
      {"/api/v1/fleet/outliers?group=web&path=etc", 400},
      {"/api/v1/fleet/outliers?group=web&path=/etc/", 400},
      {"/api/v1/fleet/outliers?group=web&path=/etc/../x", 400},
      {"/api/v1/fleet/outliers?group=web&limit=0", 400},
      {"/api/v1/fleet/outliers?group=web&limit=many", 400},
      {"/api/v1/fleet/outliers?group=web&host=web-1", 400},
      {"/api/v1/fleet/compare?a=web-1", 400},
      {"/api/v1/fleet/compare?a=web-1&b=nobody", 404},
      {"/api/v1/fleet/compare?a=web-1&b=web-2&path=x", 400},
      {"/api/v1/fleet/compare?a=web-1&b=web-2&limit=-3", 400},
  };
  for (const Case& c : cases) {
    HttpResponse r = Call("GET", c.target, read_);
    EXPECT_EQ(r.status, c.status) << c.target << ": " << r.body;
    value body = value::parse(r.body);
    EXPECT_TRUE(body.has_field("error")) << c.target;
    EXPECT_FALSE(body.at("detail").as_string().empty()) << c.target;
  }
  EXPECT_EQ(Call("GET", "/api/v1/fleet/outliers?group=web", agents_[0]).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/fleet/compare?a=web-1&b=web-2", agents_[0]).status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/fleet/outliers?group=web", admin_, "{}").status, 405);
  EXPECT_EQ(Call("GET", "/api/v1/groups/web/baselines", agents_[0]).status, 403);
  EXPECT_EQ(Call("DELETE", "/api/v1/groups/web/baselines", admin_).status, 405);
}

TEST_F(ApiPeersTest, GroupBaselinesFromTheMajorityAndFromAHost) {
  SetUpGroupOfFive();
  HttpResponse r = Call("GET", "/api/v1/groups/web/baselines", read_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(value::parse(r.body).at("baselines").size(), 0u);

  now_ = kT0 + 1000000000;
  r = Call("POST", "/api/v1/groups/web/baselines", admin_,
           R"({"from_majority": true, "why": "golden web state"})");
  ASSERT_EQ(r.status, 201) << r.body;
  value made = value::parse(r.body);
  EXPECT_EQ(made.at("group").as_string(), "web");
  EXPECT_EQ(made.at("revision").as_integer(), 1);
  EXPECT_EQ(made.at("source").as_string(), "majority");
  EXPECT_EQ(made.at("by").as_string(), TokenId(HashToken(admin_)));
  EXPECT_EQ(made.at("why").as_string(), "golden web state");
  EXPECT_EQ(made.at("created").as_string(), FormatRfc3339Nanos(now_));
  // The majority: what web-1, 3 and 5 hold, without the host-specific path.
  TreeBuilder majority = WebHost("any");
  majority.Remove("/etc/hostname");
  EXPECT_EQ(made.at("root").as_string(), majority.Build().root.Hex());

  r = Call("POST", "/api/v1/groups/web/baselines", admin_,
           R"({"from_host": "web-2", "by": "alice", "why": "web-2 is right"})");
  ASSERT_EQ(r.status, 201) << r.body;
  TreeBuilder web2 = GroupHost(2);
  web2.Remove("/etc/hostname");
  EXPECT_EQ(value::parse(r.body).at("root").as_string(), web2.Build().root.Hex());
  EXPECT_EQ(value::parse(r.body).at("source").as_string(), "host:web-2");

  r = Call("GET", "/api/v1/groups/web/baselines", read_);
  ASSERT_EQ(r.status, 200);
  value list = value::parse(r.body);
  EXPECT_EQ(list.at("group").as_string(), "web");
  ASSERT_EQ(list.at("baselines").size(), 2u);
  EXPECT_EQ(list.at("baselines")[0].at("revision").as_integer(), 2);
  EXPECT_EQ(list.at("baselines")[0].at("by").as_string(), "alice");
  EXPECT_EQ(list.at("baselines")[1].at("revision").as_integer(), 1);
  EXPECT_EQ(list.at("baselines")[1].at("root").as_string(), majority.Build().root.Hex());

  // The group's agents are handed the newest revision, whose objects are
  // all held (the majority's new ones included).
  r = Call("GET", "/api/v1/agents/group-baseline", agents_[0]);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(value::parse(r.body).at("revision").as_integer(), 2);
  value fetch = value::object();
  fetch["ids"] = Strings({majority.Build().root.Hex()});
  r = Call("POST", "/api/v1/trees/fetch", agents_[0], fetch.serialize());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(value::parse(r.body).at("objects").size(), 1u);
}

TEST_F(ApiPeersTest, GroupBaselineMistakes) {
  SetUpGroupOfFive();
  Enroll("db-1", "db");
  struct Case {
    std::string group;
    std::string body;
    int status;
  };
  const Case cases[] = {
      {"web", R"({"from_majority": true})", 400},
      {"web", R"({"from_majority": true, "why": ""})", 400},
      {"web", R"({"why": "x"})", 400},
      {"web", R"({"from_majority": true, "from_host": "web-1", "why": "x"})", 400},
      {"web", R"({"from_majority": "yes", "why": "x"})", 400},
      {"web", R"({"from_host": 7, "why": "x"})", 400},
      {"web", R"(not json)", 400},
      {"web", R"({"from_host": "nobody", "why": "x"})", 404},
      {"web", R"({"from_host": "db-1", "why": "x"})", 409},
      {"web", R"({"from_host": "web-6", "why": "x"})", 409},
      {"db", R"({"from_majority": true, "why": "x"})", 409},
  };
  for (const Case& c : cases) {
    HttpResponse r = Call("POST", "/api/v1/groups/" + c.group + "/baselines", admin_, c.body);
    EXPECT_EQ(r.status, c.status) << c.body << ": " << r.body;
    EXPECT_TRUE(value::parse(r.body).has_field("error")) << c.body;
  }
  EXPECT_EQ(
      Call("POST", "/api/v1/groups/web/baselines", read_, R"({"from_majority": true, "why": "x"})")
          .status,
      403);
  // Nothing was made by any of them.
  HttpResponse r = Call("GET", "/api/v1/groups/web/baselines", read_);
  EXPECT_EQ(value::parse(r.body).at("baselines").size(), 0u);
}

}  // namespace
}  // namespace driftwatch::collector
