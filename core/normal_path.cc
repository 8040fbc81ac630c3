#include "core/normal_path.h"

#include <string>

namespace driftwatch {

Status CheckPathComponent(std::string_view component) {
  if (component.empty()) return Status::InvalidArgument("empty path component");
  if (component == "." || component == "..") {
    return Status::InvalidArgument("'.' and '..' components are not allowed");
  }
  return Status::Ok();
}

Status CheckNormalPath(std::string_view path) {
  if (path.empty() || path[0] != '/') {
    return Status::InvalidArgument("must be an absolute path (start with '/')");
  }
  if (path.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("contains a NUL byte");
  }
  if (path.size() > kMaxPathBytes) {
    return Status::InvalidArgument("longer than " + std::to_string(kMaxPathBytes) + " bytes");
  }
  if (path.size() == 1) return Status::Ok();  // the root
  size_t components = 0;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    DW_RETURN_IF_ERROR(CheckPathComponent(path.substr(start, end - start)));
    if (++components > kMaxPathComponents) {
      return Status::InvalidArgument("more than " + std::to_string(kMaxPathComponents) +
                                     " components");
    }
    start = end + 1;
  }
  return Status::Ok();
}

std::vector<std::string> PathComponents(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace driftwatch
