#include "container/spec_values.h"

#include <algorithm>
#include <limits>

#include "core/drift.h"
#include "core/entry.h"

namespace driftwatch::container {
namespace {

bool IsClean(std::string_view path) {
  if (path.size() < 2 || path[0] != '/' || path.back() == '/') return false;
  size_t i = 1;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view c = path.substr(i, j - i);
    if (c.empty() || c == "." || c == "..") return false;
    i = j + 1;
  }
  return true;
}

}  // namespace

Result<VolumeSpec> ParseVolume(std::string_view text) {
  VolumeSpec v;
  std::string_view rest = text;
  size_t a = rest.find(':');
  if (a == std::string_view::npos)
    return Status::InvalidArgument("--volume '" + std::string(text) + "': expected SRC:DST[:ro]");
  v.source = std::string(rest.substr(0, a));
  rest.remove_prefix(a + 1);
  size_t b = rest.find(':');
  v.destination = std::string(rest.substr(0, b));
  if (b != std::string_view::npos) {
    std::string_view mode = rest.substr(b + 1);
    if (mode == "ro")
      v.read_only = true;
    else if (mode != "rw")
      return Status::InvalidArgument("--volume '" + std::string(text) + "': mode must be ro or rw");
  }
  if (v.source.empty() || v.source[0] != '/') {
    return Status::InvalidArgument("--volume '" + std::string(text) +
                                   "': source must be an absolute path");
  }
  if (!IsClean(v.destination)) {
    return Status::InvalidArgument("--volume '" + std::string(text) +
                                   "': destination must be an absolute path without '.' or '..'");
  }
  for (const std::string& p : {v.source, v.destination}) {
    if (p.find_first_of(",\n\\") != std::string::npos) {
      return Status::InvalidArgument("--volume '" + std::string(text) +
                                     "': ',' '\\' and newlines are not allowed");
    }
  }
  return v;
}

Result<uint64_t> ParseByteSize(std::string_view text) {
  uint64_t mult = 1;
  std::string_view digits = text;
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'k':
      case 'K':
        mult = 1ull << 10;
        break;
      case 'm':
      case 'M':
        mult = 1ull << 20;
        break;
      case 'g':
      case 'G':
        mult = 1ull << 30;
        break;
      default:
        break;
    }
    if (mult != 1) digits.remove_suffix(1);
  }
  if (digits.empty() || digits.size() > 19 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Status::InvalidArgument("'" + std::string(text) + "': expected a size like 256M");
  }
  uint64_t n = std::stoull(std::string(digits));
  if (n == 0 || n > std::numeric_limits<uint64_t>::max() / mult) {
    return Status::InvalidArgument("'" + std::string(text) + "': size out of range");
  }
  return n * mult;
}

Status ValidateName(std::string_view kind, std::string_view name) {
  auto ok_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  };
  bool ok = !name.empty() && name.size() <= 64 && ok_char(name[0]) && name[0] != '.' &&
            name[0] != '-' && name[0] != '_' && std::all_of(name.begin(), name.end(), ok_char);
  if (!ok) {
    return Status::InvalidArgument(
        std::string(kind) + " name '" + EscapePath(name) +
        "': use 1-64 of A-Z a-z 0-9 _ . - starting with a letter or digit");
  }
  return Status::Ok();
}

}  // namespace driftwatch::container
