// The oracles of the runtime tests, as pure functions over what the
// runtimes and driftwatch print: drift as "kind path" lines ("added /etc/x",
// "modified /etc/passwd", "removed /etc/group"), files and symlinks only.
// Directories are left aside on both sides: runtimes list every parent of a
// change ("C /etc") and mount points they made ("A /data"), driftwatch lists
// the directories it found added or modified; neither is drift of content.
#ifndef DRIFTWATCH_TESTS_RUNTIMES_ORACLE_H_
#define DRIFTWATCH_TESTS_RUNTIMES_ORACLE_H_

#include <set>
#include <string>
#include <utility>
#include <vector>

#include <cpprest/json.h>

namespace driftwatch::rt {

using Changes = std::set<std::string>;  // "kind path"

// `docker diff` / `podman diff` output ("A /p", "C /p", "D /p" lines) as
// (kind, path) with kind "added", "modified", "removed"; a line of another
// form is returned in *bad (the test fails on it).
std::vector<std::pair<std::string, std::string>> ParseRuntimeDiff(const std::string& text,
                                                                  std::vector<std::string>* bad);

// The entries of a runtime diff that are not directories: added and
// modified paths are looked up under `merged` (the container's root as the
// host sees it, /proc/PID/root), removed ones under `image` (the rootfs the
// image was made from).
Changes FilesOfRuntimeDiff(const std::vector<std::pair<std::string, std::string>>& diff,
                           const std::string& merged, const std::string& image);

// driftwatch's `events` array of one container: "kind path" of every event
// whose entry (new, else old) is not a directory.
Changes FilesOfEvents(const web::json::value& events);

// Every event path (directories included) inside one of `prefixes` or equal
// to one of them.
std::vector<std::string> EventsUnder(const web::json::value& events,
                                     const std::vector<std::string>& prefixes);

// An overlay upper dir read directly: a whiteout (char device 0/0) is
// "removed", any other non-directory "modified" when `image` has the path,
// else "added". Enough for changes that remove no directory.
Changes FilesOfUpperDir(const std::string& upper, const std::string& image);

}  // namespace driftwatch::rt

#endif  // DRIFTWATCH_TESTS_RUNTIMES_ORACLE_H_
