#include "agent/file_hash.h"

#include <fcntl.h>

#include <algorithm>
#include <memory>

#include "core/drift.h"

namespace driftwatch::agent {
namespace {

constexpr size_t kReadChunk = 1 << 20;

}  // namespace

int64_t TimespecNs(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

bool EntryFromStat(const std::string& name, const struct stat& st, const rules::Rule* rule,
                   Entry* e) {
  const bool watched = rule != nullptr && !rule->ignore;
  e->name = name;
  if (!EntryTypeFromMode(st.st_mode, &e->type)) return false;
  e->structural = !watched;
  e->mask = watched ? (rule->mask | kAttrType) : kAttrType;
  // A growing file is checked by size and by the hash of its old prefix.
  if (e->mask & kAttrGrowing) e->mask |= kAttrSize | kAttrHash;
  if (e->type != EntryType::kFile) e->mask &= ~(kAttrHash | kAttrGrowing);
  if (e->type == EntryType::kDir || e->type == EntryType::kSymlink) e->mask &= ~kAttrSize;
  if (e->type != EntryType::kSymlink) e->mask &= ~kAttrLink;
  if (e->type != EntryType::kCharDev && e->type != EntryType::kBlockDev) e->mask &= ~kAttrRdev;
  e->mode = st.st_mode & 07777;
  e->uid = st.st_uid;
  e->gid = st.st_gid;
  e->size = static_cast<uint64_t>(st.st_size);
  e->mtime_ns = TimespecNs(st.st_mtim);
  e->ctime_ns = TimespecNs(st.st_ctim);
  e->inode = st.st_ino;
  e->nlink = st.st_nlink;
  e->rdev = st.st_rdev;
  return true;
}

Hash128 XattrDigest(const std::vector<Xattr>& xattrs) {
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

Result<UniqueFd> OpenForHashAt(Host& host, int dir_fd, const std::string& name) {
  const int base = O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK;
  auto fd = host.OpenAt(dir_fd, name, base | O_NOATIME);
  if (!fd.ok() && fd.status().code() == StatusCode::kPermissionDenied) {
    fd = host.OpenAt(dir_fd, name, base);  // O_NOATIME needs ownership or CAP_FOWNER
  }
  return fd;
}

namespace {

// Reads `fd` to its end or until the `size` bytes its stat promised are in
// (no read that returns 0 at the end: one system call per small file; bytes
// appended since show as more than `size`), hashing and keeping as
// HashFileAt says. *total counts the bytes read.
Status ReadAndHash(Host& host, int fd, uint64_t size, Hasher* hasher, std::string* keep,
                   uint64_t keep_max, uint64_t* total) {
  if (size > kReadChunk) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  thread_local std::unique_ptr<char[]> buffer(new char[kReadChunk]);
  if (keep != nullptr) {
    keep->clear();
    if (size <= keep_max) keep->reserve(static_cast<size_t>(size));
  }
  *total = 0;
  for (;;) {
    DW_ASSIGN_OR_RETURN(size_t n, host.Read(fd, buffer.get(), kReadChunk));
    if (n == 0) return Status::Ok();
    hasher->Update(buffer.get(), n);
    *total += n;
    if (keep != nullptr) {
      if (*total <= keep_max) {
        keep->append(buffer.get(), n);
      } else if (!keep->empty()) {
        std::string().swap(*keep);  // grew past the cap: not kept
      }
    }
    if (*total == size) return Status::Ok();
  }
}

}  // namespace

Result<FileDigest> HashOpenFile(Host& host, int fd, const std::string& path, const struct stat& st,
                                HashAlgo algo, std::string* keep, uint64_t keep_max) {
  Hasher hasher(algo);
  FileDigest out;
  if (Status s = ReadAndHash(host, fd, static_cast<uint64_t>(st.st_size), &hasher, keep, keep_max,
                             &out.bytes);
      !s.ok()) {
    if (keep != nullptr) keep->clear();
    return s.WithContext(EscapePath(path));
  }
  out.digest = hasher.Finish();
  out.changed = out.bytes != static_cast<uint64_t>(st.st_size);
  return out;
}

Result<FileDigest> HashFileAt(Host& host, int dir_fd, const std::string& path,
                              const std::string& name, const struct stat& before, HashAlgo algo,
                              std::string* keep, uint64_t keep_max) {
  if (keep != nullptr) keep->clear();
  auto fd = OpenForHashAt(host, dir_fd, name);
  // Paths are escaped only for an error: EscapePath on every file was a
  // tenth of a baseline's instructions (docs/decisions.md, "Small files").
  auto failed = [&](const Status& s) { return s.WithContext(EscapePath(path)); };
  if (!fd.ok()) return failed(fd.status());
  // One fstat, after the read: it tells whether the file opened is the one
  // stat'ed (same inode, still regular) and whether it changed while read.
  // What replaced the file in between is opened O_NONBLOCK and never
  // hashed; a read error there is reported as the replacement it is.
  struct stat after;
  Hasher hasher(algo);
  uint64_t total = 0;
  if (Status s = ReadAndHash(host, fd->get(), static_cast<uint64_t>(before.st_size), &hasher, keep,
                             keep_max, &total);
      !s.ok()) {
    if (keep != nullptr) keep->clear();
    if (host.Fstat(fd->get(), &after).ok() &&
        (!S_ISREG(after.st_mode) || after.st_ino != before.st_ino ||
         after.st_dev != before.st_dev)) {
      return Status::NotFound(EscapePath(path) + ": replaced during scan");
    }
    return failed(s);
  }
  if (Status s = host.Fstat(fd->get(), &after); !s.ok()) return failed(s);
  if (!S_ISREG(after.st_mode) || after.st_ino != before.st_ino || after.st_dev != before.st_dev) {
    return Status::NotFound(EscapePath(path) + ": replaced during scan");
  }
  FileDigest out;
  out.digest = hasher.Finish();
  out.bytes = total;
  out.changed = after.st_size != before.st_size ||
                TimespecNs(after.st_mtim) != TimespecNs(before.st_mtim) ||
                TimespecNs(after.st_ctim) != TimespecNs(before.st_ctim) ||
                total != static_cast<uint64_t>(before.st_size);
  return out;
}

Result<Digest> HashFilePrefix(Host& host, const std::string& host_path, uint64_t length,
                              HashAlgo algo) {
  DW_ASSIGN_OR_RETURN(
      UniqueFd fd, host.OpenAt(AT_FDCWD, host_path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK));
  struct stat st;
  DW_RETURN_IF_ERROR(host.Fstat(fd.get(), &st));
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(host_path + ": not a regular file");
  Hasher hasher(algo);
  std::vector<char> buf(kReadChunk);
  uint64_t left = length;
  while (left > 0) {
    DW_ASSIGN_OR_RETURN(size_t n,
                        host.Read(fd.get(), buf.data(), std::min<uint64_t>(left, buf.size())));
    if (n == 0)
      return Status::InvalidArgument(host_path + ": shorter than " + std::to_string(length));
    hasher.Update(buf.data(), n);
    left -= n;
  }
  return hasher.Finish();
}

}  // namespace driftwatch::agent
