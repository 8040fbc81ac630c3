// The Api's content routes: an event's diff stored apart from its listed
// body and served by GET /events/{id}/diff, redacted events carrying only
// their note, and restore commands queued for a host or a group and handed
// to agents with their options (api_test_fixture.h).
#include <gtest/gtest.h>

#include <cpprest/json.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "collector/api_test_fixture.h"
#include "collector/event_body.h"
#include "core/sqlite.h"

namespace driftwatch::collector {
namespace {

using web::json::value;

constexpr const char* kDiff =
    "--- /etc/app.conf\n+++ /etc/app.conf\n@@ -1,2 +1,2 @@\n port=80\n-debug=0\n+debug=1\n";

DriftEvent WithContent(DriftEvent e, const std::string& diff, const std::string& note) {
  e.diff = diff;
  e.content_note = note;
  return e;
}

TEST_F(ApiTest, AnEventsDiffIsServedApartFromTheListing) {
  std::string a = Enroll("a", "web");
  const std::vector<DriftEvent> events = {
      WithContent(Event("/etc/app.conf", DriftKind::kModified, Severity::kHigh), kDiff, ""),
      WithContent(Event("/etc/app.key", DriftKind::kModified, Severity::kHigh), "", "redacted"),
      Event("/etc/plain", DriftKind::kModified, Severity::kLow)};
  HttpResponse r = Call("POST", "/api/v1/reports", a, Report(kId1, "a", events, kT0));
  ASSERT_EQ(r.status, 200) << r.body;

  value list = value::parse(Call("GET", "/api/v1/drift?order=asc", read_).body).at("events");
  ASSERT_EQ(list.size(), 3u);
  EXPECT_TRUE(list[0].at("has_diff").as_bool());
  EXPECT_FALSE(list[0].has_field("diff")) << list[0].serialize();
  EXPECT_FALSE(list[0].has_field("content"));
  EXPECT_FALSE(list[1].at("has_diff").as_bool());
  EXPECT_EQ(list[1].at("content").as_string(), "redacted");
  EXPECT_FALSE(list[2].at("has_diff").as_bool());
  EXPECT_FALSE(list[2].has_field("content"));
  value history = value::parse(Call("GET", "/api/v1/paths/history?path=/etc/app.conf", read_).body);
  EXPECT_TRUE(history.at("events")[0].at("has_diff").as_bool());

  const int64_t id0 = list[0].at("id").as_integer();
  const std::string base = "/api/v1/events/";
  r = Call("GET", base + std::to_string(id0) + "/diff", read_);
  EXPECT_EQ(r.status, 200);
  value d = value::parse(r.body);
  EXPECT_EQ(d.at("id").as_integer(), id0);
  EXPECT_EQ(d.at("path").as_string(), "/etc/app.conf");
  EXPECT_EQ(d.at("diff").as_string(), kDiff);
  EXPECT_TRUE(d.at("content").is_null());

  r = Call("GET", base + std::to_string(list[1].at("id").as_integer()) + "/diff", admin_);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"content":"redacted","diff":null,"id":2,"path":"/etc/app.key"})");
  r = Call("GET", base + "3/diff", read_);
  EXPECT_EQ(r.body, R"({"content":null,"diff":null,"id":3,"path":"/etc/plain"})");

  r = Call("GET", base + "99/diff", read_);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"detail":"no event 99","error":"not_found"})");
  for (const char* bad : {"x", "0", "-1", "1x", "99999999999999999999"}) {
    r = Call("GET", base + bad + "/diff", read_);
    EXPECT_EQ(r.status, 400) << bad << " " << r.body;
  }
  EXPECT_EQ(Call("GET", base + "1/diff", a).status, 403);
  EXPECT_EQ(Call("GET", base + "1/diff", "").status, 401);
  EXPECT_EQ(Call("POST", base + "1/diff", read_).status, 405);
}

