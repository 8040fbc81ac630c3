// The fleet lifecycle over the admin API: tokens listed, created and
// revoked; hosts removed and renamed; re-enrollment of a reinstalled host
// (api_test_fixture.h).
#include <gtest/gtest.h>

#include <cpprest/json.h>

#include "collector/api_test_fixture.h"

namespace driftwatch::collector {
namespace {

using web::json::value;

// The token with public id `id` in a GET /tokens answer, or null.
value Listed(const HttpResponse& r, const std::string& id) {
  const value all = value::parse(r.body);
  for (const value& t : all.at("tokens").as_array()) {
    if (t.at("id").as_string() == id) return t;
  }
  return value::null();
}

TEST_F(ApiTest, TokensAreCreatedListedWithoutSecretsAndRevoked) {
  HttpResponse r =
      Call("POST", "/api/v1/tokens", admin_, R"({"role":"enroll","uses":2,"expires":"7d"})");
  ASSERT_EQ(r.status, 201) << r.body;
  value created = value::parse(r.body);
  const std::string secret = created.at("token").as_string();
  const std::string id = created.at("id").as_string();
  EXPECT_EQ(id, TokenId(HashToken(secret)));
  EXPECT_EQ(id.size(), 14u);
  created.erase("token");
  EXPECT_EQ(
      created.serialize(),
      R"({"created":"2026-11-01T00:00:00.000000000Z","expires":"2026-11-08T00:00:00.000000000Z",)"
      R"("host":null,"id":")" +
          id + R"(","last_used":null,"revoked":null,"role":"enroll","uses_left":2})");

  now_ += 120LL * 1000000000;  // past the resolution of last_used
  r = Call("GET", "/api/v1/tokens", admin_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find(secret), std::string::npos);
  EXPECT_EQ(r.body.find(HashToken(secret)), std::string::npos);
  EXPECT_EQ(Listed(r, id).serialize(), created.serialize()) << r.body;
  // The admin token was used for this very request.
  EXPECT_EQ(Listed(r, TokenId(HashToken(admin_)))["last_used"].as_string(),
            "2026-11-01T00:02:00.000000000Z");
  EXPECT_EQ(value::parse(r.body)["tokens"].size(), 4u);  // read, admin, enroll, this one

  r = Call("DELETE", "/api/v1/tokens/" + id, admin_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"id":")" + id + R"(","revoked":"2026-11-01T00:02:00.000000000Z"})");
  now_ += 1;
  // Revoking again keeps the first time.
  EXPECT_EQ(Call("DELETE", "/api/v1/tokens/" + id, admin_).body, r.body);
  r = Call("POST", "/api/v1/enroll", secret, R"({"host":"web-1"})");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"detail":"this token was revoked; ask an admin for a new one",)"
                    R"("error":"token_revoked"})");
  EXPECT_EQ(Listed(Call("GET", "/api/v1/tokens", admin_), id)["revoked"].as_string(),
            "2026-11-01T00:02:00.000000000Z");

  EXPECT_EQ(Call("DELETE", "/api/v1/tokens/t_000000000000", admin_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/tokens", read_).status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/tokens", enroll_, R"({"role":"read"})").status, 403);
  EXPECT_EQ(Call("PUT", "/api/v1/tokens", admin_).status, 405);
  EXPECT_EQ(Call("GET", "/api/v1/tokens/" + id, admin_).status, 405);
  r = Call("POST", "/api/v1/tokens", admin_, R"({"role":"agent"})");
  EXPECT_EQ(r.body, R"({"detail":"role: expected enroll, read, admin or reenroll",)"
                    R"("error":"bad_request"})");
  r = Call("POST", "/api/v1/tokens", admin_, R"({"role":"read","uses":3})");
  EXPECT_EQ(r.body, R"({"detail":"uses, expires: only enroll and reenroll tokens take them",)"
                    R"("error":"bad_request"})");
  EXPECT_EQ(Call("POST", "/api/v1/tokens", admin_, R"({"role":"enroll","uses":0})").status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/tokens", admin_, R"({"role":"enroll","expires":"soon"})").status,
            400);
  r = Call("POST", "/api/v1/tokens", admin_, R"({"role":"reenroll"})");
  EXPECT_EQ(r.body, R"({"detail":"host: a reenroll token names the enrolled host it may enroll )"
                    R"x(again (1-128 characters of A-Z a-z 0-9 . _ -)","error":"bad_request"})x");
  EXPECT_EQ(Call("POST", "/api/v1/tokens", admin_, R"({"role":"reenroll","host":"ghost"})").status,
            404);
  EXPECT_EQ(Call("POST", "/api/v1/tokens", admin_, R"({"role":"read","host":"web-1"})").status,
            400);
  r = Call("POST", "/api/v1/tokens", admin_, R"({"role":"read"})");
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(Call("GET", "/api/v1/hosts", value::parse(r.body)["token"].as_string()).status, 200);
}

