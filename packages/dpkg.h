// dpkg's database: pure parsers for var/lib/dpkg/status, info/<pkg>.md5sums,
// info/<pkg>.list and var/lib/dpkg/diversions, plus a thin reader that turns
// a root's database into a PackageDb (see docs/packages.md).
//
// Parsers take the text and the file name to use in messages (relative to
// the root, e.g. "var/lib/dpkg/status") and fail with kCorruption
// "<source>:<line>: <what>".
//
// Thread-safety: pure functions; ReadDpkgDb only reads through the Host.
#ifndef DRIFTWATCH_PACKAGES_DPKG_H_
#define DRIFTWATCH_PACKAGES_DPKG_H_

#include <string>
#include <string_view>
#include <vector>

#include "core/host.h"
#include "core/status.h"
#include "packages/digest.h"
#include "packages/package.h"

namespace driftwatch::packages {

struct DpkgConffile {
  std::string path;       // absolute
  FileDigest md5;         // empty for "newconffile" (not yet configured)
  bool obsolete = false;  // no longer shipped; left for the administrator
  bool remove_on_upgrade = false;

  friend bool operator==(const DpkgConffile&, const DpkgConffile&) = default;
};

struct DpkgStanza {
  Package package;   // manager "dpkg"; status is the state word of Status:
  std::string want;  // first word of Status: ("install", "hold", ...)
  std::vector<DpkgConffile> conffiles;
  int line = 0;  // line of the stanza's first field

  friend bool operator==(const DpkgStanza&, const DpkgStanza&) = default;
};

// Parses a status file: stanzas separated by blank lines, "Field: value"
// lines (names are case-insensitive), continuation lines starting with a
// space or tab. Every stanza needs Package and a three-word Status.
Result<std::vector<DpkgStanza>> ParseDpkgStatus(std::string_view text, std::string_view source);

struct DpkgFileHash {
  std::string path;  // absolute
  FileDigest md5;
  friend bool operator==(const DpkgFileHash&, const DpkgFileHash&) = default;
};

// "<32 hex digits> <spaces> <path relative to the root>" per line.
Result<std::vector<DpkgFileHash>> ParseDpkgMd5sums(std::string_view text, std::string_view source);

// One absolute path per line; "/." (the root) is left out.
Result<std::vector<std::string>> ParseDpkgList(std::string_view text, std::string_view source);

struct DpkgDiversion {
  std::string from;     // the diverted path
  std::string to;       // where the diverted package's file lives instead
  std::string package;  // the diverting package; ":" for a local diversion
  friend bool operator==(const DpkgDiversion&, const DpkgDiversion&) = default;
};

// Groups of three lines: from, to, diverting package.
Result<std::vector<DpkgDiversion>> ParseDpkgDiversions(std::string_view text,
                                                       std::string_view source);

// Reads var/lib/dpkg under `root` ("/" or a container rootfs). Packages in
// any state but not-installed are returned (with their state in status).
// With `with_files`, the owned files of each package are listed from its
// .list (or, without one, its md5sums and conffiles), diversions applied:
// a file another package (or the administrator) diverted is expected at its
// divert-to path. Obsolete and remove-on-upgrade conffiles are not listed.
// No var/lib/dpkg/status: an empty PackageDb.
Result<PackageDb> ReadDpkgDb(Host& host, const std::string& root, bool with_files);

}  // namespace driftwatch::packages

#endif  // DRIFTWATCH_PACKAGES_DPKG_H_
