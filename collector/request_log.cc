#include "collector/request_log.h"

#include <cpprest/json.h>

#include <algorithm>
#include <array>
#include <vector>

namespace driftwatch::collector {
namespace {

constexpr std::string_view kApiPrefix = "/api/v1/";
constexpr size_t kMaxSegments = 5;

// The API's collections (the first segment after /api/v1/).
constexpr std::array<std::string_view, 11> kCollections = {"agents",  "drift",  "enroll", "events",
                                                           "fleet",   "hosts",  "images", "paths",
                                                           "reports", "tokens", "whoami"};
// Fixed segments after the collection; anything else is an id.
constexpr std::array<std::string_view, 16> kWords = {
    "accept",   "ack",    "baseline", "baselines", "commands", "compare", "history", "containers",
    "packages", "rename", "summary",  "remove",    "diff",     "restore", "chain",   "trust-reset"};

template <size_t N>
bool OneOf(const std::array<std::string_view, N>& set, std::string_view s) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

// The "error" of an error body in the API's format; "" otherwise.
std::string ErrorCode(const HttpResponse& r) {
  if (r.status < 400 || r.content_type != "application/json") return "";
  try {
    const web::json::value v = web::json::value::parse(r.body);
    if (v.is_object() && v.has_string_field("error")) return v.at("error").as_string();
  } catch (const std::exception&) {
  }
  return "";
}

// The host an enrollment created (its answer also holds the new agent's
// token, which is not looked at).
std::string EnrolledHost(const HttpResponse& r) {
  try {
    const web::json::value v = web::json::value::parse(r.body);
    if (v.is_object() && v.has_string_field("host_id")) return v.at("host_id").as_string();
  } catch (const std::exception&) {
  }
  return "";
}

}  // namespace

RequestRecord RecordOf(const HttpRequest& req, const HttpResponse& out, size_t bytes,
                       int64_t duration_ns) {
  RequestRecord r;
  r.client = req.client;
  r.method = req.method;
  r.path = req.path;
  r.status = out.status;
  r.bytes = bytes;
  r.duration_ns = duration_ns;
  r.role = out.caller_role;
  r.host = out.caller_host;
  r.error_code = ErrorCode(out);
  if (out.status == 201 && RouteTemplate(req.path) == "/api/v1/enroll") r.host = EnrolledHost(out);
  return r;
}

std::string RouteTemplate(std::string_view path) {
  if (path.empty() || path[0] != '/') return "-";  // the request line was not read
  if (path == "/healthz" || path == "/metrics") return std::string(path);
  if (path == "/api" || path == "/api/" || path == "/api/v1") return "/api/v1/{other}";
  if (path.rfind("/api/", 0) != 0) return "/{file}";
  if (path.rfind(kApiPrefix, 0) != 0) return "/api/v1/{other}";
  std::vector<std::string_view> p;
  std::string_view rest = path.substr(kApiPrefix.size());
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    if (!seg.empty()) p.push_back(seg);
    if (p.size() > kMaxSegments || slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (p.empty() || p.size() > kMaxSegments || !OneOf(kCollections, p[0])) {
    return "/api/v1/{other}";
  }
  std::string out = "/api/v1/" + std::string(p[0]);
  for (size_t i = 1; i < p.size(); ++i) {
    // hosts/{id}/..., tokens/{id}, agents/commands/{id}/ack: ids where a
    // name could equal a word.
    const bool id_slot = ((p[0] == "hosts" || p[0] == "tokens" || p[0] == "events") && i == 1) ||
                         (p[0] == "agents" && i == 2);
    out += (!id_slot && OneOf(kWords, p[i])) ? "/" + std::string(p[i]) : std::string("/{id}");
  }
  return out;
}

std::string AuditEvent(const RequestRecord& r) {
  if (r.status == 401) return "sign_in_failed";
  if (r.status == 429) return "lockout";
  const std::string route = RouteTemplate(r.path);
  if (r.method == "POST" && route == "/api/v1/enroll") return "enroll";
  if (r.role != "admin") return "";
  if (r.method == "POST" && route == "/api/v1/tokens") return "token_create";
  if (r.method == "DELETE" && route == "/api/v1/tokens/{id}") return "token_revoke";
  if (r.method == "DELETE" && route == "/api/v1/hosts/{id}") return "host_remove";
  if (r.method == "POST" && route == "/api/v1/hosts/{id}/rename") return "host_rename";
  if (r.method == "POST" && route == "/api/v1/hosts/{id}/trust-reset") return "trust_reset";
  if (r.method == "POST" &&
      (route == "/api/v1/hosts/{id}/restore" || route == "/api/v1/fleet/restore")) {
    return "restore";
  }
  return "admin_request";
}

void LogRequest(Logger& logger, const RequestRecord& r) {
  const std::string route = RouteTemplate(r.path);
  const bool probe = (route == "/healthz" || route == "/metrics") && r.status < 400;
  const LogLevel access_level = probe             ? LogLevel::kDebug
                                : r.status >= 500 ? LogLevel::kWarn
                                                  : LogLevel::kInfo;
  const std::string event = AuditEvent(r);
  if (!logger.Enabled(access_level) && (event.empty() || !logger.Enabled(LogLevel::kWarn))) {
    return;
  }
  std::vector<LogField> f = {{"client", r.client.empty() ? "-" : r.client},
                             {"method", r.method.empty() ? "-" : r.method},
                             {"route", route},
                             {"path", r.path.empty() ? "-" : r.path},
                             {"status", int64_t{r.status}},
                             {"bytes", static_cast<int64_t>(r.bytes)},
                             {"duration_ms", static_cast<double>(r.duration_ns) / 1e6}};
  if (!r.role.empty()) f.emplace_back("role", r.role);
  if (!r.host.empty()) f.emplace_back("host", r.host);
  if (!r.error_code.empty()) f.emplace_back("error", r.error_code);
  logger.Log(access_level, "access", f);
  if (event.empty()) return;
  const std::string outcome = r.status < 400 ? "ok" : r.status < 500 ? "refused" : "failed";
  std::vector<LogField> a = {{"event", event},
                             {"outcome", outcome},
                             {"client", r.client.empty() ? "-" : r.client},
                             {"method", r.method},
                             {"route", route},
                             {"path", r.path},
                             {"status", int64_t{r.status}}};
  if (!r.role.empty()) a.emplace_back("role", r.role);
  if (!r.host.empty()) a.emplace_back("host", r.host);
  if (!r.error_code.empty()) a.emplace_back("error", r.error_code);
  logger.Log(r.status < 400 ? LogLevel::kInfo : LogLevel::kWarn, "audit", a);
}

}  // namespace driftwatch::collector
