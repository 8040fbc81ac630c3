#include "agent/live_entry.h"

#include <fcntl.h>

#include <algorithm>

#include "agent/file_hash.h"
#include "agent/scanner.h"

namespace driftwatch::agent {
namespace {

std::string ParentOf(const std::string& logical) {
  size_t slash = logical.rfind('/');
  return slash == 0 ? "/" : logical.substr(0, slash);
}

}  // namespace

Result<std::optional<Entry>> ReadLiveEntry(Host& host, const rules::Policy& policy,
                                           const std::string& root, const std::string& logical) {
  const rules::Rule* rule = policy.Match(logical);
  const bool watched = rule != nullptr && !rule->ignore;
  const std::string host_path = HostPath(root, logical);
  struct stat st;
  Status s = host.StatAt(AT_FDCWD, host_path, &st);
  if (s.code() == StatusCode::kNotFound) return std::optional<Entry>();
  DW_RETURN_IF_ERROR(s);
  Entry e;
  if (!EntryFromStat(logical == "/" ? "" : logical.substr(logical.rfind('/') + 1), st, rule, &e)) {
    return std::optional<Entry>();
  }
  if (watched) {
    const std::string parent = HostPath(root, ParentOf(logical));
    if (e.type == EntryType::kSymlink && (e.mask & kAttrLink)) {
      DW_ASSIGN_OR_RETURN(UniqueFd dir, host.OpenAt(AT_FDCWD, parent, O_RDONLY | O_DIRECTORY));
      DW_ASSIGN_OR_RETURN(e.link_target, host.ReadLinkAt(dir.get(), e.name));
    }
    if (e.mask & kAttrXattrs) {
      DW_ASSIGN_OR_RETURN(UniqueFd dir, host.OpenAt(AT_FDCWD, parent, O_RDONLY | O_DIRECTORY));
      DW_ASSIGN_OR_RETURN(std::vector<Xattr> xattrs, host.XattrsAt(dir.get(), e.name));
      e.xattrs = XattrDigest(xattrs);
    }
    if (e.type == EntryType::kFile && (e.mask & kAttrHash)) {
      DW_ASSIGN_OR_RETURN(e.content, HashFilePrefix(host, host_path, e.size, rule->hash));
      struct stat after;
      DW_RETURN_IF_ERROR(host.StatAt(AT_FDCWD, host_path, &after));
      if (after.st_ino != st.st_ino || after.st_size != st.st_size ||
          TimespecNs(after.st_mtim) != e.mtime_ns || TimespecNs(after.st_ctim) != e.ctime_ns) {
        return Status::Unavailable(EscapePath(logical) + ": changed while it was read");
      }
    }
  }
  e.ApplyMask();
  return std::optional<Entry>(std::move(e));
}

}  // namespace driftwatch::agent