TEST_F(ApiTest, AReinstalledHostReEnrollsOnlyWithItsReEnrollToken) {
  const std::string old_agent = Enroll("web-1", "web");
  ASSERT_EQ(
      Call("POST", "/api/v1/reports", old_agent,
           Report(kId1, "web-1", {Event("/etc/a", DriftKind::kAdded, Severity::kHigh)}, kT0 + 5))
          .status,
      200);

  HttpResponse r = Call("POST", "/api/v1/enroll", enroll_, R"({"host":"web-1","group":"web"})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(value::parse(r.body).serialize(),
            R"({"detail":"host web-1 is already enrolled; to re-enroll a reinstalled host, an )"
            R"(admin issues a re-enroll token: driftwatch-collector token create --role reenroll )"
            R"(--host web-1","error":"already_enrolled"})");

  r = Call("POST", "/api/v1/tokens", admin_, R"({"role":"reenroll","host":"web-1"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(value::parse(r.body)["uses_left"].as_integer(), 1);
  EXPECT_EQ(value::parse(r.body)["host"].as_string(), "web-1");
  const std::string reenroll = value::parse(r.body)["token"].as_string();
  EXPECT_EQ(Call("GET", "/api/v1/whoami", reenroll).body, R"({"host":"web-1","role":"reenroll"})");
  EXPECT_EQ(Call("GET", "/api/v1/hosts", reenroll).status, 403);
  r = Call("POST", "/api/v1/enroll", reenroll, R"({"host":"web-2"})");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, R"({"detail":"this re-enroll token is for host 'web-1', not 'web-2'",)"
                    R"("error":"forbidden"})");

  now_ = kT0 + 10;
  r = Call("POST", "/api/v1/enroll", reenroll,
           R"({"host":"web-1","group":"db","agent_version":"2.0"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string new_agent = value::parse(r.body)["token"].as_string();
  EXPECT_NE(new_agent, old_agent);
  // The old installation's token stops; the re-enroll token is used up.
  r = Call("POST", "/api/v1/reports", old_agent, Report(kId2, "web-1", {}, kT0 + 11));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(value::parse(r.body)["error"].as_string(), "token_revoked");
  r = Call("POST", "/api/v1/enroll", reenroll, R"({"host":"web-1"})");
  EXPECT_EQ(value::parse(r.body)["error"].as_string(), "token_used_up");

  ASSERT_EQ(
      Call("POST", "/api/v1/reports", new_agent,
           Report(kId2, "web-1", {Event("/etc/b", DriftKind::kAdded, Severity::kLow)}, kT0 + 12))
          .status,
      200);
  value host = value::parse(Call("GET", "/api/v1/hosts/web-1", read_).body);
  EXPECT_EQ(host["group"].as_string(), "db");
  EXPECT_EQ(host["agent_version"].as_string(), "test");
  EXPECT_EQ(host["reports"].as_integer(), 2);
  EXPECT_EQ(host["enrolled"].as_string(), "2026-11-01T00:00:00.000000000Z");
  value drift = value::parse(Call("GET", "/api/v1/drift?host=web-1", read_).body);
  ASSERT_EQ(drift["events"].size(), 2u);
}

