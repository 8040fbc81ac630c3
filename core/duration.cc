#include "core/duration.h"

#include <cstdint>

namespace driftwatch {

Result<int64_t> ParseDurationNs(std::string_view text) {
  size_t i = 0;
  int64_t n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (n > (int64_t{1} << 40)) return Status::InvalidArgument("duration too large");
    n = n * 10 + (text[i++] - '0');
  }
  if (i == 0) return Status::InvalidArgument("expected a duration such as 30s, 15m, 2h or 90d");
  std::string_view unit = text.substr(i);
  int64_t mult;
  if (unit.empty() || unit == "s") {
    mult = 1000000000;
  } else if (unit == "ms") {
    mult = 1000000;
  } else if (unit == "m") {
    mult = int64_t{60} * 1000000000;
  } else if (unit == "h") {
    mult = int64_t{3600} * 1000000000;
  } else if (unit == "d") {
    mult = int64_t{86400} * 1000000000;
  } else {
    return Status::InvalidArgument("expected a duration such as 30s, 15m, 2h or 90d");
  }
  if (n > INT64_MAX / mult) return Status::InvalidArgument("duration too large");
  return n * mult;
}

}  // namespace driftwatch
