// ScanTree: walks the paths a Policy watches and produces a Merkle tree.
//
// The walk starts at the logical root "/" (options.root on the host) and only
// descends into directories that a rule watches or that lead to one. It never
// recurses (an explicit work stack), never follows symlinks (openat with
// O_NOFOLLOW relative to directory fds), never reads FIFOs, sockets or
// devices nor blocks opening one, and stays on the filesystem of its parent
// unless the matching rule says cross_mounts. A regular file to hash that no
// stat cache row can vouch for is opened before it is stat'ed (the fstat of
// the open file is its stat); only what that fstat says is a regular file
// is read. Directories are processed by `jobs` worker threads; the
// result does not depend on the number of threads or their timing, because a
// directory's tree depends only on its sorted children.
//
// Trees are handed to the TreeSink as soon as they are complete, so memory
// holds only directories still in progress, not the whole tree.
//
// A file that vanishes, changes or cannot be read during the scan becomes a
// warning; only failures of the sink or of the root itself are errors.
//
// Thread-safety: ScanTree may run concurrently with other scans; the sink and
// the stat cache must be thread-safe.
#ifndef DRIFTWATCH_AGENT_SCANNER_H_
#define DRIFTWATCH_AGENT_SCANNER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "agent/content.h"
#include "agent/file_hash.h"
#include "agent/incremental.h"
#include "core/drift.h"
#include "core/entry.h"
#include "core/hash.h"
#include "core/host.h"
#include "core/status.h"
#include "core/tree_io.h"
#include "rules/policy.h"

namespace driftwatch::agent {

using ::driftwatch::MemoryTreeStore;
using ::driftwatch::TreeSink;
using ::driftwatch::TreeSource;

// One remembered entry: its stat tuple when it was read, its content digest
// and its xattr digest.
struct CachedStat {
  std::string name;
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  int64_t scan_ns = 0;  // start of the scan that read it (racy check)
  Digest digest;        // empty when not hashed (not a file, or no hash rule)
  bool has_xattrs = false;
  Hash128 xattrs;  // digest of the watched xattrs, when has_xattrs
};

// The stat cache: what was hashed where, so unchanged files are not re-read.
// Keys are host directory paths. Thread-safe.
class StatCache {
 public:
  virtual ~StatCache() = default;
  // Rows of the files directly in `dir`, sorted by name.
  virtual Result<std::vector<CachedStat>> LoadDir(const std::string& dir) = 0;
  // Replaces the rows of `dir` (sorted by name).
  virtual Status StoreDir(const std::string& dir, std::vector<CachedStat> rows) = 0;
};

struct ScanProgress {
  uint64_t entries = 0;
  uint64_t files_hashed = 0;
  uint64_t bytes_hashed = 0;
};

struct ScanOptions {
  std::string root = "/";      // host directory that rule paths are relative to
  int jobs = 0;                // 0 = number of CPUs
  bool full = false;           // ignore the stat cache (re-read everything)
  StatCache* cache = nullptr;  // optional; not owned
  int max_depth = 4096;        // deeper directories are not descended (warning)
  // Files whose mtime or ctime is this close to (or after) the start of the
  // scan that hashed them are always re-read: they may have changed within
  // one timestamp tick of being read (git's "racy" files).
  int64_t racy_window_ns = 2'000'000'000;
  size_t max_warnings = 1000;  // further warnings are counted, not listed
  // Called now and then from worker threads (serialized); optional.
  std::function<void(const ScanProgress&)> progress;
  // Optional, not owned: a journal-driven scan. Only directories that are
  // dirty or lead to a dirty path are listed (their files examined as
  // usual, the stat cache applying); every other directory's entry and
  // subtree is taken from the base scan, and directories in `trees` are
  // scanned whole. The root, subtrees and counts equal a full scan's when
  // the dirty set holds every path that changed since the base scan. A base
  // tree that cannot be read is an error (the caller scans in full then).
  const ScanReuse* reuse = nullptr;
  // Optional, not owned (docs/content.md): files whose Policy::Content is
  // kKeep and whose size is within its max_bytes are kept here, from the
  // same bytes that were hashed (read once); a file the stat cache vouches
  // for is re-read when its blob is missing. Xattr sets of watched entries
  // are kept too. Failures to keep are warnings, never errors of the scan.
  ContentStore* content = nullptr;
};

// Receives the progress of the scans of a check or baseline (the CLI draws
// a line on a terminal with it). Update is called from worker threads but
// never concurrently; Start and Done from the calling thread.
class ScanProgressSink {
 public:
  virtual ~ScanProgressSink() = default;
  // A scan starts; `expected` is the entry count of a previous scan of the
  // same tree (0 when unknown), for an estimate of the time left.
  virtual void Start(uint64_t expected) = 0;
  virtual void Update(const ScanProgress& p) = 0;
  virtual void Done() = 0;
};

struct ScanResult {
  Hash128 root;
  // files, dirs and others count the whole resulting tree, in a
  // journal-driven scan too (the base counts adjusted by what was examined);
  // files_hashed and bytes_hashed count what this scan read.
  ScanStats stats;
  std::vector<std::string> warnings;
  // Identity of each top-level watched directory, e.g. {"/etc", ...}.
  std::vector<std::pair<std::string, Hash128>> subtrees;
  int64_t started_ns = 0;
  // Directories listed; in a journal-driven scan the others were reused.
  uint64_t dirs_listed = 0;
};

Result<ScanResult> ScanTree(Host& host, const rules::Policy& policy, const ScanOptions& options,
                            TreeSink& sink);

// Host path of a logical path under a root: ("/srv/r", "/etc") -> "/srv/r/etc".
std::string HostPath(const std::string& root, std::string_view logical);

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_SCANNER_H_
