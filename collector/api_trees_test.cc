// The fleet's trees over the API, agent side: offer, objects, agents/tree,
// agents/group-baseline and fetch (docs/api.md "Fleet trees"), on a real
// SQLite store, with trees made by core's SerializeTree.
#include <cpprest/json.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "collector/api_test_fixture.h"
#include "core/base64.h"
#include "tests/testing/tree_objects.h"

namespace driftwatch::collector {
namespace {

using testing::Dir;
using testing::DirEntry;
using testing::FileEntry;
using web::json::value;

value Ids(const std::vector<std::string>& ids) {
  value a = value::array(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) a[i] = value(ids[i]);
  return a;
}

std::string IdsBody(const std::vector<std::string>& ids) {
  value o = value::object();
  o["ids"] = Ids(ids);
  return o.serialize();
}

std::string ObjectsBody(const std::vector<TreeObject>& objects) {
  value a = value::array(objects.size());
  for (size_t i = 0; i < objects.size(); ++i) {
    value o = value::object();
    o["id"] = value(objects[i].id.Hex());
    o["data"] = value(Base64Encode(objects[i].data));
    a[i] = o;
  }
  value o = value::object();
  o["objects"] = a;
  return o.serialize();
}

std::vector<std::string> Strings(const value& a) {
  std::vector<std::string> out;
  for (const value& v : a.as_array()) out.push_back(v.as_string());
  return out;
}

class ApiTreesTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    h1_ = Enroll("h1", "web");
    h2_ = Enroll("h2", "web");
    // /etc with ssh/sshd_config and hostname: three objects, children first.
    ssh_ = Dir({FileEntry("sshd_config", "PermitRootLogin no\n", 0600)});
    etc_ = Dir({FileEntry("hostname", "h\n"), DirEntry("ssh", ssh_)});
    root_ = Dir({DirEntry("etc", etc_)});
  }

  HttpResponse Offer(const std::string& token, const std::vector<std::string>& ids) {
    return Call("POST", "/api/v1/trees/offer", token, IdsBody(ids));
  }
  HttpResponse Upload(const std::string& token, const std::vector<TreeObject>& objects) {
    return Call("POST", "/api/v1/trees/objects", token, ObjectsBody(objects));
  }
  HttpResponse SetTree(const std::string& token, const TreeObject& root,
                       const std::vector<std::string>& host_specific = {}) {
    value o = value::object();
    o["root"] = value(root.id.Hex());
    o["host_specific"] = Ids(host_specific);
    return Call("POST", "/api/v1/agents/tree", token, o.serialize());
  }
  TreeStoreCounts Counts() {
    auto c = store_->trees().CountTrees();
    EXPECT_TRUE(c.ok()) << c.status().message();
    return c.ok() ? *c : TreeStoreCounts{};
  }

  std::string h1_, h2_;
  TreeObject ssh_, etc_, root_;
};

// The issue's test: a second host with the same tree uploads nothing but
// its root, and the collector holds each object once.
TEST_F(ApiTreesTest, TwoHostsWithIdenticalTreesStoreEachTreeObjectOnce) {
  const std::vector<std::string> all = {root_.id.Hex(), etc_.id.Hex(), ssh_.id.Hex()};
  HttpResponse r = Offer(h1_, all);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Strings(value::parse(r.body).at("want")), all);
  r = Upload(h1_, {ssh_, etc_, root_});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(value::parse(r.body).at("stored").as_number().to_int64(), 3);
  EXPECT_EQ(value::parse(r.body).at("held").as_number().to_int64(), 0);
  r = SetTree(h1_, root_, {"/etc/hostname"});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(value::parse(r.body).at("root").as_string(), root_.id.Hex());

  r = Offer(h2_, {root_.id.Hex()});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(value::parse(r.body).at("want").size(), 0u);
  r = SetTree(h2_, root_, {"/etc/hostname"});
  ASSERT_EQ(r.status, 200) << r.body;
  // An upload of what is held stores nothing again.
  r = Upload(h2_, {ssh_});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(value::parse(r.body).at("stored").as_number().to_int64(), 0);
  EXPECT_EQ(value::parse(r.body).at("held").as_number().to_int64(), 1);

  const TreeStoreCounts c = Counts();
  EXPECT_EQ(c.objects, 3);
  EXPECT_EQ(c.bytes, static_cast<int64_t>(ssh_.data.size() + etc_.data.size() + root_.data.size()));
  EXPECT_EQ(c.host_trees, 2);
  auto group = store_->trees().GroupTrees("web");
  ASSERT_TRUE(group.ok()) << group.status().message();
  ASSERT_EQ(group->size(), 2u);
  EXPECT_EQ((*group)[0].host_id, "h1");
  EXPECT_EQ((*group)[1].host_id, "h2");
  for (const HostTree& t : *group) {
    EXPECT_EQ(t.root, root_.id);
    EXPECT_EQ(t.set_ns, now_);
    EXPECT_EQ(t.host_specific, std::vector<std::string>{"/etc/hostname"});
  }
}

