#include "collector/auth.h"

#include <openssl/rand.h>

#include "collector/api_json.h"
#include "core/drift_json.h"
#include "core/hash.h"

namespace driftwatch::collector {

std::string_view RoleName(Role r) {
  switch (r) {
    case Role::kEnroll:
      return "enroll";
    case Role::kRead:
      return "read";
    case Role::kAdmin:
      return "admin";
    case Role::kAgent:
      return "agent";
    case Role::kReenroll:
      return "reenroll";
  }
  return "unknown";
}

Result<Role> ParseRole(std::string_view name) {
  if (name == "enroll") return Role::kEnroll;
  if (name == "read") return Role::kRead;
  if (name == "admin") return Role::kAdmin;
  if (name == "agent") return Role::kAgent;
  if (name == "reenroll") return Role::kReenroll;
  return Status::InvalidArgument("unknown role '" + std::string(name) +
                                 "' (expected enroll, read, admin or reenroll)");
}

std::string_view TokenLimitsRefusal(const TokenLimits& limits, int64_t now_ns) {
  if (limits.expires_ns != 0 && now_ns >= limits.expires_ns) return "token_expired";
  if (limits.uses_left == 0) return "token_used_up";
  return "";
}

Status CheckTokenLimits(const TokenLimits& limits, int64_t now_ns) {
  const std::string_view why = TokenLimitsRefusal(limits, now_ns);
  if (why == "token_expired") {
    return Status::PermissionDenied("the enroll token expired at " +
                                    FormatRfc3339Nanos(limits.expires_ns));
  }
  if (why == "token_used_up") {
    return Status::PermissionDenied("the enroll token has no enrollments left");
  }
  return Status::Ok();
}

Result<std::string> GenerateToken() {
  unsigned char buf[32];
  if (RAND_bytes(buf, sizeof(buf)) != 1) return Status::Internal("no randomness for a token");
  return "dw_" + HexEncode(std::string_view(reinterpret_cast<const char*>(buf), sizeof(buf)));
}

std::string HashToken(std::string_view token) {
  Digest d = Hasher::Of(HashAlgo::kSha256, token);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(d.bytes.data()), d.size()));
}

std::string BearerToken(std::string_view h) {
  constexpr std::string_view kPrefix = "Bearer ";
  if (h.size() <= kPrefix.size() || h.substr(0, kPrefix.size()) != kPrefix) return "";
  std::string_view t = h.substr(kPrefix.size());
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  if (t.size() > 256) return "";
  return std::string(t);
}

std::string TokenId(std::string_view sha256_hex) {
  return "t_" + std::string(sha256_hex.substr(0, 12));
}

Result<std::string> CreateToken(FleetStore& store, Role role, int64_t now_ns,
                                const TokenLimits& requested, const std::string& host_id) {
  if (role == Role::kAgent) {
    return Status::InvalidArgument("agent tokens are issued by enrollment only");
  }
  TokenLimits limits = requested;
  const bool limited = limits.uses_left != -1 || limits.expires_ns != 0;
  if (limited && role != Role::kEnroll && role != Role::kReenroll) {
    return Status::InvalidArgument("only enroll and reenroll tokens take --uses and --expires");
  }
  if (role == Role::kReenroll) {
    if (!ValidHostId(host_id)) {
      return Status::InvalidArgument(
          "--host: a reenroll token names its host (1-128 characters of A-Z a-z 0-9 . _ -)");
    }
    DW_RETURN_IF_ERROR(store.GetHost(host_id).status());
    if (limits.uses_left == -1) limits.uses_left = 1;  // one reinstall
  } else if (!host_id.empty()) {
    return Status::InvalidArgument("--host: only reenroll tokens name a host");
  }
  if (limits.uses_left == 0 || limits.uses_left < -1) {
    return Status::InvalidArgument("--uses: expected a positive number");
  }
  if (limits.expires_ns != 0 && limits.expires_ns <= now_ns) {
    return Status::InvalidArgument("--expires: the token would be expired already");
  }
  DW_ASSIGN_OR_RETURN(std::string token, GenerateToken());
  DW_RETURN_IF_ERROR(store.AddToken(HashToken(token), role, host_id, now_ns, limits));
  return token;
}

Result<std::string> NewUuidV4() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof(b)) != 1) return Status::Internal("no randomness for a UUID");
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  std::string hex = HexEncode(std::string_view(reinterpret_cast<const char*>(b), sizeof(b)));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

}  // namespace driftwatch::collector
