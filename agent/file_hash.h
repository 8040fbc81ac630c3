// Reading entries and files for the scanner, the checker and the realtime
// watcher: an entry from its stat, whole-file digests taken while a tree is
// scanned, the digest of a growing file's old prefix, and the digest of a
// file's watched extended attributes.
//
// Thread-safety: the functions keep no state (a thread-local read buffer).
#ifndef DRIFTWATCH_AGENT_FILE_HASH_H_
#define DRIFTWATCH_AGENT_FILE_HASH_H_

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/entry.h"
#include "core/hash.h"
#include "core/host.h"
#include "core/status.h"
#include "rules/policy.h"

namespace driftwatch::agent {

struct FileDigest {
  Digest digest;
  uint64_t bytes = 0;    // bytes read
  bool changed = false;  // size, mtime or ctime moved while it was read
};

// Hashes `name` in `dir_fd` (`path` names it in messages) with `algo`,
// without following a symlink and without touching its atime where allowed.
// kNotFound when it is no longer the file `before` describes. With `keep`,
// the bytes read are also appended to *keep (cleared first), from the same
// read that hashes them, as long as they are at most keep_max bytes; a file
// that turns out larger leaves *keep empty.
Result<FileDigest> HashFileAt(Host& host, int dir_fd, const std::string& path,
                              const std::string& name, const struct stat& before, HashAlgo algo,
                              std::string* keep = nullptr, uint64_t keep_max = 0);

// Opens `name` in `dir_fd` for hashing: read-only, O_NONBLOCK (a FIFO or
// device put in its place never blocks the open), without following a
// symlink, and without touching its atime where allowed.
Result<UniqueFd> OpenForHashAt(Host& host, int dir_fd, const std::string& name);

// Hashes the regular file open as `fd` (from OpenForHashAt) whose fstat,
// taken before any read, is `st`: the entry's own stat when a file is opened
// before it is stat'ed (docs/decisions.md, "Small files"). `changed` when it
// held more or fewer bytes than `st` says. No fstat follows the read: a
// write during it moves the mtime and ctime past `st`, so the next scan
// reads the file again. `keep` and `keep_max` as for HashFileAt.
Result<FileDigest> HashOpenFile(Host& host, int fd, const std::string& path, const struct stat& st,
                                HashAlgo algo, std::string* keep = nullptr, uint64_t keep_max = 0);

// Hashes the first `length` bytes of `host_path` (without following a final
// symlink) with `algo`; kOutOfRange-style kInvalidArgument if shorter.
Result<Digest> HashFilePrefix(Host& host, const std::string& host_path, uint64_t length,
                              HashAlgo algo);

// One digest of a file's extended attributes, whatever order they were
// listed in; zero when there are none.
Hash128 XattrDigest(const std::vector<Xattr>& xattrs);

int64_t TimespecNs(const struct timespec& ts);

// The entry named `name` from its stat, with the attributes `rule` records
// (a watched entry) or its type only (`rule` null or an ignore rule: a
// directory on the way to watched paths). Only attributes that mean
// something for the type are kept: a directory's size is filesystem
// bookkeeping, not content. Symlink targets, xattrs and digests are left to
// the caller. False for a file type driftwatch does not record.
bool EntryFromStat(const std::string& name, const struct stat& st, const rules::Rule* rule,
                   Entry* e);

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_FILE_HASH_H_
