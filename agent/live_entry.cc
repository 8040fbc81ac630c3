#include "agent/live_entry.h"

#include <fcntl.h>

#include <algorithm>

#include "agent/scanner.h"

namespace driftwatch::agent {
namespace {

std::string ParentOf(const std::string& logical) {
  size_t slash = logical.rfind('/');
  return slash == 0 ? "/" : logical.substr(0, slash);
}

}  // namespace

// Must stay byte for byte what agent/scanner.cc hashes (XattrDigest there).
Hash128 LiveXattrDigest(const std::vector<Xattr>& xattrs) {
  if (xattrs.empty()) return Hash128();
  std::vector<const Xattr*> sorted;
  for (const Xattr& x : xattrs) sorted.push_back(&x);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
  std::string buf;
  for (const Xattr* x : sorted) {
    buf += x->name;
    buf.push_back('\0');
    buf += std::to_string(x->value.size());
    buf.push_back('\0');
    buf += x->value;
  }
  return HashBytes(buf);
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
  e.name = logical == "/" ? "" : logical.substr(logical.rfind('/') + 1);
  if (!EntryTypeFromMode(st.st_mode, &e.type)) return std::optional<Entry>();
  e.structural = !watched;
  e.mask = watched ? (rule->mask | kAttrType) : kAttrType;
  if (e.mask & kAttrGrowing) e.mask |= kAttrSize | kAttrHash;
  if (e.type != EntryType::kFile) e.mask &= ~(kAttrHash | kAttrGrowing);
  if (e.type == EntryType::kDir || e.type == EntryType::kSymlink) e.mask &= ~kAttrSize;
  if (e.type != EntryType::kSymlink) e.mask &= ~kAttrLink;
  if (e.type != EntryType::kCharDev && e.type != EntryType::kBlockDev) e.mask &= ~kAttrRdev;
  e.mode = st.st_mode & 07777;
  e.uid = st.st_uid;
  e.gid = st.st_gid;
  e.size = static_cast<uint64_t>(st.st_size);
  e.mtime_ns = TimespecNs(st.st_mtim);
  e.ctime_ns = TimespecNs(st.st_ctim);
  e.inode = st.st_ino;
  e.nlink = st.st_nlink;
  e.rdev = st.st_rdev;
  if (watched) {
    const std::string parent = HostPath(root, ParentOf(logical));
    if (e.type == EntryType::kSymlink && (e.mask & kAttrLink)) {
      DW_ASSIGN_OR_RETURN(UniqueFd dir, host.OpenAt(AT_FDCWD, parent, O_RDONLY | O_DIRECTORY));
      DW_ASSIGN_OR_RETURN(e.link_target, host.ReadLinkAt(dir.get(), e.name));
    }
    if (e.mask & kAttrXattrs) {
      DW_ASSIGN_OR_RETURN(UniqueFd dir, host.OpenAt(AT_FDCWD, parent, O_RDONLY | O_DIRECTORY));
      DW_ASSIGN_OR_RETURN(std::vector<Xattr> xattrs, host.XattrsAt(dir.get(), e.name));
      e.xattrs = LiveXattrDigest(xattrs);
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
