#include "packages/db_file.h"

#include <fcntl.h>
#include <sys/stat.h>

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

Result<std::optional<std::string>> ReadDbFileSized(Host& host, const std::string& root,
                                                   std::string_view rel) {
  const std::string path = UnderRoot(root, rel);
  // O_NONBLOCK: a FIFO in the database must not block the open; the type
  // is checked before any read.
  auto fd = host.OpenAt(AT_FDCWD, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
  if (!fd.ok()) {
    if (fd.status().code() == StatusCode::kNotFound) return std::optional<std::string>();
    return fd.status();
  }
  struct stat st;
  DW_RETURN_IF_ERROR(host.Fstat(fd->get(), &st).WithContext(path));
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(path + ": not a regular file");
  if (static_cast<uint64_t>(st.st_size) > kMaxDbFileBytes) {
    return Status::ResourceExhausted(path + ": larger than " + std::to_string(kMaxDbFileBytes) +
                                     " bytes");
  }
  // One byte more than the file: the read that finds the end then needs
  // no room of its own (growing a std::string doubles its capacity).
  std::string out(static_cast<size_t>(st.st_size) + 1, '\0');
  size_t got = 0;
  for (;;) {
    if (got == out.size()) {
      // Grown since the fstat: read on in small steps.
      if (out.size() > kMaxDbFileBytes) {
        return Status::ResourceExhausted(path + ": larger than " + std::to_string(kMaxDbFileBytes) +
                                         " bytes");
      }
      out.resize(out.size() + 4096);
    }
    auto n = host.Read(fd->get(), out.data() + got, out.size() - got);
    if (!n.ok()) return n.status().WithContext(path);
    if (*n == 0) break;
    got += *n;
  }
  out.resize(got);
  return std::optional<std::string>(std::move(out));
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
