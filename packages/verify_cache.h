// The package verification cache: what each package file hashed to, keyed by
// the file's stat tuple, so that re-verifying an unchanged host reads no
// package file (docs/packages.md, "The verification cache").
//
// A row is (path, dev, inode, size, mtime_ns, ctime_ns, digest). A file whose
// lstat tuple equals its row's is taken to hash to the row's digest; ctime
// cannot be set from user space, so restoring mtime (`touch -d`) cannot hide
// a rewrite, and a file replaced by rename has another inode and ctime. Only
// settled files are written: a file whose mtime or ctime lies within the
// racy window of the moment it was read may still change within one
// timestamp tick without its tuple moving, so it has no row and is read
// again next time (git's "racy" files; the scanner's stat cache does the
// same).
//
// The format (version 1), all integers unsigned LEB128 varints, times
// zig-zag encoded:
//   "DWPKGVC1"                 magic and version
//   varint len, bytes          the root the rows belong to
//   rows, in strictly ascending byte order of path:
//     varint shared            bytes shared with the previous row's path
//     varint len, bytes        the rest of the path
//     varint dev, ino, size; zigzag mtime_ns, ctime_ns
//     byte algo (DigestAlgo), then DigestAlgoSize(algo) digest bytes
//   16 bytes                   XXH3-128 of everything before, big-endian
// The rows end where the checksum starts.
// Anything else (a short file, a bad checksum, rows out of order, an unknown
// algorithm) is kCorruption; another magic is kUnsupported.
//
// Thread-safety: CacheWriter and CacheReader belong to one thread.
#ifndef DRIFTWATCH_PACKAGES_VERIFY_CACHE_H_
#define DRIFTWATCH_PACKAGES_VERIFY_CACHE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/hash.h"
#include "core/host.h"
#include "core/status.h"
#include "packages/digest.h"

namespace driftwatch::packages {

// One cached file. Views are valid until the next call on their owner.
struct CacheRow {
  std::string_view path;
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  DigestAlgo algo = DigestAlgo::kNone;
  std::string_view digest;  // raw, DigestAlgoSize(algo) bytes
};

// Where a streamed blob goes, piece by piece.
using CacheSink = std::function<Status(std::string_view piece)>;

// Builds a cache blob. Rows must come in strictly ascending path order.
class CacheWriter {
 public:
  // `rows_hint`: the rows expected, to size the blob once.
  explicit CacheWriter(std::string_view root, size_t rows_hint = 0);
  // Streams the blob to `sink` in pieces of about 64 KiB instead of
  // holding it (8 MB on a desktop Debian); the checksum is computed as the
  // pieces go. Finish() then returns "" and finish_status() says whether
  // every piece was taken.
  CacheWriter(std::string_view root, CacheSink sink);
  // kInvalidArgument when out of order or the digest does not fit its algo.
  Status Add(const CacheRow& row);
  size_t rows() const { return rows_; }
  // The blob (empty when streaming); the writer is empty afterwards.
  std::string Finish();
  // Streaming: the first error of the sink, if any.
  const Status& sink_status() const { return sink_status_; }

 private:
  void Flush();

  std::string out_;
  std::string last_path_;
  size_t rows_ = 0;
  CacheSink sink_;
  std::unique_ptr<Hasher> hasher_;  // streaming only
  Status sink_status_;
};

// Reads a cache blob row by row. The blob must outlive the reader.
class CacheReader {
 public:
  // Checks magic, version, checksum and root: kUnsupported for another
  // format or version, kCorruption for a damaged blob, kFailedPrecondition
  // when the rows belong to another root.
  static Result<CacheReader> Open(std::string_view blob, std::string_view root);
  // Reads the blob from `fd` (a regular file of `size` bytes) in pieces
  // instead of holding it. Magic, version and root are checked here; the
  // checksum as the rows are read: a mismatch is status() kCorruption once
  // Next() has returned false, so a caller must read to the end and drop
  // every row it took when status() is not ok.
  static Result<CacheReader> OpenFile(Host& host, int fd, uint64_t size, std::string_view root);

  // The next row in path order; false at the end. A row that does not parse
  // ends the reading with status() set to kCorruption.
  bool Next(CacheRow* row);
  const Status& status() const { return status_; }

 private:
  explicit CacheReader(std::string_view rows) : rest_(rows) {}
  // File mode: tops the buffer up so that a whole row is in rest_.
  bool Refill();

  std::string_view rest_;
  std::string path_;
  Status status_;
  bool done_ = false;
  bool checksum_bad_ = false;
  // File mode.
  struct File {
    Host* host = nullptr;
    int fd = -1;
    uint64_t rows_left = 0;  // row bytes not read yet
    std::string buffer;
    std::unique_ptr<Hasher> hasher;
  };
  std::unique_ptr<File> file_;
};

}  // namespace driftwatch::packages

#endif  // DRIFTWATCH_PACKAGES_VERIFY_CACHE_H_
