// The paths driftwatch names host files by: absolute, normalized byte
// strings. One definition, shared by the rule language's globs
// (rules/glob.h) and by the collector, which refuses accept commands for
// paths no agent would take (docs/api.md, POST /hosts/{id}/accept).
//
// A normal path starts with '/', has no NUL byte, no empty, "." or ".."
// component (so no "//" and no trailing '/'; "/" alone is the root), at most
// kMaxPathComponents components and at most kMaxPathBytes bytes. No encoding
// is assumed.
//
// Thread-safety: pure functions.
#ifndef DRIFTWATCH_CORE_NORMAL_PATH_H_
#define DRIFTWATCH_CORE_NORMAL_PATH_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace driftwatch {

inline constexpr size_t kMaxPathComponents = 128;
inline constexpr size_t kMaxPathBytes = 4096;

// Ok for a normal path; else kInvalidArgument whose message is the reason
// alone ("'.' and '..' components are not allowed"), for the caller to put
// after the path or field it names. Checks in order: absolute, NUL byte,
// length, then each component (empty, "." or ".."), then the component count.
Status CheckNormalPath(std::string_view path);

// Ok for a component a normal path may have: not empty, not "." or "..".
// The message is the reason alone, as above.
Status CheckPathComponent(std::string_view component);

// The components of a path in order, empty ones skipped:
// "/etc/ssh/sshd_config" -> {"etc", "ssh", "sshd_config"}, "/" -> {}.
std::vector<std::string> PathComponents(std::string_view path);

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_NORMAL_PATH_H_