TEST_F(ApiTreesTest, OfferAnswersTheIdsNotHeldInOfferedOrderOnce) {
  ASSERT_EQ(Upload(h1_, {ssh_}).status, 200);
  HttpResponse r = Offer(h1_, {root_.id.Hex(), ssh_.id.Hex(), etc_.id.Hex(), root_.id.Hex()});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Strings(value::parse(r.body).at("want")),
            (std::vector<std::string>{root_.id.Hex(), etc_.id.Hex()}));
}

TEST_F(ApiTreesTest, OfferRefusesBadLists) {
  const auto code = [&](const std::string& body) {
    HttpResponse r = Call("POST", "/api/v1/trees/offer", h1_, body);
    return r.status;
  };
  EXPECT_EQ(code(IdsBody({})), 400);
  EXPECT_EQ(code("{}"), 400);
  EXPECT_EQ(code(R"({"ids": "abc"})"), 400);
  EXPECT_EQ(code(R"({"ids": [1]})"), 400);
  EXPECT_EQ(code(IdsBody({"0F1E2D3C4B5A69788796A5B4C3D2E1F0"})), 400);  // uppercase
  EXPECT_EQ(code(IdsBody({"0f1e2d3c4b5a69788796a5b4c3d2e1f"})), 400);   // 31 digits
  EXPECT_EQ(code(IdsBody({"0f1e2d3c4b5a69788796a5b4c3d2e1fg"})), 400);
  std::vector<std::string> many(10001, ssh_.id.Hex());
  HttpResponse r = Call("POST", "/api/v1/trees/offer", h1_, IdsBody(many));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"({"detail":"ids: expected 1 to 10000 tree ids, got 10001","error":"bad_request"})");
  many.resize(10000);
  EXPECT_EQ(code(IdsBody(many)), 200);
}

TEST_F(ApiTreesTest, OnlyAgentsSendTreesAndReadersMayFetch) {
  EXPECT_EQ(Offer(read_, {ssh_.id.Hex()}).status, 403);
  EXPECT_EQ(Offer(admin_, {ssh_.id.Hex()}).status, 403);
  EXPECT_EQ(Upload(admin_, {ssh_}).status, 403);
  EXPECT_EQ(SetTree(read_, root_).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/agents/group-baseline", admin_).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/trees/offer", h1_).status, 405);
  EXPECT_EQ(Call("POST", "/api/v1/agents/group-baseline", h1_, "{}").status, 405);
  EXPECT_EQ(Offer("", {ssh_.id.Hex()}).status, 401);
  for (const std::string& token : {h1_, read_, admin_}) {
    EXPECT_EQ(Call("POST", "/api/v1/trees/fetch", token, IdsBody({ssh_.id.Hex()})).status, 200);
  }
  EXPECT_EQ(Call("POST", "/api/v1/trees/fetch", enroll_, IdsBody({ssh_.id.Hex()})).status, 403);
}

