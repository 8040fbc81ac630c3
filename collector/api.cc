#include "collector/api.h"

#include <cpprest/json.h>

#include <cstdint>
#include <map>
#include <set>

#include "collector/api_json.h"
#include "collector/api_util.h"
#include "collector/auth.h"
#include "core/drift.h"
#include "core/drift_json.h"
#include "core/json_fields.h"
#include "core/normal_path.h"

namespace driftwatch::collector {
namespace {

using web::json::value;
using namespace api_internal;  // NOLINT: the handlers' shared helpers
using json_fields::GetString;

constexpr std::string_view kPrefix = "/api/v1";
constexpr int64_t kReportFormat = 1;
constexpr int64_t kTokenUseResolutionNs = 60LL * 1000000000;

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    char c = s[i];
    if (dash ? c != '-'
             : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

}  // namespace

Api::Api(FleetStore& store, const LiveConfig& config, Metrics& metrics,
         std::function<int64_t()> now_ns, std::function<void()> on_ingest)
    : store_(store),
      config_(config),
      metrics_(metrics),
      now_ns_(std::move(now_ns)),
      on_ingest_(std::move(on_ingest)) {}

HttpResponse Api::Error(int status, const std::string& code, const std::string& detail) {
  value o = value::object();
  o["error"] = value(code);
  o["detail"] = value(IsValidUtf8(detail) ? detail : EscapePath(detail));
  return Json(status, o);
}

void Api::SetOnRefused(std::function<void(const RefusedReport&)> on_refused) {
  on_refused_ = std::move(on_refused);
}

HttpResponse Api::Error(int status, const std::string& detail) {
  static const std::map<int, const char*> kCodes = {
      {400, "bad_request"},        {401, "unauthorized"},
      {403, "forbidden"},          {404, "not_found"},
      {405, "method_not_allowed"}, {409, "conflict"},
      {413, "payload_too_large"},  {414, "uri_too_long"},
      {429, "too_many_requests"},  {431, "header_fields_too_large"},
      {500, "internal"},           {503, "unavailable"}};
  auto it = kCodes.find(status);
  value o = value::object();
  o["error"] = value(it == kCodes.end() ? "error" : it->second);
  // Details may quote request bytes (a query parameter's name, a host id);
  // the answer stays valid UTF-8 JSON whatever they are.
  o["detail"] = value(IsValidUtf8(detail) ? detail : EscapePath(detail));
  return Json(status, o);
}

HttpResponse Api::Handle(const HttpRequest& req) {
  metrics_.requests++;
  HttpResponse r;
  Caller caller;
  try {
    // One snapshot for the whole request, whatever a reload does meanwhile.
    const std::shared_ptr<const CollectorConfig> config = config_.Get();
    r = Route(*config, req, &caller);
  } catch (const web::json::json_exception& e) {
    // web::json throws on unexpected shapes of the request's JSON.
    r = Error(400, std::string("malformed request: ") + e.what());
  } catch (const std::bad_alloc&) {
    // The collector's trouble, not the request's: the client retries.
    r = Error(503, "the collector is short of memory; retry later");
  } catch (const std::exception& e) {
    r = Error(500, std::string("internal error: ") + e.what());
  }
  if (!caller.token_sha256.empty()) {
    r.caller_role = std::string(RoleName(caller.role));
    r.caller_host = caller.host_id;
  }
  CountStatus(r);
  return r;
}

Result<Api::Caller> Api::Authenticate(const HttpRequest& req) {
  std::string token = BearerToken(req.authorization);
  if (token.empty()) return Status::PermissionDenied("missing bearer token");
  std::string sha = HashToken(token);
  DW_ASSIGN_OR_RETURN(auto info, store_.LookupToken(sha));
  if (!info) return Status::PermissionDenied("unknown token");
  const int64_t now = now_ns_();
  if (info->revoked_ns != 0) return Status::FailedPrecondition("token_revoked");
  // An enroll token past its limits is known: the answer says which limit.
  if (const std::string_view why = TokenLimitsRefusal(info->limits, now); !why.empty()) {
    return Status::FailedPrecondition(std::string(why));
  }
  // Best effort, and at most once a minute per token: a use is recorded for
  // GET /tokens, not worth a write on every request.
  if (now - info->last_used_ns >= kTokenUseResolutionNs) (void)store_.TouchToken(sha, now);
  return Caller{info->role, info->host_id, std::move(sha)};
}

std::optional<HttpResponse> Api::Admit(const HttpRequest& head) {
  Caller caller;
  auto r = Precheck(head, &caller);
  if (r) {
    metrics_.requests++;
    CountStatus(*r);
  }
  return r;
}

void Api::CountStatus(const HttpResponse& r) {
  if (r.status >= 500) {
    metrics_.responses_5xx++;
  } else if (r.status >= 400) {
    metrics_.responses_4xx++;
  }
}

std::optional<HttpResponse> Api::Precheck(const HttpRequest& req, Caller* caller) {
  const bool metrics = req.path == "/metrics";
  if (!metrics && req.path.rfind(kPrefix, 0) != 0) return Error(404, "no such endpoint");
  // Query values are text (paths in their escaped form, docs/wire.md), so
  // answers that quote them stay valid JSON.
  for (const auto& [k, v] : req.query) {
    if (!IsValidUtf8(k) || !IsValidUtf8(v)) {
      return Error(400,
                   "query parameter '" + EscapePath(k) +
                       "': not valid UTF-8 (write other bytes as \\xNN, as paths are escaped)");
    }
  }
  if (const int64_t wait = auth_limiter_.WaitNs(req.client, now_ns_()); wait > 0) {
    const std::string seconds = std::to_string((wait + 999999999) / 1000000000);
    HttpResponse r =
        Error(429, "too many failed authentication attempts from this address; retry in " +
                       seconds + " s");
    r.headers.emplace_back("Retry-After", seconds);
    return r;
  }
  auto authenticated = Authenticate(req);
  if (!authenticated.ok() && authenticated.status().code() == StatusCode::kFailedPrecondition) {
    return TokenRefused(authenticated.status().message());
  }
  if (!authenticated.ok()) {
    if (authenticated.status().code() == StatusCode::kPermissionDenied) {
      auth_limiter_.Failed(req.client, now_ns_());
      return Error(401, authenticated.status().message());
    }
    return FromStatus(authenticated.status());
  }
  *caller = *authenticated;
  return std::nullopt;
}

HttpResponse Api::Health() {
  Status s = store_.CheckHealth();
  if (!s.ok()) return Error(503, "store: " + s.message());
  value o = value::object();
  o["status"] = value("ok");
  return Json(200, o);
}

HttpResponse Api::Route(const CollectorConfig& config, const HttpRequest& req, Caller* caller) {
  if (req.path == "/healthz") {
    if (req.method != "GET") return Error(405, "use GET");
    return Health();
  }
  if (auto r = Precheck(req, caller)) return *r;
  const bool metrics = req.path == "/metrics";
  std::vector<std::string> p =
      PathComponents(std::string_view(req.path).substr(metrics ? 0 : kPrefix.size()));
  const Role role = caller->role;
  const bool can_read = role == Role::kRead || role == Role::kAdmin;
  const bool is_admin = role == Role::kAdmin;
  const bool is_agent = role == Role::kAgent;
  auto need = [&](bool allowed, const char* what) -> std::optional<HttpResponse> {
    if (allowed) return std::nullopt;
    return Error(
        403, std::string("a token of role '") + std::string(RoleName(role)) + "' may not " + what);
  };
  const bool get = req.method == "GET";
  const bool post = req.method == "POST";
  auto method = [&](bool ok) -> std::optional<HttpResponse> {
    if (ok) return std::nullopt;
    return Error(405, "method " + req.method + " not allowed on " + req.path);
  };
#define DW_CHECK(x) \
  if (auto r = (x)) return *r

  if (auto r = RouteLifecycle(config, *caller, req, p)) return *r;
  if (auto r = RouteContent(config, *caller, req, p)) return *r;
  if (auto r = RouteIntegrity(config, *caller, req, p)) return *r;
  if (auto r = RouteTrees(config, *caller, req, p)) return *r;
  if (auto r = RouteContainers(config, *caller, req, p)) return *r;
  if (auto r = RoutePeers(config, *caller, req, p)) return *r;
  if (metrics) {
    DW_CHECK(method(get));
    DW_CHECK(need(can_read, "read metrics"));
    return RenderMetrics(config);
  }
  if (p.size() == 1 && p[0] == "whoami") {
    DW_CHECK(method(get));
    value o = value::object();
    o["role"] = value(std::string(RoleName(role)));
    if (is_agent || role == Role::kReenroll) o["host"] = value(caller->host_id);
    return Json(200, o);
  }
  if (p.size() == 1 && p[0] == "signing-key") {
    DW_CHECK(method(get));
    if (!signing_) return Error(404, "not_found", "this collector has no signing key");
    return Json(200, SigningKeyJson());
  }
  if (p.size() == 1 && p[0] == "enroll") {
    DW_CHECK(method(post));
    DW_CHECK(need(role == Role::kEnroll || role == Role::kReenroll || is_admin, "enroll agents"));
    return Enroll(config, *caller, req);
  }
  if (p.size() == 1 && p[0] == "reports") {
    DW_CHECK(method(post));
    DW_CHECK(need(is_agent, "send reports (agent tokens only)"));
    return PostReport(config, *caller, req);
  }
  if (p.size() == 2 && p[0] == "agents" && p[1] == "commands") {
    DW_CHECK(method(get));
    DW_CHECK(need(is_agent, "poll agent commands (agent tokens only)"));
    return AgentCommands(*caller);
  }
  if (p.size() == 4 && p[0] == "agents" && p[1] == "commands" && p[3] == "ack") {
    DW_CHECK(method(post));
    DW_CHECK(need(is_agent, "acknowledge agent commands (agent tokens only)"));
    return AckCommand(config, *caller, p[2], req);
  }
  if (p.size() == 1 && p[0] == "hosts") {
    DW_CHECK(method(get));
    DW_CHECK(need(can_read, "list hosts"));
    return ListHosts(config);
  }
  if (p.size() == 2 && p[0] == "hosts") {
    DW_CHECK(method(get));
    DW_CHECK(need(can_read, "read hosts"));
    return GetHost(config, p[1]);
  }
  if (p.size() == 3 && p[0] == "hosts" &&
      (p[2] == "packages" || p[2] == "containers" || p[2] == "baselines")) {
    DW_CHECK(method(get));
    DW_CHECK(need(can_read, "read hosts"));
    if (p[2] == "packages") return HostPackages(p[1], req);
    if (p[2] == "containers") return HostContainers(p[1]);
    return HostBaselines(p[1]);
  }
  if (p.size() == 3 && p[0] == "hosts" && p[2] == "accept") {
    DW_CHECK(method(post));
    DW_CHECK(need(is_admin, "accept drift (admin only)"));
    return PostAccept(config, p[1], req);
  }
  if (p.size() == 1 && p[0] == "images") {
    DW_CHECK(method(get));
    DW_CHECK(need(can_read, "read the fleet"));
    return ListImages();
  }
  if (p.size() == 3 && p[0] == "hosts" && p[2] == "commands") {
    DW_CHECK(method(post));
    DW_CHECK(need(is_admin, "queue commands (admin only)"));
    return PostCommand(config, p[1], req);
  }
  if (p.size() == 1 && p[0] == "drift") {
    DW_CHECK(method(get));
    DW_CHECK(need(can_read, "read drift"));
    return QueryDrift(config, req);
  }
  if (p.size() == 2 && p[0] == "paths" && p[1] == "history") {
    DW_CHECK(method(get));
    DW_CHECK(need(can_read, "read drift"));
    return PathHistory(config, req);
  }
  if (p.size() == 2 && p[0] == "fleet" && p[1] == "summary") {
    DW_CHECK(method(get));
    DW_CHECK(need(can_read, "read the fleet"));
    return FleetSummary(config, req);
  }
  if (p.size() == 2 && p[0] == "fleet" && p[1] == "baseline") {
    DW_CHECK(method(post));
    DW_CHECK(need(is_admin, "request baselines (admin only)"));
    return FleetBaseline(config, req);
  }
#undef DW_CHECK
  return Error(404, "no such endpoint: " + req.path);
}

HttpResponse Api::TokenRefused(const std::string& why) {
  if (why == "token_revoked") {
    return Error(401, why, "this token was revoked; ask an admin for a new one");
  }
  if (why == "token_expired") {
    return Error(401, why, "this enroll token has expired; create a new one");
  }
  return Error(401, why, "this enroll token has no enrollments left; create a new one");
}

HttpResponse Api::Enroll(const CollectorConfig& config, const Caller& c, const HttpRequest& req) {
  auto body = ParseObject(req.body, config.max_json_depth, false);
  if (!body.ok()) return FromStatus(body.status());
  std::string host, group, version;
  Status err = GetString(*body, "host", "", false, &host);
  if (err.ok()) err = GetString(*body, "group", "", false, &group);
  if (err.ok()) err = GetString(*body, "agent_version", "", false, &version);
  if (!err.ok()) return FromStatus(err);
  if (!ValidHostId(host)) {
    return Error(400, "host: expected 1-128 characters of A-Z a-z 0-9 . _ -");
  }
  if (!ValidGroup(group))
    return Error(400, "group: expected up to 128 characters of A-Z a-z 0-9 . _ -");
  if (c.role == Role::kReenroll && c.host_id != host) {
    return Error(403, "this re-enroll token is for host '" + c.host_id + "', not '" + host + "'");
  }
  auto token = GenerateToken();
  if (!token.ok()) return FromStatus(token.status());
  const int64_t now = now_ns_();
  Status s = store_.EnrollHost(host, group, version, HashToken(*token), now, c.token_sha256);
  if (s.code() == StatusCode::kAlreadyExists) {
    return Error(409, "already_enrolled",
                 "host " + host +
                     " is already enrolled; to re-enroll a reinstalled host, an admin issues a "
                     "re-enroll token: driftwatch-collector token create --role reenroll --host " +
                     host);
  }
  if (s.code() == StatusCode::kPermissionDenied) {
    // The token's last use went to a concurrent enrollment, or it expired
    // since it was checked: say which.
    auto info = store_.LookupToken(c.token_sha256);
    if (info.ok() && *info) {
      const std::string_view why = TokenLimitsRefusal((*info)->limits, now);
      if (!why.empty()) return TokenRefused(std::string(why));
    }
    return Error(401, s.message());
  }
  if (!s.ok()) return FromStatus(s);
  value o = value::object();
  o["host_id"] = value(host);
  o["group"] = value(group);
  o["token"] = value(*token);
  if (signing_) o["signing_key"] = SigningKeyJson();
  return Json(201, o);
}

HttpResponse Api::Refuse(const Caller& c, int status, const std::string& code,
                         const std::string& reason, const std::string& detail) {
  metrics_.reports_rejected++;
  if (reason == "malformed") metrics_.refused_malformed++;
  if (reason == "invalid") metrics_.refused_invalid++;
  if (reason == "too_large") metrics_.refused_too_large++;
  if (reason == "forbidden") metrics_.refused_forbidden++;
  const int64_t now = now_ns_();
  std::string text = detail.size() > 300 ? detail.substr(0, 300) + "..." : detail;
  if (!IsValidUtf8(text)) text = EscapePath(text);
  // Best effort: the refusal is answered whatever the store says.
  if (store_.RecordRefusedReport(c.host_id, reason + ": " + text, now).ok() && on_refused_) {
    RefusedReport r{c.host_id, "", reason, text, now};
    if (auto h = store_.GetHost(c.host_id); h.ok()) r.group = h->group;
    on_refused_(r);
  }
  return Error(status, code, detail);
}

HttpResponse Api::BodyTooLarge(const HttpRequest& head, size_t limit) {
  metrics_.requests++;
  metrics_.responses_4xx++;
  const std::string detail = "request body exceeds the limit of " + std::to_string(limit) +
                             " bytes (max_body_bytes); send less";
  if (head.method == "POST" && head.path == std::string(kPrefix) + "/reports") {
    auto caller = Authenticate(head);
    if (caller.ok() && caller->role == Role::kAgent) {
      return Refuse(*caller, 413, "payload_too_large", "too_large", detail);
    }
  }
  return Error(413, detail);
}

namespace {

// Keeps the first kMaxStoredWarnings warnings (each cut to kMaxWarningBytes
// at a character boundary) and kMaxStoredSubtrees subtrees (of paths up to
// kMaxSubtreePathBytes) and kMaxStoredContainers containers of a parsed
// report; returns the true counts (containers' in *containers). Runs before decoding, so that an
// oversized list is never copied.
std::pair<size_t, size_t> CapLists(value& v, size_t* containers) {
  size_t warnings = 0, subtrees = 0;
  if (v.has_field("warnings") && v.at("warnings").is_array()) {
    value& w = v.at("warnings");
    warnings = w.size();
    if (warnings > kMaxStoredWarnings) {
      value kept = value::array(kMaxStoredWarnings);
      for (size_t i = 0; i < kMaxStoredWarnings; ++i) kept[i] = w.at(i);
      v["warnings"] = kept;
    }
    for (value& x : v.at("warnings").as_array()) {
      if (!x.is_string() || x.as_string().size() <= kMaxWarningBytes) continue;
      std::string t = x.as_string().substr(0, kMaxWarningBytes);
      while (!t.empty() && (static_cast<unsigned char>(t.back()) & 0xc0) == 0x80) t.pop_back();
      if (!t.empty() && static_cast<unsigned char>(t.back()) >= 0xc0) t.pop_back();
      x = value(t + "...");
    }
  }
  if (v.has_field("subtrees") && v.at("subtrees").is_object()) {
    const value& st = v.at("subtrees");
    subtrees = st.size();
    value kept = value::object();
    size_t n = 0;
    for (const auto& [k, h] : st.as_object()) {
      if (n == kMaxStoredSubtrees) break;
      if (k.size() > kMaxSubtreePathBytes) continue;
      kept[k] = h;
      ++n;
    }
    if (n != subtrees) v["subtrees"] = kept;
  }
  if (v.has_field("containers") && v.at("containers").is_array()) {
    value& c = v.at("containers");
    *containers = c.size();
    if (*containers > kMaxStoredContainers) {
      value kept = value::array(kMaxStoredContainers);
      for (size_t i = 0; i < kMaxStoredContainers; ++i) kept[i] = c.at(i);
      v["containers"] = kept;
    }
  }
  return {warnings, subtrees};
}

}  // namespace

HttpResponse Api::PostReport(const CollectorConfig& config, const Caller& c,
                             const HttpRequest& req) {
  const int64_t t0 = now_ns_();
  // What the collector refuses, by reason (docs/api.md "Refused reports"):
  // bytes that are no JSON object are "malformed" (400 bad_request: an agent
  // retries, they may have been damaged on the way); a report that fails
  // validation is "invalid" (400 invalid_report: final).
  auto malformed = [&](const Status& s) {
    return Refuse(c, 400, "bad_request", "malformed", s.message());
  };
  auto invalid = [&](const Status& s) {
    return Refuse(c, 400, "invalid_report", "invalid", s.message());
  };
  auto body = ParseObject(req.body, config.max_json_depth, false);
  if (!body.ok()) return malformed(body.status());
  value& v = *body;
  if (!v.has_field("format"))
    return invalid(Status::InvalidArgument("format: missing (expected 1)"));
  const value& f = v.at("format");
  if (!f.is_number() || !f.as_number().is_int64() || f.as_number().to_int64() != kReportFormat) {
    return invalid(Status::InvalidArgument("unsupported report format " + f.serialize() +
                                           ": this collector understands format 1"));
  }
  ReportEnvelope env;
  Status err = GetString(v, "report_id", "", false, &env.report_id);
  if (err.ok()) err = GetString(v, "host_id", "", false, &env.host_id);
  if (err.ok()) err = GetString(v, "agent_version", "", false, &env.agent_version);
  std::string sent;
  if (err.ok()) err = GetString(v, "sent", "", false, &sent);
  if (!err.ok()) return invalid(err);
  if (!IsUuid(env.report_id)) return invalid(Status::InvalidArgument("report_id: expected a UUID"));
  if (env.host_id != c.host_id) {
    return Refuse(c, 403, "forbidden", "forbidden",
                  "this token belongs to host '" + c.host_id + "' and cannot report as '" +
                      env.host_id + "'");
  }
  if (!sent.empty()) {
    auto t = ParseRfc3339(sent);
    if (!t.ok()) return invalid(t.status().WithContext("sent"));
    env.sent_ns = *t;
  }
  if (v.has_field("events") && v.at("events").is_array() &&
      v.at("events").size() > config.max_events_per_report) {
    // Not final: the agent folds the report smaller and sends it again.
    return Refuse(c, 413, "payload_too_large", "too_large",
                  "events: more than " + std::to_string(config.max_events_per_report) +
                      " events in one report (max_events_per_report); send fewer");
  }
  size_t containers_total = 0;
  const auto [warnings_total, subtrees_total] = CapLists(v, &containers_total);
  auto result = CheckResultFromJson(v);
  if (!result.ok()) return invalid(result.status());
  env.result = std::move(result).value();
  env.events_json = StoredEventBodies(env);
  env.total_events = ReportCounts(env.result).total;
  value summary = ReportSummaryJson(env.result, warnings_total, subtrees_total);
  if (env.result.containers) {
    value ct = value::object();
    ct["stored"] = value::number(static_cast<int64_t>(env.result.containers->size()));
    ct["total"] = value::number(static_cast<int64_t>(containers_total));
    summary["containers"] = ct;
  }
  env.summary_json = summary.serialize();
  env.received_ns = now_ns_();
  std::vector<AlertRoute> routes;
  for (const AlertRule& a : config.alerts) routes.push_back({a.name, a.min_severity, a.groups});
  auto ingested = store_.IngestReport(env, routes);
  // A store failure is the collector's (500/503): the agent keeps the report.
  if (!ingested.ok()) {
    const Status& s = ingested.status();
    if (s.code() == StatusCode::kNotFound || s.code() == StatusCode::kAlreadyExists ||
        s.code() == StatusCode::kInvalidArgument) {
      return invalid(s);
    }
    return Error(s.code() == StatusCode::kUnavailable ? 503 : 500, s.message());
  }
  if (ingested->duplicate) {
    metrics_.reports_duplicate++;
  } else {
    metrics_.reports_ingested++;
    metrics_.events_ingested += ingested->events;
    if (on_ingest_ && ingested->events > 0) on_ingest_();
  }
  metrics_.ingest_latency.Observe(now_ns_() - t0);
  value o = value::object();
  o["report_id"] = value(env.report_id);
  o["accepted"] = value::boolean(true);
  o["duplicate"] = value::boolean(ingested->duplicate);
  o["sequence"] = value::number(ingested->report_seq);
  o["events"] = value::number(ingested->events);
  o["first_event_id"] =
      ingested->first_event_id ? value::number(ingested->first_event_id) : value::null();
  o["received"] = value(FormatRfc3339Nanos(ingested->received_ns));
  o["summary"] = summary;
  if (ingested->packages_needed) o["packages_needed"] = value::boolean(true);
  if (ingested->chain) o["chain"] = ChainAnswerJson(*ingested->chain);
  return Json(200, o);
}

}  // namespace driftwatch::collector
