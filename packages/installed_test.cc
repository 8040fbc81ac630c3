#include "packages/installed.h"

#include <gtest/gtest.h>

#include "packages/test_util.h"

namespace driftwatch::packages {
namespace {

using testing::TempRoot;

void BuildMixedRoot(const TempRoot& root) {
  root.Write("var/lib/dpkg/status",
             "Package: zsh\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.9\n\n"
             "Package: old\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1\n"
             "Conffiles:\n /etc/old.conf 00112233445566778899aabbccddeeff\n");
  root.Write("var/lib/dpkg/info/zsh.list", "/.\n/bin\n/bin/zsh\n");
  root.Write("lib/apk/db/installed", "P:musl\nV:1.2.4-r2\nA:x86_64\nF:lib\nR:libc.so\n\n");
}

TEST(InstalledTest, MergesManagersSorted) {
  TempRoot root;
  BuildMixedRoot(root);
  auto db = ReadPackageDb(DefaultHost(), root.path(), true);
  ASSERT_TRUE(db.ok()) << db.status().message();
  std::vector<Package> want = {{"apk", "musl", "1.2.4-r2", "x86_64", "installed"},
                               {"dpkg", "old", "1", "amd64", "config-files"},
                               {"dpkg", "zsh", "5.9", "amd64", "installed"}};
  EXPECT_EQ(db->packages, want);
  std::vector<std::pair<std::string, size_t>> files;
  for (const OwnedFile& f : db->files) files.emplace_back(f.path, f.package_index);
  EXPECT_EQ(files, (std::vector<std::pair<std::string, size_t>>{
                       {"/lib/libc.so", 0}, {"/etc/old.conf", 1}, {"/bin", 2}, {"/bin/zsh", 2}}));

  auto installed = ReadInstalledPackages(DefaultHost(), root.path());
  ASSERT_TRUE(installed.ok());
  EXPECT_EQ(*installed, (std::vector<Package>{want[0], want[2]}));

  auto owners = PathOwners::Load(DefaultHost(), root.path());
  ASSERT_TRUE(owners.ok());
  EXPECT_EQ(owners->size(), 4u);
  EXPECT_EQ(owners->OwnerOf("/bin/zsh"), "zsh");
  EXPECT_EQ(owners->OwnerOf("/lib/libc.so"), "musl");
  EXPECT_EQ(owners->OwnerOf("/bin/bash"), std::nullopt);
}

TEST(InstalledTest, EmptyRoot) {
  TempRoot root;
  auto installed = ReadInstalledPackages(DefaultHost(), root.path());
  ASSERT_TRUE(installed.ok()) << installed.status().message();
  EXPECT_TRUE(installed->empty());
}

DriftEvent FileEvent(std::string path, DriftKind kind, Severity sev) {
  DriftEvent e;
  e.path = std::move(path);
  e.kind = kind;
  e.severity = sev;
  e.rule = "/usr/** (host.yaml:3)";
  return e;
}

TEST(AttributeUpgradesTest, AttributesOwnedFilesOfUpgradedPackages) {
  std::vector<Package> before = {{"dpkg", "bash", "5.1", "amd64", "installed"},
                                 {"dpkg", "vim", "9.0", "amd64", "installed"},
                                 {"dpkg", "libc6", "2.36-8", "i386", "installed"}};
  std::vector<Package> after = {{"dpkg", "bash", "5.2", "amd64", "installed"},
                                {"dpkg", "vim", "9.0", "amd64", "installed"},
                                {"dpkg", "libc6", "2.36-9", "i386", "installed"}};
  std::vector<DriftEvent> events = {
      FileEvent("/usr/bin/bash", DriftKind::kModified, Severity::kHigh),
      FileEvent("/usr/share/bash/new", DriftKind::kAdded, Severity::kMedium),
      FileEvent("/usr/share/bash/old", DriftKind::kRemoved, Severity::kLow),
      FileEvent("/usr/bin/vim", DriftKind::kModified, Severity::kHigh),
      FileEvent("/usr/bin/unowned", DriftKind::kModified, Severity::kHigh),
      FileEvent("/usr/lib/i386/libc.so.6", DriftKind::kModified, Severity::kCritical),
      FileEvent("pkg:dpkg/bash:amd64", DriftKind::kPackageChanged, Severity::kLow),
  };
  auto owner = [](std::string_view path) -> std::optional<std::string> {
    if (path.starts_with("/usr/bin/bash") || path.starts_with("/usr/share/bash/")) return "bash";
    if (path == "/usr/bin/vim") return "vim";
    if (path == "/usr/lib/i386/libc.so.6") return "libc6:i386";
    if (path == "pkg:dpkg/bash:amd64") return "bash";
    return std::nullopt;
  };
  AttributeUpgrades(&events, before, after, owner, Severity::kLow);

  auto describe = [](const DriftEvent& e) {
    return e.path + " " + std::string(SeverityName(e.severity)) + " cause=" + e.cause +
           " package=" + e.package + " " + e.from_version + "->" + e.to_version;
  };
  std::vector<std::string> got;
  for (const DriftEvent& e : events) got.push_back(describe(e));
  EXPECT_EQ(got, (std::vector<std::string>{
                     "/usr/bin/bash low cause=package-upgrade package=bash 5.1->5.2",
                     "/usr/share/bash/new low cause=package-upgrade package=bash 5.1->5.2",
                     "/usr/share/bash/old low cause=package-upgrade package=bash 5.1->5.2",
                     "/usr/bin/vim high cause= package= ->",
                     "/usr/bin/unowned high cause= package= ->",
                     "/usr/lib/i386/libc.so.6 low cause=package-upgrade package=libc6 "
                     "2.36-8->2.36-9",
                     "pkg:dpkg/bash:amd64 low cause= package= ->",
                 }));
}

TEST(AttributeUpgradesTest, KeepsSeverityWithoutLowered) {
  std::vector<Package> before = {{"apk", "musl", "1.2.3", "x86_64", "installed"}};
  std::vector<Package> after = {{"apk", "musl", "1.2.4", "x86_64", "installed"}};
  std::vector<DriftEvent> events = {
      FileEvent("/lib/libc.so", DriftKind::kModified, Severity::kHigh)};
  AttributeUpgrades(
      &events, before, after, [](std::string_view) { return std::optional<std::string>("musl"); },
      std::nullopt);
  EXPECT_EQ(events[0].severity, Severity::kHigh);
  EXPECT_EQ(events[0].cause, "package-upgrade");
  EXPECT_EQ(events[0].package, "musl");
  EXPECT_EQ(events[0].from_version, "1.2.3");
  EXPECT_EQ(events[0].to_version, "1.2.4");
  EXPECT_EQ(events[0].rule, "/usr/** (host.yaml:3)");
}

}  // namespace
}  // namespace driftwatch::packages
