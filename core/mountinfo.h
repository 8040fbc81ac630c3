// ParseMountInfo: the pure parser of /proc/PID/mountinfo (proc(5)), for the
// container code (container/mountinfo.h) and the realtime watcher's mount
// gaps (core/fanotify_mounts.h).
//
// Each line is "ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] -
// FSTYPE SOURCE SUPER_OPTIONS". Paths are unescaped from the kernel's octal
// form (\040 space, \011 tab, \012 newline, \134 backslash). A malformed line
// is kCorruption naming its line number; input larger than kMaxMountInfoBytes
// or with more than kMaxMountInfoLines lines is kResourceExhausted.
//
// Thread-safety: pure functions.
#ifndef DRIFTWATCH_CORE_MOUNTINFO_H_
#define DRIFTWATCH_CORE_MOUNTINFO_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace driftwatch {

constexpr size_t kMaxMountInfoBytes = 16 << 20;
constexpr size_t kMaxMountInfoLines = 100000;

struct MountInfo {
  uint64_t id = 0;
  uint64_t parent_id = 0;
  uint32_t major = 0;
  uint32_t minor = 0;
  std::string root;                          // the mount's root within its filesystem
  std::string mount_point;                   // relative to the reading process's root
  std::string options;                       // per-mount options, e.g. "rw,relatime"
  std::vector<std::string> optional_fields;  // "shared:1", "master:2", ...
  std::string fstype;
  std::string source;
  std::string super_options;  // e.g. "rw,lowerdir=/a:/b,upperdir=/u,workdir=/w"

  friend bool operator==(const MountInfo&, const MountInfo&) = default;
};

Result<std::vector<MountInfo>> ParseMountInfo(std::string_view text);

// Undoes the kernel's octal escaping ("\040" -> " "). Unknown escapes are
// kept as they are.
std::string UnescapeMountField(std::string_view field);

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_MOUNTINFO_H_
