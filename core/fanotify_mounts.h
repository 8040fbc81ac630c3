// Mount points from /proc/self/mountinfo, and whether a change of them can
// hide events under watched paths (core/fanotify.cc reports it as a gap).
//
// Thread-safety: pure functions, but for ReadMountinfo (reads an fd).
#ifndef DRIFTWATCH_CORE_FANOTIFY_MOUNTS_H_
#define DRIFTWATCH_CORE_FANOTIFY_MOUNTS_H_

#include <string>
#include <string_view>
#include <vector>

namespace driftwatch {

// The mount point (field 5, octal escapes such as "\040" decoded) of each
// line of mountinfo text, in order; malformed lines are skipped.
std::vector<std::string> ParseMountPoints(std::string_view mountinfo);

// Compares two mount tables (as from ParseMountPoints): the gap reason for
// the first mount point that appeared or disappeared at, under or above one
// of `watched` ("filesystem mounted at /etc/x", "filesystem unmounted from
// /etc/x"), or "" when every change is elsewhere.
std::string MountChangeGap(const std::vector<std::string>& before,
                           const std::vector<std::string>& after,
                           const std::vector<std::string>& watched);

// The whole mountinfo text of an open /proc/self/mountinfo, read from its
// start (at most 16 MiB); "" when it cannot be read.
std::string ReadMountinfo(int fd);

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_FANOTIFY_MOUNTS_H_
