// Helpers shared by the package database readers: reading a database file
// under a root and naming a line in error messages.
//
// Thread-safety: pure functions; reads go through the Host.
#ifndef DRIFTWATCH_PACKAGES_DB_FILE_H_
#define DRIFTWATCH_PACKAGES_DB_FILE_H_

#include <optional>
#include <string>
#include <string_view>

#include "core/host.h"
#include "core/status.h"

namespace driftwatch::packages {

// Largest database file read (status files are a few MiB).
constexpr size_t kMaxDbFileBytes = 512u << 20;

// root + "/" + rel without doubling the slash ("/" + "var/x" -> "/var/x").
std::string UnderRoot(const std::string& root, std::string_view rel);

// Reads root/rel. A file that does not exist is std::nullopt; other errors
// name the file.
Result<std::optional<std::string>> ReadDbFile(Host& host, const std::string& root,
                                              std::string_view rel);

// The same, reading into a string sized once from the file's size (through
// OpenAt, Fstat and Read): a string grown while reading holds up to twice
// the file, and the largest dpkg info files are several MB.
Result<std::optional<std::string>> ReadDbFileSized(Host& host, const std::string& root,
                                                   std::string_view rel);

// kCorruption "<source>:<line>: <what>".
Status LineError(std::string_view source, int line, std::string_view what);

// Splits text into lines without their '\n' (a final line without '\n'
// counts). Calls fn(line, line_number) and stops at the first error.
template <typename Fn>
Status ForEachLine(std::string_view text, Fn&& fn) {
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    DW_RETURN_IF_ERROR(fn(text.substr(pos, end - pos), ++line_no));
    pos = end + 1;
  }
  return Status::Ok();
}

}  // namespace driftwatch::packages

#endif  // DRIFTWATCH_PACKAGES_DB_FILE_H_