TEST_F(ApiTest, RemovedHostLosesItsDataAndTokensRenamedKeepsThem) {
  const std::string a = Enroll("web-1", "web");
  const std::string b = Enroll("web-2", "web");
  ASSERT_EQ(
      Call("POST", "/api/v1/reports", a,
           Report(kId1, "web-1", {Event("/etc/a", DriftKind::kAdded, Severity::kHigh)}, kT0 + 5))
          .status,
      200);
  ASSERT_EQ(
      Call("POST", "/api/v1/reports", b,
           Report(kId2, "web-2", {Event("/etc/b", DriftKind::kAdded, Severity::kLow)}, kT0 + 6))
          .status,
      200);
  ASSERT_EQ(
      Call("POST", "/api/v1/hosts/web-2/commands", admin_, R"({"command":"check-now"})").status,
      201);

  EXPECT_EQ(Call("DELETE", "/api/v1/hosts/web-1", read_).status, 403);
  HttpResponse r = Call("DELETE", "/api/v1/hosts/web-1", admin_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"id":"web-1","removed":true})");
  EXPECT_EQ(Call("DELETE", "/api/v1/hosts/web-1", admin_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/hosts/web-1", read_).status, 404);
  EXPECT_EQ(value::parse(Call("GET", "/api/v1/drift?host=web-1", read_).body)["events"].size(), 0u);
  EXPECT_EQ(
      value::parse(Call("GET", "/api/v1/fleet/summary", read_).body).serialize().find("web-1"),
      std::string::npos);
  r = Call("GET", "/api/v1/agents/commands", a);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(value::parse(r.body)["error"].as_string(), "token_revoked");

  r = Call("POST", "/api/v1/hosts/web-2/rename", admin_, R"({"name":"web-9"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"id":"web-9","previous":"web-2"})");
  EXPECT_EQ(Call("GET", "/api/v1/hosts/web-2", read_).status, 404);
  value host = value::parse(Call("GET", "/api/v1/hosts/web-9", read_).body);
  EXPECT_EQ(host["reports"].as_integer(), 1);
  EXPECT_EQ(host["commands"].size(), 1u);
  value drift = value::parse(Call("GET", "/api/v1/drift?host=web-9", read_).body);
  ASSERT_EQ(drift["events"].size(), 1u);
  EXPECT_EQ(drift["events"][0]["host"].as_string(), "web-9");
  // The agent's token follows the host: it polls as web-9.
  EXPECT_EQ(Call("GET", "/api/v1/whoami", b).body, R"({"host":"web-9","role":"agent"})");
  EXPECT_EQ(value::parse(Call("GET", "/api/v1/agents/commands", b).body)["commands"].size(), 1u);

  const std::string c = Enroll("web-3", "");
  EXPECT_EQ(Call("POST", "/api/v1/hosts/web-9/rename", admin_, R"({"name":"web-3"})").status, 409);
  EXPECT_EQ(Call("POST", "/api/v1/hosts/web-9/rename", admin_, R"({"name":"bad name"})").status,
            400);
  EXPECT_EQ(Call("POST", "/api/v1/hosts/ghost/rename", admin_, R"({"name":"web-4"})").status, 404);
  EXPECT_EQ(Call("POST", "/api/v1/hosts/web-9/rename", admin_, R"({})").status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/hosts/web-9/rename", admin_).status, 405);
  EXPECT_EQ(Call("POST", "/api/v1/hosts/web-9/rename", c, R"({"name":"web-5"})").status, 403);
}

}  // namespace
}  // namespace driftwatch::collector
