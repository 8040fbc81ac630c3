// All package managers under one root: the installed package list, the
// owned files of every package, and path -> package ownership.
//
// Thread-safety: functions are reentrant; PathOwners is immutable after
// construction and safe to share between threads.
#ifndef DRIFTWATCH_PACKAGES_INSTALLED_H_
#define DRIFTWATCH_PACKAGES_INSTALLED_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/drift.h"
#include "core/host.h"
#include "core/status.h"
#include "packages/package.h"

namespace driftwatch::packages {

// Reads dpkg, apk and rpm databases under root ("/" or a container rootfs)
// and merges them: packages sorted by (manager, name, architecture), files'
// package_index pointing into that list. With with_files false only the
// package lists are read (cheap). A root without any database yields an
// empty PackageDb; a root that is not a directory is kNotFound; a corrupt
// database is an error naming the file and line.
Result<PackageDb> ReadPackageDb(Host& host, const std::string& root, bool with_files);

// The installed packages under root: ReadPackageDb without files, leaving
// out dpkg packages whose state is "config-files" (removed, configuration
// kept).
Result<std::vector<Package>> ReadInstalledPackages(Host& host, const std::string& root);

// Maps an absolute path to the name of the package that owns it (the first
// owner recorded when several share a directory).
class PathOwners {
 public:
  PathOwners() = default;
  explicit PathOwners(const PackageDb& db);

  static Result<PathOwners> Load(Host& host, const std::string& root);

  std::optional<std::string> OwnerOf(std::string_view path) const;
  size_t size() const { return owners_.size(); }
  // A callable for AttributeUpgrades; borrows *this.
  std::function<std::optional<std::string>(std::string_view)> AsFunction() const;

 private:
  std::unordered_map<std::string, std::string> owners_;
};

// Upgrade attribution: every added, modified or removed file event whose
// path is owned (owner_of) by a package present in both lists with a
// different version gets cause "package-upgrade", package, from_version and
// to_version, and its severity lowered to `lowered` when given and lower.
// owner_of may return "name" or "name:arch". Other events are untouched.
void AttributeUpgrades(
    std::vector<DriftEvent>* events, const std::vector<Package>& before,
    const std::vector<Package>& after,
    const std::function<std::optional<std::string>(std::string_view path)>& owner_of,
    std::optional<Severity> lowered);

}  // namespace driftwatch::packages

#endif  // DRIFTWATCH_PACKAGES_INSTALLED_H_
