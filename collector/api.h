// The collector's REST API (docs/api.md, docs/openapi.yaml), independent of
// the HTTP library: Handle() maps one request to one response, so that the
// whole API is testable without sockets and server.cc stays a thin adapter.
//
// Authentication is "Authorization: Bearer TOKEN" (see auth.h): 401 without a
// valid token (with the error code "token_revoked" for a revoked token,
// "token_expired" or "token_used_up" for an enroll token past its limits,
// docs/api.md), 403 when the token's role or host does not allow the
// call, 429 with Retry-After once a client address has failed authentication too often
// (auth_limit.h). Every error
// body is {"error": CODE, "detail": TEXT}. Bodies larger than config.max_body_bytes are 413 (the
// server checks Content-Length before reading, and answers through BodyTooLarge()), JSON nested
// deeper than config.max_json_depth is 400. Only malformed or invalid input is 4xx: a report that
// fails validation is 400 with the error code "invalid_report" (the one answer an agent treats as
// final, docs/wire.md); running out of memory is 503, store and other internal failures are 500 or
// 503.
//
// Every report the collector refuses from an enrolled agent (malformed,
// invalid, too large, sent as another host) is counted on /metrics by
// reason, recorded on the host (HostRecord::reports_refused) and passed to
// the on-refused hook (the alert dispatcher). Lists in a report are capped
// (kMaxStoredWarnings, kMaxStoredSubtrees, kMaxStoredContainers): the first
// N are stored with the true count.
//
// Thread-safety: Handle() may be called from many threads at once; the store
// serializes, Metrics are atomics.
#ifndef DRIFTWATCH_COLLECTOR_API_H_
#define DRIFTWATCH_COLLECTOR_API_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "collector/auth_limit.h"
#include "collector/config.h"
#include "collector/fleet_metrics.h"
#include "collector/live_config.h"
#include "collector/metrics.h"
#include "collector/signing_key.h"
#include "collector/store.h"
#include "collector/tree_cache.h"
#include "core/host.h"

namespace web::json {
class value;
}  // namespace web::json

namespace driftwatch::collector {

struct HttpRequest {
  std::string method;                                      // "GET", "POST", ...
  std::string path;                                        // percent-decoded, without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::string authorization;  // the Authorization header, "" when absent
  std::string body;
  std::string client;  // the peer's address (failed-authentication limit), "" when unknown
};

// A report the collector refused, for alerting (alerts.h).
struct RefusedReport {
  std::string host_id;
  std::string group;
  std::string reason;  // "malformed", "invalid", "too_large", "forbidden"
  std::string detail;
  int64_t at_ns = 0;
};

// Caps on the lists of one report that are stored as sent (docs/api.md).
inline constexpr size_t kMaxStoredWarnings = 100;
inline constexpr size_t kMaxWarningBytes = 1024;
inline constexpr size_t kMaxStoredSubtrees = 256;
inline constexpr size_t kMaxSubtreePathBytes = 4096;
inline constexpr size_t kMaxStoredContainers = 10000;

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Headers beyond Content-Type (e.g. Retry-After on a 429).
  std::vector<std::pair<std::string, std::string>> headers;
  // Who asked, for the logs (request_log.h): the authenticated caller's role
  // name and an agent's host id; "" when the request was not authenticated.
  std::string caller_role;
  std::string caller_host;
};

// Figures exported on /metrics (Prometheus text format, metrics.h).
struct Metrics {
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> responses_4xx{0};
  std::atomic<int64_t> responses_5xx{0};
  std::atomic<int64_t> reports_ingested{0};
  std::atomic<int64_t> reports_duplicate{0};
  std::atomic<int64_t> reports_rejected{0};
  // Refused reports by reason (RefusedReport::reason).
  std::atomic<int64_t> refused_malformed{0};
  std::atomic<int64_t> refused_invalid{0};
  std::atomic<int64_t> refused_too_large{0};
  std::atomic<int64_t> refused_forbidden{0};
  std::atomic<int64_t> events_ingested{0};
  Histogram ingest_latency;  // stored reports, received to stored
  std::atomic<int64_t> alerts_sent{0};
  std::atomic<int64_t> alerts_failed{0};
  // The HTTP front end (server.h).
  std::atomic<int64_t> http_connections{0};       // open now
  std::atomic<int64_t> http_busy{0};              // 503 for saturation, or refused at accept
  std::atomic<int64_t> http_limit_rejections{0};  // 413, 414 and 431
  RequestLatency http_latency;                    // every answer, by route (server.h)
};

class Api {
 public:
  // Borrows store, config and metrics; they must outlive the Api. Each
  // request reads one snapshot of `config` (live_config.h), so a reload
  // applies from the next request on.
  // `now_ns` is the clock; `on_ingest` (may be empty) runs after each stored
  // report, e.g. to wake the alert dispatcher.
  Api(FleetStore& store, const LiveConfig& config, Metrics& metrics,
      std::function<int64_t()> now_ns, std::function<void()> on_ingest);

