#include "packages/db_file.h"

namespace driftwatch::packages {

std::string UnderRoot(const std::string& root, std::string_view rel) {
  std::string out = root;
  while (rel.starts_with('/')) rel.remove_prefix(1);
  if (out.empty() || out.back() != '/') out += '/';
  out += rel;
  return out;
}

Result<std::optional<std::string>> ReadDbFile(Host& host, const std::string& root,
                                              std::string_view rel) {
  auto text = host.ReadFile(UnderRoot(root, rel), kMaxDbFileBytes);
  if (text.ok()) return std::optional<std::string>(std::move(text).value());
  if (text.status().code() == StatusCode::kNotFound) return std::optional<std::string>();
  return text.status();
}

Status LineError(std::string_view source, int line, std::string_view what) {
  std::string m(source);
  m += ":";
  m += std::to_string(line);
  m += ": ";
  m += what;
  return Status::Corruption(std::move(m));
}

}  // namespace driftwatch::packages
