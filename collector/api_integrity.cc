// Integrity over the API (docs/api.md "Integrity"): integrity alerts, a
// host's escrowed chain and event chain heads, and trust resets.
#include <cpprest/json.h>

#include "collector/api.h"
#include "collector/api_json.h"
#include "collector/api_util.h"
#include "collector/auth.h"
#include "core/drift_json.h"
#include "core/json_fields.h"

namespace driftwatch::collector {

using web::json::value;
using namespace api_internal;  // NOLINT: the handlers' shared helpers

value ChainAnswerJson(const ChainAnswer& a) {
  value o = value::object();
  o["held"] = value::number(a.held);
  o["head"] = value(a.head);
  o["state"] = value(std::string(ChainStateName(a.state)));
  return o;
}

value IntegrityAlertJson(const IntegrityAlert& a) {
  value o = value::object();
  o["id"] = value::number(a.id);
  o["host"] = value(a.host_id);
  o["kind"] = value(a.kind);
  o["severity"] = value(a.severity);
  o["epoch"] = value::number(a.epoch);
  o["seq"] = a.seq > 0 ? value::number(a.seq) : value::null();
  o["detail"] = value(a.detail);
  o["detected"] = TimeOrNull(a.detected_ns);
  o["open"] = value::boolean(a.resolved_ns == 0);
  o["resolved"] = TimeOrNull(a.resolved_ns);
  o["resolved_by"] = a.resolved_by.empty() ? value::null() : value(a.resolved_by);
  o["resolution"] = a.resolution.empty() ? value::null() : value(a.resolution);
  return o;
}

value HostChainJson(const HostChain& c) {
  value o = value::object();
  o["host"] = value(c.host_id);
  value agent = value::object();
  agent["epoch"] = value::number(c.held.epoch);
  agent["epoch_started"] = TimeOrNull(c.epoch_started_ns);
  agent["epoch_reason"] = c.epoch_reason.empty() ? value::null() : value(c.epoch_reason);
  agent["adopted"] = value::boolean(c.held.adopted);
  agent["held"] = value::number(c.held.length);
  agent["head"] = value(c.held.head);
  o["agent_chain"] = agent;
  if (c.self) {
    value s = value::object();
    s["exe"] = value(c.self->exe);
    s["rules"] = value(c.self->rules);
    s["config"] = value(c.self->config);
    s["version"] = value(c.self->version);
    s["reported"] = TimeOrNull(c.self_ns);
    o["self"] = s;
  } else {
    o["self"] = value::null();
  }
  value ev = value::object();
  ev["length"] = value::number(c.events.length);
  ev["head"] = value(c.events.head);
  ev["anchor_seq"] = value::number(c.events.anchor_seq);
  ev["anchor_head"] = value(c.events.anchor_head);
  o["event_chain"] = ev;
  o["integrity_alerts"] = value::number(c.open_alerts);
  return o;
}

std::optional<HttpResponse> Api::RouteIntegrity(const CollectorConfig& config, const Caller& c,
                                                const HttpRequest& req,
                                                const std::vector<std::string>& p) {
  const bool list = p.size() == 1 && p[0] == "integrity";
  const bool chain = p.size() == 3 && p[0] == "hosts" && p[2] == "chain";
  const bool reset = p.size() == 3 && p[0] == "hosts" && p[2] == "trust-reset";
  if (!list && !chain && !reset) return std::nullopt;
  const char* wanted = reset ? "POST" : "GET";
  if (req.method != wanted) {
    return Error(405, "method " + req.method + " not allowed on " + req.path);
  }
  const bool allowed =
      reset ? c.role == Role::kAdmin : (c.role == Role::kRead || c.role == Role::kAdmin);
  if (!allowed) {
    return Error(403, std::string("a token of role '") + std::string(RoleName(c.role)) +
                          "' may not " +
                          (reset ? "reset a host's trust (admin only)" : "read integrity"));
  }
  if (list) {
    IntegrityQuery q;
    if (const std::string* h = QueryParam(req, "host")) q.host = *h;
    if (const std::string* o = QueryParam(req, "open")) {
      if (*o != "true" && *o != "false") return Error(400, "open: expected true or false");
      q.open_only = *o == "true";
    }
    auto limit = PageLimit(req, 1000);
    if (!limit.ok()) return FromStatus(limit.status());
    q.limit = *limit;
    if (!q.host.empty()) {
      if (auto h = store_.GetHost(q.host); !h.ok()) return FromStatus(h.status());
    }
    auto alerts = store_.ListIntegrityAlerts(q);
    if (!alerts.ok()) return FromStatus(alerts.status());
    value arr = value::array(alerts->size());
    for (size_t i = 0; i < alerts->size(); ++i) arr[i] = IntegrityAlertJson((*alerts)[i]);
    value o = value::object();
    o["alerts"] = arr;
    return Json(200, o);
  }
  if (chain) {
    auto got = store_.GetHostChain(p[1]);
    if (!got.ok()) return FromStatus(got.status());
    return Json(200, HostChainJson(*got));
  }
  auto body = ParseObject(req.body, config.max_json_depth, false);
  if (!body.ok()) return FromStatus(body.status());
  std::string reason;
  if (Status s = json_fields::GetString(*body, "reason", "", true, &reason); !s.ok()) {
    return FromStatus(s);
  }
  if (reason.empty() || reason.size() > 1000) {
    return Error(400, "reason: expected 1 to 1000 bytes saying why the host is trusted again");
  }
  auto epoch = store_.TrustReset(p[1], "token " + TokenId(c.token_sha256), reason, now_ns_());
  if (!epoch.ok()) return FromStatus(epoch.status());
  value o = value::object();
  o["host"] = value(p[1]);
  o["epoch"] = value::number(*epoch);
  o["reason"] = value(reason);
  return Json(200, o);
}

}  // namespace driftwatch::collector
