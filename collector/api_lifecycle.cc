// The fleet's lifecycle over the admin API (docs/api.md "Fleet lifecycle"):
// tokens listed, created and revoked; hosts removed and renamed.
#include <cpprest/json.h>

#include <cstdint>

#include "collector/api.h"
#include "collector/api_json.h"
#include "collector/api_util.h"
#include "collector/auth.h"
#include "core/drift_json.h"
#include "core/duration.h"
#include "core/json_fields.h"

namespace driftwatch::collector {

using web::json::value;
using namespace api_internal;  // NOLINT: the handlers' shared helpers

value TokenRecordJson(const TokenRecord& t) {
  value o = value::object();
  o["id"] = value(t.id);
  o["role"] = value(std::string(RoleName(t.info.role)));
  o["host"] = t.info.host_id.empty() ? value::null() : value(t.info.host_id);
  o["created"] = value(FormatRfc3339Nanos(t.created_ns));
  o["expires"] = TimeOrNull(t.info.limits.expires_ns);
  o["uses_left"] =
      t.info.limits.uses_left < 0 ? value::null() : value::number(t.info.limits.uses_left);
  o["revoked"] = TimeOrNull(t.info.revoked_ns);
  o["last_used"] = TimeOrNull(t.info.last_used_ns);
  return o;
}

std::optional<HttpResponse> Api::RouteLifecycle(const CollectorConfig& config, const Caller& c,
                                                const HttpRequest& req,
                                                const std::vector<std::string>& p) {
  const bool tokens = !p.empty() && p[0] == "tokens" && p.size() <= 2;
  const bool host = p.size() == 2 && p[0] == "hosts" && req.method == "DELETE";
  const bool rename = p.size() == 3 && p[0] == "hosts" && p[2] == "rename";
  if (!tokens && !host && !rename) return std::nullopt;
  const std::string_view wanted = p.size() == 1 ? (req.method == "POST" ? "POST" : "GET")
                                  : rename      ? "POST"
                                                : "DELETE";
  if (req.method != wanted) {
    return Error(405, "method " + req.method + " not allowed on " + req.path);
  }
  if (c.role != Role::kAdmin) {
    return Error(403, std::string("a token of role '") + std::string(RoleName(c.role)) +
                          "' may not manage the fleet's tokens and hosts (admin only)");
  }
  if (tokens && p.size() == 1 && req.method == "GET") return ListTokens();
  if (tokens && p.size() == 1) return CreateToken(config, req);
  if (tokens) return RevokeToken(p[1]);
  if (host) return RemoveHost(p[1]);
  return RenameHost(config, p[1], req);
}

HttpResponse Api::ListTokens() {
  auto all = store_.ListTokens();
  if (!all.ok()) return FromStatus(all.status());
  value list = value::array(all->size());
  for (size_t i = 0; i < all->size(); ++i) list[i] = TokenRecordJson((*all)[i]);
  value o = value::object();
  o["tokens"] = list;
  return Json(200, o);
}

HttpResponse Api::CreateToken(const CollectorConfig& config, const HttpRequest& req) {
  auto body = ParseObject(req.body, config.max_json_depth, false);
  if (!body.ok()) return FromStatus(body.status());
  std::string role_name, host, expires;
  Status err = json_fields::GetString(*body, "role", "", true, &role_name);
  if (err.ok()) err = json_fields::GetString(*body, "host", "", false, &host);
  if (err.ok()) err = json_fields::GetString(*body, "expires", "", false, &expires);
  if (!err.ok()) return FromStatus(err);
  auto role = ParseRole(role_name);
  if (!role.ok() || *role == Role::kAgent) {
    return Error(400, "role: expected enroll, read, admin or reenroll");
  }
  const int64_t now = now_ns_();
  TokenLimits limits;
  if (body->has_field("uses") && !body->at("uses").is_null()) {
    const value& u = body->at("uses");
    if (!u.is_number() || !u.as_number().is_int64() || u.as_number().to_int64() < 1) {
      return Error(400, "uses: expected a positive whole number");
    }
    limits.uses_left = u.as_number().to_int64();
  }
  if (!expires.empty()) {
    auto d = ParseDurationNs(expires);
    if (!d.ok() || *d <= 0 || *d > INT64_MAX - now) {
      return Error(400, "expires: expected a duration above 0 such as 7d or 12h");
    }
    limits.expires_ns = now + *d;
  }
  const bool limited = limits.uses_left != -1 || limits.expires_ns != 0;
  if (limited && *role != Role::kEnroll && *role != Role::kReenroll) {
    return Error(400, "uses, expires: only enroll and reenroll tokens take them");
  }
  if (*role != Role::kReenroll && !host.empty()) {
    return Error(400, "host: only reenroll tokens name a host");
  }
  if (*role == Role::kReenroll && !ValidHostId(host)) {
    return Error(400,
                 "host: a reenroll token names the enrolled host it may enroll again "
                 "(1-128 characters of A-Z a-z 0-9 . _ -)");
  }
  auto secret = collector::CreateToken(store_, *role, now, limits, host);
  if (!secret.ok()) return FromStatus(secret.status());
  TokenRecord t;
  t.id = TokenId(HashToken(*secret));
  t.created_ns = now;
  t.info.role = *role;
  t.info.host_id = host;
  t.info.limits = limits;
  if (*role == Role::kReenroll && limits.uses_left < 0) t.info.limits.uses_left = 1;
  value o = TokenRecordJson(t);
  o["token"] = value(*secret);
  return Json(201, o);
}

HttpResponse Api::RevokeToken(const std::string& id) {
  auto revoked = store_.RevokeToken(id, now_ns_());
  if (!revoked.ok()) return FromStatus(revoked.status());
  value o = value::object();
  o["id"] = value(id);
  o["revoked"] = value(FormatRfc3339Nanos(*revoked));
  return Json(200, o);
}

HttpResponse Api::RemoveHost(const std::string& id) {
  Status s = store_.RemoveHost(id, now_ns_());
  if (!s.ok()) return FromStatus(s);
  value o = value::object();
  o["id"] = value(id);
  o["removed"] = value::boolean(true);
  return Json(200, o);
}

HttpResponse Api::RenameHost(const CollectorConfig& config, const std::string& id,
                             const HttpRequest& req) {
  auto body = ParseObject(req.body, config.max_json_depth, false);
  if (!body.ok()) return FromStatus(body.status());
  std::string name;
  Status err = json_fields::GetString(*body, "name", "", true, &name);
  if (!err.ok()) return FromStatus(err);
  if (!ValidHostId(name)) return Error(400, "name: expected 1-128 characters of A-Z a-z 0-9 . _ -");
  Status s = store_.RenameHost(id, name);
  if (!s.ok()) return FromStatus(s);
  value o = value::object();
  o["id"] = value(name);
  o["previous"] = value(id);
  return Json(200, o);
}

}  // namespace driftwatch::collector
