#include "packages/installed.h"

#include <fcntl.h>

#include <algorithm>
#include <map>

#include "packages/apk.h"
#include "packages/dpkg.h"
#include "packages/rpm.h"

namespace driftwatch::packages {
namespace {

// Appends `part` (already sorted) to `db`, keeping indices valid. Managers
// are appended in name order (apk, dpkg, rpm), so the result stays sorted.
// The file lists are the bulk of a package database (about 170,000 files on a
// desktop Debian): their chunks are moved over, never copied.
void Append(PackageDb* db, PackageDb part) {
  size_t offset = db->packages.size();
  for (Package& p : part.packages) db->packages.push_back(std::move(p));
  db->files.Append(std::move(part.files), offset);
}

}  // namespace

Result<PackageDb> ReadPackageDb(Host& host, const std::string& root, bool with_files) {
  // A mistyped --root is an error, not an empty package list.
  DW_ASSIGN_OR_RETURN(UniqueFd root_fd, host.OpenAt(AT_FDCWD, root, O_PATH | O_DIRECTORY));
  PackageDb db;
  DW_ASSIGN_OR_RETURN(PackageDb apk, ReadApkDb(host, root));
  if (!with_files) apk.files = FileTable();
  Append(&db, std::move(apk));
  DW_ASSIGN_OR_RETURN(PackageDb dpkg, ReadDpkgDb(host, root, with_files));
  Append(&db, std::move(dpkg));
  DW_ASSIGN_OR_RETURN(PackageDb rpm, ReadRpmDb(host, root, with_files));
  Append(&db, std::move(rpm));
  return db;
}

Result<std::vector<Package>> ReadInstalledPackages(Host& host, const std::string& root) {
  DW_ASSIGN_OR_RETURN(PackageDb db, ReadPackageDb(host, root, /*with_files=*/false));
  std::vector<Package> out;
  out.reserve(db.packages.size());
  for (Package& p : db.packages) {
    if (p.manager == "dpkg" && p.status == "config-files") continue;
    out.push_back(std::move(p));
  }
  return out;
}

PathOwners::PathOwners(const PackageDb& db) {
  owners_.reserve(db.files.size());
  for (const OwnedFile& f : db.files) owners_.emplace(f.path, f.package);
}

Result<PathOwners> PathOwners::Load(Host& host, const std::string& root) {
  DW_ASSIGN_OR_RETURN(PackageDb db, ReadPackageDb(host, root, /*with_files=*/true));
  return PathOwners(db);
}

std::optional<std::string> PathOwners::OwnerOf(std::string_view path) const {
  auto it = owners_.find(std::string(path));
  if (it == owners_.end()) return std::nullopt;
  return it->second;
}

std::function<std::optional<std::string>(std::string_view)> PathOwners::AsFunction() const {
  return [this](std::string_view path) { return OwnerOf(path); };
}

void AttributeUpgrades(
    std::vector<DriftEvent>* events, const std::vector<Package>& before,
    const std::vector<Package>& after,
    const std::function<std::optional<std::string>(std::string_view path)>& owner_of,
    std::optional<Severity> lowered) {
  // Packages whose version changed, by "name" and by "name:arch". A name
  // that maps to several changed packages (multiarch) keeps the first.
  struct Change {
    std::string name, from, to;
  };
  std::map<std::string, const Package*> old_by_key;
  for (const Package& p : before) {
    old_by_key.emplace(p.manager + "\n" + p.name + "\n" + p.architecture, &p);
  }
  std::map<std::string, Change> changed;
  for (const Package& p : after) {
    auto it = old_by_key.find(p.manager + "\n" + p.name + "\n" + p.architecture);
    if (it == old_by_key.end() || it->second->version == p.version) continue;
    Change c{p.name, it->second->version, p.version};
    changed.emplace(p.name, c);
    if (!p.architecture.empty()) changed.emplace(p.name + ":" + p.architecture, c);
  }
  if (changed.empty()) return;
  for (DriftEvent& e : *events) {
    if (e.kind != DriftKind::kAdded && e.kind != DriftKind::kModified &&
        e.kind != DriftKind::kRemoved) {
      continue;
    }
    std::optional<std::string> owner = owner_of(e.path);
    if (!owner) continue;
    auto it = changed.find(*owner);
    if (it == changed.end()) continue;
    e.cause = "package-upgrade";
    e.package = it->second.name;
    e.from_version = it->second.from;
    e.to_version = it->second.to;
    if (lowered && *lowered < e.severity) e.severity = *lowered;
  }
}

}  // namespace driftwatch::packages
