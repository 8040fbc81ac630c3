// rpm's database: the header blob format and rpmdb.sqlite.
//
// rpm >= 4.16 keeps var/lib/rpm/rpmdb.sqlite; its Packages table holds one
// header blob per package: a big-endian int32 count of index entries (il),
// the data length (dl), il entries of {tag, type, offset, count} (int32
// each), then dl bytes of data. ParseRpmHeader reads NAME, EPOCH, VERSION,
// RELEASE, ARCH, the file names (DIRNAMES[DIRINDEXES[i]] + BASENAMES[i], or
// OLDFILENAMES), FILEDIGESTS, FILEDIGESTALGO and FILEFLAGS, bounds-checking
// every offset. Berkeley DB (var/lib/rpm/Packages) and ndb databases are
// refused with kUnsupported.
//
// Thread-safety: ParseRpmHeader is pure; ReadRpmDb opens its own SQLite
// connection (read-only) per call.
#ifndef DRIFTWATCH_PACKAGES_RPM_H_
#define DRIFTWATCH_PACKAGES_RPM_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/host.h"
#include "core/status.h"
#include "packages/digest.h"
#include "packages/package.h"

namespace driftwatch::packages {

// rpm tag numbers used here (rpmtag.h).
enum RpmTag : uint32_t {
  kRpmTagName = 1000,
  kRpmTagVersion = 1001,
  kRpmTagRelease = 1002,
  kRpmTagEpoch = 1003,
  kRpmTagArch = 1022,
  kRpmTagOldFilenames = 1027,
  kRpmTagFileDigests = 1035,
  kRpmTagFileFlags = 1037,
  kRpmTagDirIndexes = 1116,
  kRpmTagBasenames = 1117,
  kRpmTagDirnames = 1118,
  kRpmTagFileDigestAlgo = 5011,
};

// rpm data types.
enum RpmType : uint32_t {
  kRpmTypeInt32 = 4,
  kRpmTypeString = 6,
  kRpmTypeBin = 7,
  kRpmTypeStringArray = 8,
  kRpmTypeI18nString = 9,
};

constexpr uint32_t kRpmFileConfig = 1u << 0;
constexpr uint32_t kRpmFileGhost = 1u << 6;

struct RpmFile {
  std::string path;
  FileDigest digest;  // empty for directories, symlinks and ghosts
  uint32_t flags = 0;
  friend bool operator==(const RpmFile&, const RpmFile&) = default;
};

struct RpmHeader {
  Package package;  // manager "rpm", status "installed"
  std::vector<RpmFile> files;
};

// Parses one header blob as stored in rpmdb.sqlite (no lead, no magic).
// Fails with kCorruption "<what>" (callers add which package).
Result<RpmHeader> ParseRpmHeader(std::string_view blob);

// Reads root/var/lib/rpm/rpmdb.sqlite (or root/usr/lib/sysimage/rpm). No
// database: an empty PackageDb. Ghost files are not listed.
Result<PackageDb> ReadRpmDb(Host& host, const std::string& root, bool with_files);

}  // namespace driftwatch::packages

#endif  // DRIFTWATCH_PACKAGES_RPM_H_