TEST_F(ApiTreesTest, AnObjectWhoseSubtreeIsNotHeldIsRefusedAndNothingIsStored) {
  // The parent before its child, and a parent without its child.
  HttpResponse r = Upload(h1_, {ssh_, root_, etc_});
  ASSERT_EQ(r.status, 409) << r.body;
  value v = value::parse(r.body);
  EXPECT_EQ(v.at("error").as_string(), "missing_objects");
  EXPECT_EQ(Strings(v.at("want")), std::vector<std::string>{etc_.id.Hex()});
  EXPECT_EQ(Counts().objects, 0);
  r = Upload(h1_, {etc_});
  ASSERT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(Strings(value::parse(r.body).at("want")), std::vector<std::string>{ssh_.id.Hex()});
  EXPECT_EQ(Counts().objects, 0);
  // Once the child is held the parent goes in alone.
  ASSERT_EQ(Upload(h1_, {ssh_}).status, 200);
  ASSERT_EQ(Upload(h1_, {etc_}).status, 200);
  EXPECT_EQ(Counts().objects, 2);
}

TEST_F(ApiTreesTest, BadObjectsAreRefusedNamingTheirId) {
  TreeObject wrong = ssh_;
  wrong.id = etc_.id;  // bytes that do not hash to the id
  HttpResponse r = Upload(h1_, {wrong});
  ASSERT_EQ(r.status, 400) << r.body;
  value v = value::parse(r.body);
  EXPECT_EQ(v.at("error").as_string(), "bad_object");
  EXPECT_NE(v.at("detail").as_string().find(etc_.id.Hex()), std::string::npos) << r.body;

  TreeObject junk;
  junk.data = "not a tree";
  junk.id = TreeHash(junk.data);
  r = Upload(h1_, {ssh_, junk});
  ASSERT_EQ(r.status, 400) << r.body;
  v = value::parse(r.body);
  EXPECT_EQ(v.at("error").as_string(), "bad_object");
  EXPECT_NE(v.at("detail").as_string().find(junk.id.Hex()), std::string::npos) << r.body;

  const std::string bad64 = R"({"objects": [{"id": ")" + ssh_.id.Hex() + R"(", "data": "%%%"}]})";
  r = Call("POST", "/api/v1/trees/objects", h1_, bad64);
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(value::parse(r.body).at("error").as_string(), "bad_object");
  EXPECT_EQ(Call("POST", "/api/v1/trees/objects", h1_, R"({"objects": []})").status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/trees/objects", h1_, R"({"objects": [{"id": 1}]})").status, 400);
  EXPECT_EQ(Counts().objects, 0);  // nothing of the refused requests
}

TEST_F(ApiTreesTest, ATreeWhoseRootIsNotHeldIsRefused) {
  HttpResponse r = SetTree(h1_, root_);
  ASSERT_EQ(r.status, 409) << r.body;
  value v = value::parse(r.body);
  EXPECT_EQ(v.at("error").as_string(), "missing_objects");
  EXPECT_EQ(Strings(v.at("want")), std::vector<std::string>{root_.id.Hex()});
  auto t = store_->trees().GetHostTree("h1");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->has_value());
}

TEST_F(ApiTreesTest, HostSpecificPathsAreUnescapedAndChecked) {
  ASSERT_EQ(Upload(h1_, {ssh_, etc_, root_}).status, 200);
  HttpResponse r = SetTree(h1_, root_, {"/etc/host\\x01name", "/etc/ssh/ssh_host_*"});
  ASSERT_EQ(r.status, 200) << r.body;
  auto t = store_->trees().GetHostTree("h1");
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_EQ((*t)->host_specific,
            (std::vector<std::string>{std::string("/etc/host\x01name"), "/etc/ssh/ssh_host_*"}));
  EXPECT_EQ(SetTree(h1_, root_, {"etc/relative"}).status, 400);
  EXPECT_EQ(SetTree(h1_, root_, {"/bad\\q"}).status, 400);
  EXPECT_EQ(SetTree(h1_, root_, std::vector<std::string>(4097, "/etc/x")).status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/agents/tree", h1_, R"({"root": "xyz"})").status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/agents/tree", h1_, "{}").status, 400);
  // The refused calls left the tree as it was.
  t = store_->trees().GetHostTree("h1");
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_EQ((*t)->host_specific.size(), 2u);
}

