#include "collector/request_log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace driftwatch::collector {
namespace {

TEST(RouteTemplateTest, NamesTheRouteAndBoundsTheAnswers) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/healthz", "/healthz"},
      {"/metrics", "/metrics"},
      {"/", "/{file}"},
      {"/assets/app.js", "/{file}"},
      {"", "-"},
      {"/api/v1/hosts", "/api/v1/hosts"},
      {"/api/v1/hosts/web-1", "/api/v1/hosts/{id}"},
      {"/api/v1/hosts/history", "/api/v1/hosts/{id}"},
      {"/api/v1/hosts/web-1/packages", "/api/v1/hosts/{id}/packages"},
      {"/api/v1/hosts/web-1/rename", "/api/v1/hosts/{id}/rename"},
      {"/api/v1/hosts/web-1/x", "/api/v1/hosts/{id}/{id}"},
      {"/api/v1/tokens", "/api/v1/tokens"},
      {"/api/v1/tokens/t_1a2b3c4d5e6f", "/api/v1/tokens/{id}"},
      {"/api/v1/agents/commands", "/api/v1/agents/commands"},
      {"/api/v1/agents/commands/ack/ack", "/api/v1/agents/commands/{id}/ack"},
      {"/api/v1/fleet/summary", "/api/v1/fleet/summary"},
      {"/api/v1/fleet/restore", "/api/v1/fleet/restore"},
      {"/api/v1/hosts/web-1/restore", "/api/v1/hosts/{id}/restore"},
      {"/api/v1/hosts/restore/restore", "/api/v1/hosts/{id}/restore"},
      {"/api/v1/events/41/diff", "/api/v1/events/{id}/diff"},
      {"/api/v1/events/diff/diff", "/api/v1/events/{id}/diff"},
      {"/api/v1/paths/history", "/api/v1/paths/history"},
      {"/api/v1/enroll", "/api/v1/enroll"},
      {"/api/v1/secret-token-in-path", "/api/v1/{other}"},
      {"/api/v2/hosts", "/api/v1/{other}"},
      {"/api/v1/hosts/a/b/c/d/e/f/g", "/api/v1/{other}"},
      {"/api/v1", "/api/v1/{other}"},
  };
  for (const auto& [path, want] : cases) EXPECT_EQ(RouteTemplate(path), want) << path;
}

TEST(AuditEventTest, FromStatusRouteAndRole) {
  struct Case {
    std::string method, path, role;
    int status;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"GET", "/api/v1/hosts", "", 401, "sign_in_failed"},
      {"POST", "/api/v1/enroll", "", 429, "lockout"},
      {"POST", "/api/v1/enroll", "enroll", 201, "enroll"},
      {"POST", "/api/v1/enroll", "enroll", 409, "enroll"},
      {"POST", "/api/v1/tokens", "admin", 201, "token_create"},
      {"DELETE", "/api/v1/tokens/t_1", "admin", 200, "token_revoke"},
      {"DELETE", "/api/v1/hosts/web-1", "admin", 404, "host_remove"},
      {"POST", "/api/v1/hosts/web-1/rename", "admin", 200, "host_rename"},
      {"POST", "/api/v1/fleet/baseline", "admin", 200, "admin_request"},
      {"POST", "/api/v1/hosts/web-1/restore", "admin", 201, "restore"},
      {"POST", "/api/v1/fleet/restore", "admin", 400, "restore"},
      {"POST", "/api/v1/fleet/restore", "read", 403, ""},
      {"GET", "/api/v1/events/41/diff", "read", 200, ""},
      {"GET", "/api/v1/hosts", "admin", 200, "admin_request"},
      {"POST", "/api/v1/tokens", "read", 403, ""},
      {"GET", "/api/v1/hosts", "read", 200, ""},
      {"POST", "/api/v1/reports", "agent", 200, ""},
  };
  for (const Case& c : cases) {
    RequestRecord r;
    r.method = c.method;
    r.path = c.path;
    r.role = c.role;
    r.status = c.status;
    EXPECT_EQ(AuditEvent(r), c.want) << c.method << " " << c.path << " " << c.role;
  }
}

TEST(LogRequestTest, AccessAndAuditLines) {
  std::vector<std::string> lines;
  Logger log([&](std::string_view l) { lines.emplace_back(l.substr(25)); },  // after the time
             [] { return int64_t{0}; });
  RequestRecord r;
  r.client = "127.0.0.1";
  r.method = "DELETE";
  r.path = "/api/v1/tokens/t_9";
  r.status = 200;
  r.bytes = 40;
  r.duration_ns = 2500000;
  r.role = "admin";
  LogRequest(log, r);
  r = RequestRecord{};
  r.client = "10.0.0.7";
  r.method = "GET";
  r.path = "/api/v1/hosts";
  r.status = 401;
  r.bytes = 50;
  r.error_code = "unauthorized";
  LogRequest(log, r);
  r.path = "/healthz";
  r.status = 200;
  r.error_code.clear();
  LogRequest(log, r);  // debug: not shown at info
  EXPECT_EQ(lines,
            (std::vector<std::string>{
                "info access client=127.0.0.1 method=DELETE route=/api/v1/tokens/{id} "
                "path=/api/v1/tokens/t_9 status=200 bytes=40 duration_ms=2.500 role=admin\n",
                "info audit event=token_revoke outcome=ok client=127.0.0.1 method=DELETE "
                "route=/api/v1/tokens/{id} path=/api/v1/tokens/t_9 status=200 role=admin\n",
                "info access client=10.0.0.7 method=GET route=/api/v1/hosts path=/api/v1/hosts "
                "status=401 bytes=50 duration_ms=0.000 error=unauthorized\n",
                "warn audit event=sign_in_failed outcome=refused client=10.0.0.7 method=GET "
                "route=/api/v1/hosts path=/api/v1/hosts status=401 error=unauthorized\n"}));
}

TEST(RecordOfTest, ErrorCodeCallerAndEnrolledHost) {
  HttpRequest req;
  req.method = "POST";
  req.path = "/api/v1/enroll";
  req.client = "127.0.0.1";
  req.authorization = "Bearer dw_secret";
  HttpResponse out;
  out.status = 201;
  out.body = R"({"host_id":"web-1","group":"web","token":"dw_agent_secret"})";
  out.caller_role = "enroll";
  RequestRecord r = RecordOf(req, out, out.body.size(), 1000);
  EXPECT_EQ(r.host, "web-1");
  EXPECT_EQ(r.role, "enroll");
  EXPECT_EQ(r.error_code, "");
  EXPECT_EQ(r.bytes, out.body.size());
  std::string all;
  Logger log([&](std::string_view l) { all += l; }, [] { return int64_t{0}; });
  LogRequest(log, r);
  EXPECT_EQ(all.find("secret"), std::string::npos) << all;

  out = Api::Error(401, "unknown token");
  r = RecordOf(req, out, out.body.size(), 1000);
  EXPECT_EQ(r.error_code, "unauthorized");
  EXPECT_EQ(r.host, "");
  out.content_type = "text/html";
  EXPECT_EQ(RecordOf(req, out, 0, 0).error_code, "") << "not an API error body";
}

}  // namespace
}  // namespace driftwatch::collector
