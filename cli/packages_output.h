// Text and JSON renderings of `driftwatch packages` and
// `driftwatch packages verify`. Pure functions: the command prints them.
//
// Text verify lines read like dpkg --verify, one per finding:
//   M  /etc/foo.conf  (conffile, package foo 1.2)
//   D  /usr/bin/x  (missing, package bar 1.0)
//   T  /usr/bin/y  (not a regular file: symlink, package baz 2)
// JSON (members in name order, as cpprestsdk writes objects):
//   {"packages":[PackageInfoToJson + "status", ...], "root":...} and
//   {"events":[DriftEventToJson + "conffile", "expected", "manager",
//     "problem", "version" and, for content, "actual"], "root":...,
//    "summary":{...}, "warnings":[...]} (core/drift_json.h, docs/packages.md).
// Every path and string goes through EscapePath (core/drift.h) first.
//
// Thread-safety: pure functions.
#ifndef DRIFTWATCH_CLI_PACKAGES_OUTPUT_H_
#define DRIFTWATCH_CLI_PACKAGES_OUTPUT_H_

#include <string>
#include <string_view>
#include <vector>

#include "packages/package.h"
#include "packages/verify.h"

namespace driftwatch::cli {

using packages::Package;
using packages::PackageDb;
using packages::VerifyReport;

std::string PackagesText(const std::vector<Package>& packages);
std::string PackagesJson(const std::string& root, const std::vector<Package>& packages);

struct VerifySummary {
  uint64_t packages = 0;
  uint64_t paths_checked = 0;
  uint64_t modified = 0;  // content or type
  uint64_t missing = 0;
  uint64_t conffiles = 0;  // modified conffiles (among `modified`)
};
VerifySummary SummarizeVerify(const PackageDb& db, const VerifyReport& report);

std::string VerifyText(const PackageDb& db, const VerifyReport& report);
std::string VerifyJson(const std::string& root, const PackageDb& db, const VerifyReport& report);

}  // namespace driftwatch::cli

#endif  // DRIFTWATCH_CLI_PACKAGES_OUTPUT_H_
