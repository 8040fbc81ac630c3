// User namespaces for containers (`container run --userns`, docs/containers.md
// "User namespaces").
//
// A container with a user namespace maps its uids and gids 0..count-1 onto
// the host range host..host+count-1 (one range for both). The launcher
// builds the namespace before the container exists (MakeUserNamespace), so
// the container's mounts are still made by the host's root: the image is
// bind-mounted over itself with an idmapped mount (image uid N shows as host
// uid host+N, i.e. as N inside), the overlay is mounted on top of that as
// without --userns (trusted.* xattrs, redirect_dir, metacopy), and only then
// does the container's init enter the namespace (EnterUserNamespace). Files
// the container creates land in the upper layer owned by host uid host+N;
// the diff maps them back (ContainerViewId), so it reads the same with or
// without --userns.
//
// Errors: kInvalidArgument for a malformed or unsafe range; kIoError from
// the kernel with the failing step named.
// Thread-safety: the parsers are pure; the rest forks and must be called
// from a single-threaded process.
#ifndef DRIFTWATCH_CONTAINER_USERNS_H_
#define DRIFTWATCH_CONTAINER_USERNS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "container/state.h"
#include "core/host.h"
#include "core/status.h"

namespace driftwatch::container {

// The range used when --userns gives none.
constexpr IdRange kDefaultIdRange{100000, 65536};

// "HOSTID:COUNT". HOSTID >= 1 (container root must not be host root), COUNT
// >= 1, and the range must end below 4294967295 (the invalid id).
Result<IdRange> ParseIdRange(std::string_view text);

// The first range /etc/subuid (or subgid) grants `user`, by name; nullopt
// when there is none. Malformed lines are skipped, as shadow-utils does.
std::optional<IdRange> FindSubordinateRange(std::string_view text, std::string_view user);

// root's range in /etc/subuid (read through `host`) when there is one, else
// kDefaultIdRange.
IdRange DefaultIdRange(Host& host);

// A user namespace owned by the caller whose uid_map and gid_map are
// "0 HOST COUNT"; returns an fd of it (/proc/PID/ns/user of a helper that has
// exited when this returns).
Result<UniqueFd> MakeUserNamespace(const IdRange& range);

// Replaces the mount at `dir` (in the caller's mount namespace, which must
// be private) by an idmapped clone of itself: ids are shifted by the
// namespace's mapping.
Status IdmapMountOver(const std::string& dir, int userns_fd);

// Joins the namespace and becomes its root (uid and gid 0, no supplementary
// groups). Clears the parent-death signal (the kernel does too).
Status EnterUserNamespace(int userns_fd);

// Host id -> container id for ids inside the range; others stay as they are
// (files the image brought in, copied up with their owner).
inline uint32_t ContainerViewId(uint32_t host_id, const IdRange& range) {
  if (!range.enabled() || host_id < range.host || host_id - range.host >= range.count)
    return host_id;
  return host_id - range.host;
}

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_USERNS_H_
