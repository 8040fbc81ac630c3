#include "agent/live_entry.h"

#include <fcntl.h>

#include <algorithm>

#include "agent/file_hash.h"
#include "agent/scanner.h"

namespace driftwatch::agent {
std::string ParentOf(const std::string& logical) {
  size_t slash = logical.rfind('/');
  return slash == 0 ? "/" : logical.substr(0, slash);
}

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
  const bool link = e.type == EntryType::kSymlink && (e.mask & kAttrLink);
  const bool hash = e.type == EntryType::kFile && (e.mask & kAttrHash);
  if (watched && (link || hash || (e.mask & kAttrXattrs))) {
    DW_ASSIGN_OR_RETURN(UniqueFd dir, host.OpenAt(AT_FDCWD, HostPath(root, ParentOf(logical)),
                                                  O_RDONLY | O_DIRECTORY));
    if (link) {
      DW_ASSIGN_OR_RETURN(e.link_target, host.ReadLinkAt(dir.get(), e.name));
    }
    if (e.mask & kAttrXattrs) {
      DW_ASSIGN_OR_RETURN(std::vector<Xattr> xattrs, host.XattrsAt(dir.get(), e.name));
      e.xattrs = XattrDigest(xattrs);
    }
    if (hash) {
      // The scanner's reader: the same file as `st`, and whether it moved
      // while it was read.
      auto digest = HashFileAt(host, dir.get(), logical, e.name, st, rule->hash);
      if ((digest.ok() && digest->changed) || digest.status().code() == StatusCode::kNotFound) {
        return Status::Unavailable(EscapePath(logical) + ": changed while it was read");
      }
      DW_RETURN_IF_ERROR(digest.status());
      e.content = digest->digest;
    }
  }
  e.ApplyMask();
  return std::optional<Entry>(std::move(e));
}

}  // namespace driftwatch::agent