TEST_F(ApiTreesTest, GroupBaselineOfTheCallersGroup) {
  HttpResponse r = Call("GET", "/api/v1/agents/group-baseline", h1_);
  ASSERT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(value::parse(r.body).at("error").as_string(), "no_group_baseline");
  ASSERT_TRUE(store_->trees().PutTrees({ssh_, etc_, root_}, now_).ok());
  GroupBaseline b;
  b.group = "web";
  b.root = root_.id;
  b.source = "host:h2";
  b.by = "ops";
  b.why = "golden host";
  b.created_ns = kT0;
  ASSERT_EQ(*store_->trees().AddGroupBaseline(b), 1);
  b.source = "majority";
  ASSERT_EQ(*store_->trees().AddGroupBaseline(b), 2);
  r = Call("GET", "/api/v1/agents/group-baseline", h1_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"by":"ops","created":"2026-11-01T00:00:00Z","group":"web","revision":2,)"
                    R"("root":")" +
                        root_.id.Hex() + R"(","source":"majority","why":"golden host"})");
  const std::string other = Enroll("d1", "db");
  EXPECT_EQ(Call("GET", "/api/v1/agents/group-baseline", other).status, 404);
}

TEST_F(ApiTreesTest, FetchAnswersObjectsMissingAndMore) {
  ASSERT_EQ(Upload(h1_, {ssh_, etc_, root_}).status, 200);
  const std::string unknown = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
  HttpResponse r = Call("POST", "/api/v1/trees/fetch", read_,
                        IdsBody({root_.id.Hex(), unknown, ssh_.id.Hex(), root_.id.Hex()}));
  ASSERT_EQ(r.status, 200) << r.body;
  value v = value::parse(r.body);
  ASSERT_EQ(v.at("objects").size(), 2u);
  EXPECT_EQ(v.at("objects").at(0).at("id").as_string(), root_.id.Hex());
  EXPECT_EQ(*Base64Decode(v.at("objects").at(0).at("data").as_string()), root_.data);
  EXPECT_EQ(v.at("objects").at(1).at("id").as_string(), ssh_.id.Hex());
  EXPECT_EQ(*Base64Decode(v.at("objects").at(1).at("data").as_string()), ssh_.data);
  EXPECT_EQ(Strings(v.at("missing")), std::vector<std::string>{unknown});
  EXPECT_EQ(v.at("more").size(), 0u);
  std::vector<std::string> many(1001, ssh_.id.Hex());
  EXPECT_EQ(Call("POST", "/api/v1/trees/fetch", read_, IdsBody(many)).status, 400);
}

// Objects past 4 MiB of data in one answer are left for the next call.
TEST_F(ApiTreesTest, FetchStopsAtFourMebibytesAndListsTheRestInMore) {
  std::vector<TreeObject> big;
  for (int k = 0; k < 3; ++k) {
    std::vector<Entry> entries;
    for (int i = 0; i < 1500; ++i) {
      entries.push_back(FileEntry(std::string(1000, 'a' + k) + std::to_string(i), "x"));
    }
    big.push_back(Dir(std::move(entries)));
    ASSERT_GT(big.back().data.size(), size_t{1500000});
  }
  ASSERT_TRUE(store_->trees().PutTrees(big, now_).ok());
  HttpResponse r = Call("POST", "/api/v1/trees/fetch", h1_,
                        IdsBody({big[0].id.Hex(), big[1].id.Hex(), big[2].id.Hex()}));
  ASSERT_EQ(r.status, 200);
  value v = value::parse(r.body);
  ASSERT_EQ(v.at("objects").size(), 2u);
  EXPECT_EQ(v.at("objects").at(1).at("id").as_string(), big[1].id.Hex());
  EXPECT_EQ(Strings(v.at("more")), std::vector<std::string>{big[2].id.Hex()});
  EXPECT_EQ(v.at("missing").size(), 0u);
}

}  // namespace
}  // namespace driftwatch::collector
