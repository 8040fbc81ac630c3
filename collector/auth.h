// Tokens: how API users and agents authenticate to the collector.
//
// A token is "dw_" followed by 64 hex digits from the OpenSSL CSPRNG. Only its
// SHA-256 (hex) is stored, so a leaked database does not leak credentials;
// the secret is shown once, when it is created. Roles: `enroll` (may only
// enroll new agents), `read` (GET endpoints), `admin` (read plus commands,
// baselines and the fleet's lifecycle), `agent` (one host: report and poll as
// itself), `reenroll` (enroll one named host again, docs/operations.md).
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

// The public id of a token (TokenRecord::id): "t_" and the first 12 hex
// digits of its SHA-256.
std::string TokenId(std::string_view sha256_hex);

// Creates a token of `role` (not kAgent) in the store and returns the secret.
// `limits` apply to enroll and reenroll tokens only (kInvalidArgument for
// another role, for 0 uses or an expiry not after now_ns). A reenroll token
// names an enrolled `host_id` (kNotFound otherwise) and has one use unless
// `limits` say otherwise; other roles take no host.
Result<std::string> CreateToken(FleetStore& store, Role role, int64_t now_ns,
                                const TokenLimits& limits = {}, const std::string& host_id = "");

// A random UUID version 4 in its canonical text form.
Result<std::string> NewUuidV4();

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_AUTH_H_