  HttpResponse Handle(const HttpRequest& req);

  // The checks of Handle() that need only the request line and headers (the
  // endpoint's prefix, the failed-authentication limit, the bearer token):
  // an error response, or nullopt when the request may go on. The server
  // calls it before it reads a request body, so that bodies are read only
  // from authenticated callers; Handle() checks again.
  std::optional<HttpResponse> Admit(const HttpRequest& head);

  // GET /healthz: 200 {"status":"ok"} when the store answers its health
  // check, else 503 with the reason. Not counted in the request metrics.
  HttpResponse Health();

  Metrics& metrics() { return metrics_; }
  // The configuration in effect now (a snapshot).
  std::shared_ptr<const CollectorConfig> config() const { return config_.Get(); }

  // An error response in the API's format.
  // The answer to a request whose body exceeds `limit` bytes (the server
  // did not read it; `head` has no body): 413, and when it is an agent's
  // report, a refused report of its host (counted, recorded, alerted).
  HttpResponse BodyTooLarge(const HttpRequest& head, size_t limit);

  // Runs for every refused report of an enrolled host (may be unset).
  // Set before serving.
  void SetOnRefused(std::function<void(const RefusedReport&)> on_refused);
  // Where /metrics reads this process's figures (/proc, process_metrics.h);
  // without it there are no process_* metrics. Set before serving.
  void SetProcessHost(Host* host) { process_host_ = host; }
  // The collector's signing key (signing_key.h; docs/integrity.md): with
  // it, GET /signing-key and enroll answers carry its public key, commands
  // handed out are signed, and the ack of a baseline or accept command that
  // made a revision is answered with the revision's signed statement.
  // Without it (tests, a collector that cannot keep one) none of this
  // happens. Set before serving.
  void SetSigningKeys(std::shared_ptr<const SigningKeys> keys) { signing_ = std::move(keys); }

  // An error response in the API's format; the code follows the status
  // ("bad_request", "internal", ...) unless given.
  static HttpResponse Error(int status, const std::string& detail);
  static HttpResponse Error(int status, const std::string& code, const std::string& detail);

 private:
  struct Caller {
    Role role = Role::kRead;
    std::string host_id;       // agents only
    std::string token_sha256;  // the bearer token's (HashToken)
  };
  // *caller is set once the request is authenticated.
  HttpResponse Route(const CollectorConfig& config, const HttpRequest& req, Caller* caller);
  std::optional<HttpResponse> Precheck(const HttpRequest& req, Caller* caller);
  void CountStatus(const HttpResponse& r);
  Result<Caller> Authenticate(const HttpRequest& req);

