// What the collector says about each HTTP request (docs/operations.md "Logs"):
// an access line for every answer, and an audit line for the requests an
// operator answers for: failed sign-ins (401), lockouts (429 of the
// failed-authentication limit, auth_limit.h), enrollments, and every request
// made with an admin token, with its outcome. The audit is decided here from
// the answer alone (status, route, the caller's role), so a new admin route
// is audited without code of its own; token creation and revocation, host
// removal and rename are named from their routes.
//
// The bearer token is never logged: a RequestRecord has no field for it.
//
// Thread-safety: pure functions, and Logger's.
#ifndef DRIFTWATCH_COLLECTOR_REQUEST_LOG_H_
#define DRIFTWATCH_COLLECTOR_REQUEST_LOG_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "collector/api.h"
#include "collector/log.h"

namespace driftwatch::collector {

// The route a path is served by, with its variable parts as {id}:
// "/api/v1/hosts/web-1/packages" -> "/api/v1/hosts/{id}/packages". Paths
// outside the API are "/healthz", "/metrics" or "/{file}" (the dashboard);
// an unknown API collection is "/api/v1/{other}"; "-" when there is no path
// (a request refused before its request line was read whole). The set of answers is
// bounded whatever the path, so it can label metrics.
std::string RouteTemplate(std::string_view path);

struct RequestRecord {
  std::string client;  // peer address, "" when unknown
  std::string method;
  std::string path;  // percent-decoded, without the query
  int status = 0;
  size_t bytes = 0;  // response body bytes
  int64_t duration_ns = 0;
  std::string role;        // the authenticated caller's role, "" when none
  std::string host;        // an agent's host id, "" otherwise
  std::string error_code;  // the error body's "error", "" on success
};

// The record of `req` answered by `out` (`bytes` of body sent): the error
// code from an error body in the API's format, the enrolled host from an
// enrollment's answer (whose token is not looked at).
RequestRecord RecordOf(const HttpRequest& req, const HttpResponse& out, size_t bytes,
                       int64_t duration_ns);

// The audit event of a request: "sign_in_failed", "lockout", "enroll",
// "token_create", "token_revoke", "host_remove", "host_rename", "restore",
// "admin_request"; "" when the request is not audited.
std::string AuditEvent(const RequestRecord& r);

// Writes the access line ("access", info; warn for a 5xx; debug for
// successful /healthz and /metrics) and, when AuditEvent() names one, the audit line ("audit", info
// on success, warn otherwise).
void LogRequest(Logger& logger, const RequestRecord& r);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_REQUEST_LOG_H_
