// Tokens: how API users and agents authenticate to the collector.
//
// A token is "dw_" followed by 64 hex digits from the OpenSSL CSPRNG. Only its
// SHA-256 (hex) is stored, so a leaked database does not leak credentials;
// the secret is shown once, when it is created. Roles: `enroll` (may only
// enroll new agents), `read` (GET endpoints), `admin` (read plus commands and
// baselines), `agent` (one host: report and poll as itself).
//
// Thread-safety: pure functions, safe from any thread.
#ifndef DRIFTWATCH_COLLECTOR_AUTH_H_
#define DRIFTWATCH_COLLECTOR_AUTH_H_

#include <string>
#include <string_view>

#include "collector/store.h"
#include "core/status.h"

namespace driftwatch::collector {

// A new random secret. Fails only when the CSPRNG does.
Result<std::string> GenerateToken();
// Lowercase hex SHA-256 of the token text.
std::string HashToken(std::string_view token);
// The token of an "Authorization: Bearer <token>" header; "" when absent or
// malformed.
std::string BearerToken(std::string_view authorization_header);

// Creates a token of `role` (not kAgent) in the store and returns the secret.
// `limits` apply to enroll tokens only (kInvalidArgument for another role,
// for 0 uses or an expiry not after now_ns).
Result<std::string> CreateToken(FleetStore& store, Role role, int64_t now_ns,
                                const TokenLimits& limits = {});

// A random UUID version 4 in its canonical text form.
Result<std::string> NewUuidV4();

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_AUTH_H_