  // 401 for a revoked token ("token_revoked") or an enroll token past its
  // limits (`why` is TokenLimitsRefusal's).
  static HttpResponse TokenRefused(const std::string& why);
  HttpResponse Enroll(const CollectorConfig& config, const Caller& c, const HttpRequest& req);
  HttpResponse PostReport(const CollectorConfig& config, const Caller& c, const HttpRequest& req);
  // Counts, records and announces a refused report of c's host.
  HttpResponse Refuse(const Caller& c, int status, const std::string& code,
                      const std::string& reason, const std::string& detail);
  HttpResponse ListHosts(const CollectorConfig& config);
  HttpResponse GetHost(const CollectorConfig& config, const std::string& id);
  HttpResponse QueryDrift(const CollectorConfig& config, const HttpRequest& req);
  HttpResponse PathHistory(const CollectorConfig& config, const HttpRequest& req);
  HttpResponse FleetSummary(const CollectorConfig& config, const HttpRequest& req);
  HttpResponse PostCommand(const CollectorConfig& config, const std::string& host_id,
                           const HttpRequest& req);
  HttpResponse FleetBaseline(const CollectorConfig& config, const HttpRequest& req);
  HttpResponse AgentCommands(const Caller& c);
  HttpResponse AckCommand(const CollectorConfig& config, const Caller& c, const std::string& id,
                          const HttpRequest& req);
  HttpResponse RenderMetrics(const CollectorConfig& config);  // api_metrics.cc
  // Signing (api_signing.cc): {"key_id", "public_key"} of the signing key
  // (null without one); a command as handed out, with its "signature"; the
  // signed statement of the revision an ack reports ("" when there is none
  // to sign), kept once per command by the ack's once-only rule.
  web::json::value SigningKeyJson() const;
  web::json::value SignedCommandJson(const CommandRecord& c) const;
  std::string SignAckedRevision(const Caller& c, int64_t command_id,
                                const web::json::value& ack_body);
  // The fleet lifecycle (api_lifecycle.cc): the answer to a request for
  // /tokens, DELETE /hosts/{id} or /hosts/{id}/rename, else nullopt.
  std::optional<HttpResponse> RouteLifecycle(const CollectorConfig& config, const Caller& c,
                                             const HttpRequest& req,
                                             const std::vector<std::string>& p);
  HttpResponse ListTokens();
  HttpResponse CreateToken(const CollectorConfig& config, const HttpRequest& req);
  HttpResponse RevokeToken(const std::string& id);
  HttpResponse RemoveHost(const std::string& id);
  HttpResponse RenameHost(const CollectorConfig& config, const std::string& id,
                          const HttpRequest& req);
  // Inventory and accept (api_inventory.cc).
  HttpResponse HostPackages(const std::string& id, const HttpRequest& req);
  HttpResponse HostContainers(const std::string& id);
  HttpResponse HostBaselines(const std::string& id);
  HttpResponse ListImages();
  // The fleet's containers (api_containers.cc): the answer to GET
  // /containers or /kubernetes, else nullopt; and the bodies stored for a
  // report's events (ListedEventJson), those of a container's path with
  // "container" (ContainerRefJson) from the report's containers, else from
  // the host's stored inventory (a realtime report carries none).
  std::optional<HttpResponse> RouteContainers(const CollectorConfig& config, const Caller& c,
                                              const HttpRequest& req,
                                              const std::vector<std::string>& p);
  HttpResponse ListContainers(const CollectorConfig& config, const HttpRequest& req);
  HttpResponse Kubernetes(const HttpRequest& req);
  std::vector<std::string> StoredEventBodies(const ReportEnvelope& env);
  HttpResponse PostAccept(const CollectorConfig& config, const std::string& id,
                          const HttpRequest& req);
  // The fleet's trees, agent side (api_trees.cc): the answer to POST
  // /trees/offer, /trees/objects, /trees/fetch, /agents/tree or GET
  // /agents/group-baseline, else nullopt.
  std::optional<HttpResponse> RouteTrees(const CollectorConfig& config, const Caller& c,
                                         const HttpRequest& req, const std::vector<std::string>& p);
  HttpResponse OfferTrees(const CollectorConfig& config, const HttpRequest& req);
  HttpResponse PutTreeObjects(const CollectorConfig& config, const HttpRequest& req);
  HttpResponse FetchTrees(const CollectorConfig& config, const HttpRequest& req);
  HttpResponse SetAgentTree(const CollectorConfig& config, const Caller& c, const HttpRequest& req);
  HttpResponse AgentGroupBaseline(const Caller& c);

  // Content (api_restore.cc): the answer to GET /events/{id}/diff, POST
  // /hosts/{id}/restore or /fleet/restore, else nullopt.
  std::optional<HttpResponse> RouteContent(const CollectorConfig& config, const Caller& c,
                                           const HttpRequest& req,
                                           const std::vector<std::string>& p);
  HttpResponse EventDiff(const std::string& id);
  HttpResponse PostRestore(const CollectorConfig& config, const std::string& host_id,
                           const HttpRequest& req);
  HttpResponse FleetRestore(const CollectorConfig& config, const HttpRequest& req);

  // The fleet's trees side by side (api_peers.cc): the answer to GET
  // /fleet/compare, GET /fleet/outliers or /groups/{G}/baselines, else
  // nullopt.
  std::optional<HttpResponse> RoutePeers(const CollectorConfig& config, const Caller& c,
                                         const HttpRequest& req, const std::vector<std::string>& p);
  HttpResponse FleetCompare(const HttpRequest& req);
  HttpResponse FleetOutliers(const HttpRequest& req);
  HttpResponse GroupBaselines(const std::string& group);
  HttpResponse PostGroupBaseline(const CollectorConfig& config, const Caller& c,
                                 const std::string& group, const HttpRequest& req);

  // Integrity (api_integrity.cc): the answer to GET /integrity, GET
  // /hosts/{id}/chain or POST /hosts/{id}/trust-reset, else nullopt.
  std::optional<HttpResponse> RouteIntegrity(const CollectorConfig& config, const Caller& c,
                                             const HttpRequest& req,
                                             const std::vector<std::string>& p);

  FleetStore& store_;
  const LiveConfig& config_;
  Metrics& metrics_;
  std::function<int64_t()> now_ns_;
  std::function<void()> on_ingest_;
  std::function<void(const RefusedReport&)> on_refused_;
  AuthFailureLimiter auth_limiter_;
  Host* process_host_ = nullptr;
  std::shared_ptr<const SigningKeys> signing_;
  FleetMetricsCache fleet_metrics_;
  // Parsed tree objects for /fleet/outliers and /fleet/compare: a large
  // group's distinct directories (each host's own /etc) are read and parsed
  // once, not on every request. Objects never change, so it is never stale.
  static constexpr size_t kTreeCacheBytes = size_t{64} << 20;
  TreeCache tree_cache_{kTreeCacheBytes};
};

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_API_H_
