#include "rules/include_path.h"

#include <vector>

namespace driftwatch::rules {

std::string NormalizePath(std::string_view path) {
  const bool absolute = !path.empty() && path[0] == '/';
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view c = path.substr(start, end - start);
    start = end + 1;
    if (c.empty() || c == ".") continue;
    if (c == ".." && !parts.empty() && parts.back() != "..") {
      parts.pop_back();
    } else if (c != ".." || !absolute) {
      parts.push_back(c);
    }
  }
  std::string out = absolute ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += '/';
    out.append(parts[i]);
  }
  return out.empty() ? "." : out;
}

std::string ResolveInclude(const std::string& including, const std::string& include) {
  if (!include.empty() && include[0] == '/') return NormalizePath(include);
  size_t slash = including.rfind('/');
  if (slash == std::string::npos) return NormalizePath(include);
  return NormalizePath(including.substr(0, slash + 1) + include);
}

}  // namespace driftwatch::rules
