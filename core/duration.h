// Durations as configuration files and flags write them.
//
// Thread-safety: pure functions.
#ifndef DRIFTWATCH_CORE_DURATION_H_
#define DRIFTWATCH_CORE_DURATION_H_

#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace driftwatch {

// "90d", "2h", "15m", "30s", "250ms", or plain seconds; 0 is allowed.
// Nanoseconds; kInvalidArgument for anything else or beyond int64.
Result<int64_t> ParseDurationNs(std::string_view text);

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_DURATION_H_
