// Base64 (RFC 4648, section 4): signatures and keys (core/sign.h), apk
// checksums (packages/apk.cc).
#ifndef DRIFTWATCH_CORE_BASE64_H_
#define DRIFTWATCH_CORE_BASE64_H_

#include <string>
#include <string_view>

#include "core/status.h"

namespace driftwatch {

// Standard base64 with padding, no line breaks.
std::string Base64Encode(std::string_view bytes);
// Strict: only the alphabet, padding exactly where it must be, unused bits
// zero, so that one byte string has one encoding. kInvalidArgument else.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_BASE64_H_