// Redacted content never reaches the collector: the agent sends only the
// note, and nothing else of the file is in the database or the API.
TEST_F(ApiTest, ARedactedEventLeavesNoContentInTheDatabase) {
  std::string a = Enroll("a", "web");
  DriftEvent e =
      WithContent(Event("/etc/shadow", DriftKind::kModified, Severity::kCritical), "", "redacted");
  HttpResponse r = Call("POST", "/api/v1/reports", a, Report(kId1, "a", {e}, kT0));
  ASSERT_EQ(r.status, 200) << r.body;
  // A report that sends both is what an agent never does; the collector
  // stores what it gets, so the codec's contract is what keeps it out:
  // a redacted event is encoded without a diff.
  value wire = DriftEventToJson(e);
  EXPECT_FALSE(wire.has_field("diff"));
  r = Call("GET", "/api/v1/events/1/diff", read_);
  EXPECT_EQ(r.body, R"({"content":"redacted","diff":null,"id":1,"path":"/etc/shadow"})");
  api_.reset();
  store_.reset();  // closes the database file, which takes in its write-ahead log
  std::ifstream in(dir_ + "/c.db", std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  EXPECT_EQ(bytes.str().find("@@ "), std::string::npos);
  // The event's body is stored packed (event_body.h): unpacked, it has the
  // note and nothing of the file either.
  auto db = sqlite::Db::Open(dir_ + "/c.db");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto s = (*db)->Prepare("SELECT body FROM events");
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(*s->Step());
  auto body = UnpackEventBody(s->Text(0));
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_NE(body->find("redacted"), std::string::npos) << *body;
  EXPECT_EQ(body->find("@@ "), std::string::npos) << *body;
}

TEST_F(ApiTest, RestoreIsQueuedForAHostOrAGroupAndHandedOutWithItsOptions) {
  std::string a = Enroll("a", "web");
  std::string b = Enroll("b", "web");
  Enroll("c", "db");
  HttpResponse r = Call("POST", "/api/v1/hosts/a/restore", admin_,
                        R"({"paths":["/etc/app.conf","/etc/nginx/**"],"reason":"undo edit"})");
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.body, R"({"all":false,"command":"restore","dry_run":false,"host":"a","id":1,)"
                    R"("paths":["/etc/app.conf","/etc/nginx/**"],"reason":"undo edit",)"
                    R"("remove_added":false})");
  r = Call("POST", "/api/v1/fleet/restore", admin_,
           R"({"group":"web","all":true,"remove_added":true,"dry_run":true,"reason":"drill"})");
  EXPECT_EQ(r.status, 200) << r.body;
  value v = value::parse(r.body);
  EXPECT_EQ(v.at("commands").serialize(), "[2,3]");
  EXPECT_EQ(v.at("queued").as_integer(), 2);
  EXPECT_EQ(v.at("group").as_string(), "web");

  v = value::parse(Call("GET", "/api/v1/agents/commands", a).body).at("commands");
  ASSERT_EQ(v.size(), 2u) << v.serialize();
  EXPECT_EQ(v[0].at("command").as_string(), "restore");
  EXPECT_EQ(v[0].at("paths").serialize(), R"(["/etc/app.conf","/etc/nginx/**"])");
  EXPECT_FALSE(v[0].at("all").as_bool());
  EXPECT_EQ(v[0].at("reason").as_string(), "undo edit");
  EXPECT_TRUE(v[1].at("all").as_bool());
  EXPECT_TRUE(v[1].at("remove_added").as_bool());
  EXPECT_TRUE(v[1].at("dry_run").as_bool());
  EXPECT_EQ(v[1].at("reason").as_string(), "drill");
  v = value::parse(Call("GET", "/api/v1/agents/commands", b).body).at("commands");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].at("id").as_integer(), 3);
  r = Call("POST", "/api/v1/agents/commands/3/ack", b,
           R"({"ok":false,"detail":"allow_remote_restore is off in agent.yaml"})");
  EXPECT_EQ(r.status, 200) << r.body;
  v = value::parse(Call("GET", "/api/v1/hosts/b", read_).body).at("commands")[0];
  EXPECT_FALSE(v.at("ok").as_bool());
  EXPECT_EQ(v.at("detail").as_string(), "allow_remote_restore is off in agent.yaml");
  EXPECT_TRUE(v.at("dry_run").as_bool());

  // Every host when the group is left out.
  r = Call("POST", "/api/v1/fleet/restore", admin_, R"({"all":true,"reason":"all of them"})");
  EXPECT_EQ(value::parse(r.body).at("queued").as_integer(), 3);
}

TEST_F(ApiTest, RestoreRefusesBadRequests) {
  Enroll("a", "web");
  const std::string url = "/api/v1/hosts/a/restore";
  for (const auto& [body, detail] : std::vector<std::pair<std::string, std::string>>{
           {R"({"paths":["/etc/x"]})", "reason: required (why the files are restored)"},
           {R"({"paths":["/etc/x"],"reason":""})", "reason: required (why the files are restored)"},
           {R"({"reason":"r"})", "paths: expected a non-empty array of paths, or all: true"},
           {R"({"paths":[],"reason":"r"})",
            "paths: expected a non-empty array of paths, or all: true"},
           {R"({"paths":["/etc/x"],"all":true,"reason":"r"})",
            "paths: give either paths or all: true, not both"},
           {R"({"paths":"/etc/x","reason":"r"})", "paths: expected an array of paths"},
           {R"({"paths":[5],"reason":"r"})", "paths[0]: expected a string"},
           {R"({"paths":["etc/x"],"reason":"r"})",
            "paths[0]: expected an absolute path or glob of at most 4096 bytes"},
           {R"({"all":"yes","reason":"r"})", "all: expected a boolean"},
           {R"({"all":true,"reason":")" + std::string(1001, 'x') + "\"}",
            "reason: at most 1000 bytes"},
       }) {
    HttpResponse r = Call("POST", url, admin_, body);
    EXPECT_EQ(r.status, 400) << body << " " << r.body;
    value v = value::parse(r.body);
    EXPECT_EQ(v.at("detail").as_string(), detail) << body;
  }
  EXPECT_EQ(Call("POST", "/api/v1/hosts/zz/restore", admin_, R"({"all":true,"reason":"r"})").status,
            404);
  EXPECT_EQ(Call("POST", url, read_, R"({"all":true,"reason":"r"})").status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/fleet/restore", read_, R"({"all":true,"reason":"r"})").status,
            403);
  EXPECT_EQ(Call("GET", url, admin_).status, 405);
  EXPECT_EQ(Call("POST", "/api/v1/fleet/restore", admin_, R"({"group":5,"all":true,"reason":"r"})")
                .status,
            400);
  // Nothing was queued.
  value v = value::parse(Call("GET", "/api/v1/hosts/a", read_).body);
  EXPECT_EQ(v.at("commands").size(), 0u);
}

}  // namespace
}  // namespace driftwatch::collector
