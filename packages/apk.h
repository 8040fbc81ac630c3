// apk's database (lib/apk/db/installed): a pure parser and a thin reader.
//
// The format: stanzas separated by blank lines of "X:value" lines, where
// P is the name, V the version, A the architecture, F a directory (relative
// to the root), R a file in the last F, and Z the checksum of the last R:
// "Q1" + base64(SHA-1) or "Q2" + base64(SHA-256). For symlinks Z is the
// digest of the link target. Other fields are ignored.
//
// Errors are kCorruption "lib/apk/db/installed:<line>: <what>".
//
// Thread-safety: pure functions; ReadApkDb only reads through the Host.
#ifndef DRIFTWATCH_PACKAGES_APK_H_
#define DRIFTWATCH_PACKAGES_APK_H_

#include <string>
#include <string_view>

#include "core/host.h"
#include "core/status.h"
#include "packages/digest.h"
#include "packages/package.h"

namespace driftwatch::packages {

// Parses an apk checksum: "Q1<base64 sha1>", "Q2<base64 sha256>" or 32/40
// hex digits (md5/sha1, old databases).
Result<FileDigest> ParseApkChecksum(std::string_view text);

// Parses the installed database into packages (sorted by PackageLess) and
// their files. `source` names the file in messages.
Result<PackageDb> ParseApkInstalled(std::string_view text, std::string_view source);

// Reads root/lib/apk/db/installed; none there: an empty PackageDb.
Result<PackageDb> ReadApkDb(Host& host, const std::string& root);

}  // namespace driftwatch::packages

#endif  // DRIFTWATCH_PACKAGES_APK_H_
