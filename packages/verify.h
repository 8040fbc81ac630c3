// Package file verification: compares the files package managers installed
// with the checksums they recorded, without a baseline.
//
// Each distinct path is looked at once (lstat through a directory fd resolved
// inside the root, see root_dir.h) and a regular file is read once, its
// content hashed with every algorithm its owners recorded (OpenSSL EVP).
// The final component is opened O_NOFOLLOW; FIFOs, sockets and devices are
// never opened. Work is spread over `jobs` threads.
//
// Findings per owned file:
//   missing      the path does not exist (or a parent is not a directory)
//   content      a regular file whose digest differs
//   type         a digest was recorded but the path is not a regular file
//                (for apk: not a regular file or symlink)
// Files that cannot be read (EACCES, EIO, changed while being read) are
// warnings, not findings.
//
// With a verification cache (verify_cache.h, VerifyOptions), a regular file
// whose lstat tuple equals its cached row's is not opened: its cached digest
// is compared with the expected one. Files owned with several algorithms and
// digests longer than 32 bytes are always read.
//
// Thread-safety: reentrant; the Host must be thread-safe (it is by contract).
#ifndef DRIFTWATCH_PACKAGES_VERIFY_H_
#define DRIFTWATCH_PACKAGES_VERIFY_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/drift.h"
#include "core/entry.h"
#include "core/host.h"
#include "core/status.h"
#include "packages/digest.h"
#include "packages/package.h"
#include "packages/verify_cache.h"

namespace driftwatch::packages {

enum class FileProblem : uint8_t { kMissing = 1, kContent, kType };
std::string_view FileProblemName(FileProblem p);  // "missing", "content", "type"

struct FileFinding {
  size_t file = 0;  // index into the verified file list (database order)
  FileProblem problem = FileProblem::kMissing;
  FileDigest actual;           // kContent: what the file hashes to now
  std::optional<Entry> entry;  // kContent, kType: what is on disk (no content digest)
};

struct VerifyReport {
  std::vector<FileFinding> findings;  // sorted by (path, package)
  std::vector<std::string> warnings;  // sorted
  uint64_t paths_checked = 0;
  uint64_t files_hashed = 0;
  uint64_t bytes_hashed = 0;
  uint64_t files_cached = 0;  // regular files whose digest came from the cache
};

struct VerifyProgress {
  uint64_t paths_done = 0;
  uint64_t paths_total = 0;
  uint64_t files_hashed = 0;
  uint64_t bytes_hashed = 0;
  uint64_t files_cached = 0;
};

struct VerifyOptions {
  int jobs = 0;  // <= 0: one thread per core
  // The verification cache (verify_cache.h), optional. In: the previous
  // run's blob, empty when there is none; a blob that is damaged, of
  // another version or of another root is not used (a warning says why and
  // every file is read). It is released as soon as its rows are loaded.
  // Out: this run's blob, a row for every settled regular file whose digest
  // is known (read now or taken from the cache).
  std::string* cache = nullptr;
  // The same without holding either blob (what `packages verify` uses): the
  // previous run's cache is read in pieces from cache_fd (borrowed; a
  // regular file of cache_size bytes; -1 for none) and this run's is
  // streamed to cache_sink. A cache is kept when `cache` or cache_sink is
  // set; the caller learns of a failed write from its sink.
  int cache_fd = -1;
  uint64_t cache_size = 0;
  CacheSink cache_sink;
  // Ignore the cache's rows and read every file (`--full`); the cache is
  // still written.
  bool full = false;
  // A file whose mtime or ctime is this close to (or after) the moment it
  // was read gets no cache row (racy, see verify_cache.h).
  int64_t racy_window_ns = 2'000'000'000;
  // Called now and then from worker threads, never concurrently; optional.
  std::function<void(const VerifyProgress&)> progress;
};

// Verifies `files` below `root`; FileFinding::file is a file's index in
// `files` (database order). Fails only when root itself cannot be opened.
// A cache that cannot be used adds a warning "verification cache: ..." and
// never fails the verification.
Result<VerifyReport> VerifyOwnedFiles(Host& host, const std::string& root, const FileTable& files,
                                      const VerifyOptions& options);
// The same for a plain list (jobs <= 0 means one thread per core).
Result<VerifyReport> VerifyOwnedFiles(Host& host, const std::string& root,
                                      const std::vector<OwnedFile>& files, int jobs);
Result<VerifyReport> VerifyOwnedFiles(Host& host, const std::string& root,
                                      const std::vector<OwnedFile>& files,
                                      const VerifyOptions& options);

// One package-file-modified event for a finding: path and package from the
// file, rule from the file ("dpkg md5sums", "dpkg conffiles", "dpkg list",
// "apk installed", "rpm filedigests"). Severity: high for a modified
// conffile, medium otherwise (missing files, other files). changed is
// kAttrHash for content, kAttrType for type, 0 for missing; new_entry is
// absent when the file is missing.
DriftEvent FindingToEvent(const OwnedFile& file, const FileFinding& finding);

// Reads every package database under root and verifies the owned files:
// package-file-modified events sorted by (path, package). Warnings are
// appended to *warnings when given.
Result<std::vector<DriftEvent>> VerifyPackageFiles(Host& host, const std::string& root, int jobs,
                                                   std::vector<std::string>* warnings = nullptr);
// The same with options and the verification cache file `cache_path`
// ("" for none; see verify_cache_file.h).
Result<std::vector<DriftEvent>> VerifyPackageFiles(Host& host, const std::string& root,
                                                   const VerifyOptions& options,
                                                   const std::string& cache_path,
                                                   std::vector<std::string>* warnings = nullptr);

}  // namespace driftwatch::packages

#endif  // DRIFTWATCH_PACKAGES_VERIFY_H_
