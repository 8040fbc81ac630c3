// The verification cache as a file: where `packages verify` and `check
// --verify-packages` keep it, and a verification that reads the old file in
// pieces and replaces it atomically with the new one (neither blob is held
// whole: 8 MB each on a desktop Debian).
//
// Thread-safety: reentrant; through the Host.
#ifndef DRIFTWATCH_PACKAGES_VERIFY_CACHE_FILE_H_
#define DRIFTWATCH_PACKAGES_VERIFY_CACHE_FILE_H_

#include <string>

#include "core/host.h"
#include "core/status.h"
#include "packages/file_table.h"
#include "packages/verify.h"

namespace driftwatch::packages {

// A cache file larger than this is not read (about 60 bytes a file are
// expected: a whole distribution stays far below).
constexpr uint64_t kMaxCacheFileBytes = 256 << 20;

// The default cache of `root`: for the host itself ("/"),
// packages-verify.cache in the directory of the agent store `db_path`;
// other roots (a container's rootfs) have none ("") : they come and go.
std::string DefaultVerifyCachePath(const std::string& root, const std::string& db_path);

// VerifyOwnedFiles with the cache in the file `cache_path` (options.cache
// and the fd/sink fields are set here). A missing file is no cache; one that
// cannot be read or saved adds a warning "verification cache not read: ..."
// or "... not saved: ..." and never fails the verification. The new cache
// is written beside the file and renamed over it, creating its directory.
Result<VerifyReport> VerifyWithCacheFile(Host& host, const std::string& root,
                                         const FileTable& files, VerifyOptions options,
                                         const std::string& cache_path);

}  // namespace driftwatch::packages

#endif  // DRIFTWATCH_PACKAGES_VERIFY_CACHE_FILE_H_
