// RestoreFs: the writes of a restore (agent/restore.h), confined to a root.
//
// Every path is reached from the root's directory fd one component at a
// time with O_NOFOLLOW|O_DIRECTORY, and every write is relative to the fd
// of the directory holding the entry, never through a symlink: a symlink
// where a directory should be is refused (kPermissionDenied), so nothing
// outside the root is touched. Files and symlinks are made under a
// temporary name in the same directory, given their owner, xattrs and mode,
// fsynced and renamed over the path; the directory is fsynced after.
//
// With dry_run nothing is changed: writes succeed without being done, and
// directories that would be made count as there for what follows.
//
// Thread-safety: not thread-safe; one restore at a time.
#ifndef DRIFTWATCH_AGENT_RESTORE_FS_H_
#define DRIFTWATCH_AGENT_RESTORE_FS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/entry.h"
#include "core/host.h"
#include "core/status.h"

namespace driftwatch::agent {

// Caps of RemoveTree: entries removed and directory depth (each level holds
// an open fd).
inline constexpr uint64_t kMaxRemoveEntries = 1'000'000;
inline constexpr size_t kMaxRemoveDepth = 256;

// The baseline's entry at a logical path (for directories that lead to a
// restored path and are missing now); nullopt when the baseline has none.
using BaselineLookup = std::function<Result<std::optional<Entry>>(const std::string& path)>;

class RestoreFs {
 public:
  // `root`: the directory rule paths are relative to (opened as given).
  static Result<RestoreFs> Open(Host& host, const std::string& root, bool dry_run);

  // The directory holding logical `path`, made again (with the baseline's
  // attributes, from `lookup`) where it is missing. In a dry run a
  // directory that would be made yields an invalid fd.
  Result<UniqueFd> OpenParent(const std::string& path, const BaselineLookup& lookup);

  // Makes `e` (file, directory or symlink) as `name` in dir_fd, replacing a
  // file or symlink there. `content`: a file's bytes; `xattrs`: the set to
  // give it (null: none recorded).
  Status Create(int dir_fd, const std::string& name, const Entry& e, const std::string* content,
                const std::vector<Xattr>* xattrs);
  Status Chown(int dir_fd, const std::string& name, const Entry& e);
  Status Chmod(int dir_fd, const std::string& name, const Entry& e);
  // Makes the watched xattrs of `name` exactly `want`.
  Status SetXattrs(int dir_fd, const std::string& name, const std::vector<Xattr>& want);
  // Removes `name` and, when it is a directory, all it holds (bounded by
  // kMaxRemoveEntries and kMaxRemoveDepth; no recursion). Sets *removed to
  // the entries removed.
  Status RemoveTree(int dir_fd, const std::string& name, uint64_t* removed);

  // Marks a directory made in a dry run, so that paths beneath it resolve.
  void NoteMade(const std::string& path) { dry_made_.insert(path); }
  bool dry_run() const { return dry_run_; }

 private:
  RestoreFs(Host& host, UniqueFd root, bool dry_run)
      : host_(&host), root_(std::move(root)), dry_run_(dry_run) {}
  std::string TempName(const std::string& name);
  Status ApplyAttrs(int dir_fd, const std::string& name, const Entry& e,
                    const std::vector<Xattr>* xattrs);

  Host* host_;
  UniqueFd root_;
  bool dry_run_;
  uint64_t temp_seq_ = 0;
  std::set<std::string> dry_made_;
};

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_RESTORE_FS_H_
