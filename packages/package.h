// Installed packages and the files they own: the model shared by the dpkg,
// apk and rpm readers, the snapshot blob and package drift events.
//
// Package events use the path form "pkg:<manager>/<name>:<arch>" (":<arch>"
// left out when the package has no architecture), e.g.
// "pkg:dpkg/libc6:amd64". See docs/packages.md.
//
// Thread-safety: plain values and pure functions.
#ifndef DRIFTWATCH_PACKAGES_PACKAGE_H_
#define DRIFTWATCH_PACKAGES_PACKAGE_H_

#include <string>
#include <string_view>
#include <vector>

#include "core/drift.h"
#include "core/status.h"
#include "packages/digest.h"
#include "packages/file_table.h"

namespace driftwatch::packages {

struct Package {
  std::string manager;  // "dpkg", "apk" or "rpm"
  std::string name;
  std::string version;       // rpm: [epoch:]version-release
  std::string architecture;  // "" when the database records none
  std::string status;  // dpkg: the state word ("installed", "unpacked", ...); else "installed"

  friend bool operator==(const Package&, const Package&) = default;
};

// Orders by (manager, name, architecture): the order of every package list.
bool PackageLess(const Package& a, const Package& b);

// Everything read from the package databases under one root.
struct PackageDb {
  std::vector<Package> packages;  // sorted by PackageLess
  FileTable files;                // in database order
};

// "pkg:dpkg/libc6:amd64".
std::string PackageEventPath(const Package& p);

// A compact, versioned text blob stored with snapshots:
//   "driftwatch-packages 1\n" then one line per package,
//   manager TAB name TAB version TAB architecture TAB status NEWLINE,
// with '\\', TAB and NEWLINE in fields escaped as \\, \t and \n.
// ParsePackages refuses other versions (kUnsupported) and malformed lines
// (kCorruption "packages blob line N: ...").
std::string SerializePackages(const std::vector<Package>& packages);
Result<std::vector<Package>> ParsePackages(std::string_view blob);

// Package drift between two lists (any order). Packages are matched by
// (manager, name, architecture). Emits, sorted by path:
//   package-installed (severity medium, to_version set),
//   package-removed (medium, from_version set),
//   package-changed (low, from_version and to_version set).
// rule is "packages"; package is the name.
std::vector<DriftEvent> DiffPackages(const std::vector<Package>& before,
                                     const std::vector<Package>& after);

}  // namespace driftwatch::packages

#endif  // DRIFTWATCH_PACKAGES_PACKAGE_H_
