#include "packages/package.h"

#include <gtest/gtest.h>

namespace driftwatch::packages {
namespace {

Package Dpkg(std::string name, std::string version, std::string arch = "amd64") {
  return {"dpkg", std::move(name), std::move(version), std::move(arch), "installed"};
}

TEST(PackageTest, EventPath) {
  EXPECT_EQ(PackageEventPath(Dpkg("libc6", "2.36-9")), "pkg:dpkg/libc6:amd64");
  EXPECT_EQ(PackageEventPath({"rpm", "gpg-pubkey", "1-2", "", "installed"}), "pkg:rpm/gpg-pubkey");
}

TEST(PackageTest, SerializeRoundTrip) {
  std::vector<Package> list = {
      Dpkg("bash", "5.2.15-2+b2"),
      {"apk", "musl", "1.2.4-r2", "x86_64", "installed"},
      {"dpkg", "we\tird\\na\nme", "1", "", "config-files"},
  };
  std::string blob = SerializePackages(list);
  EXPECT_EQ(blob,
            "driftwatch-packages 1\n"
            "dpkg\tbash\t5.2.15-2+b2\tamd64\tinstalled\n"
            "apk\tmusl\t1.2.4-r2\tx86_64\tinstalled\n"
            "dpkg\twe\\tird\\\\na\\nme\t1\t\tconfig-files\n");
  auto parsed = ParsePackages(blob);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(*parsed, list);
  auto empty = ParsePackages(SerializePackages({}));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(PackageTest, ParseRejects) {
  struct Case {
    std::string_view blob;
    StatusCode code;
    std::string_view message;
  };
  const Case kCases[] = {
      {"", StatusCode::kCorruption, "packages blob: missing 'driftwatch-packages' header"},
      {"driftwatch-packages 2\n", StatusCode::kUnsupported,
       "packages blob: unsupported version '2' (this build reads version 1)"},
      {"driftwatch-packages 1\ndpkg\tbash\t1\tamd64\n", StatusCode::kCorruption,
       "packages blob line 2: expected 5 fields, got 4"},
      {"driftwatch-packages 1\ndpkg\tbash\t1\tamd64\tinstalled", StatusCode::kCorruption,
       "packages blob line 2: missing newline"},
      {"driftwatch-packages 1\ndpkg\tb\\q\t1\tamd64\tinstalled\n", StatusCode::kCorruption,
       "packages blob line 2: unknown escape '\\q'"},
  };
  for (const Case& c : kCases) {
    auto r = ParsePackages(c.blob);
    ASSERT_FALSE(r.ok()) << c.blob;
    EXPECT_EQ(r.status().code(), c.code) << c.blob;
    EXPECT_EQ(r.status().message(), c.message) << c.blob;
  }
}

TEST(PackageTest, DiffPackages) {
  std::vector<Package> before = {Dpkg("bash", "5.1"), Dpkg("curl", "7.88"), Dpkg("vim", "9.0"),
                                 Dpkg("libc6", "2.36", "i386")};
  std::vector<Package> after = {Dpkg("vim", "9.0"), Dpkg("bash", "5.2"), Dpkg("jq", "1.6"),
                                Dpkg("libc6", "2.36", "amd64")};
  std::vector<DriftEvent> events = DiffPackages(before, after);
  ASSERT_EQ(events.size(), 5u);
  auto expect = [&](size_t i, std::string path, DriftKind kind, Severity sev, std::string pkg,
                    std::string from, std::string to) {
    SCOPED_TRACE(i);
    EXPECT_EQ(events[i].path, path);
    EXPECT_EQ(events[i].kind, kind);
    EXPECT_EQ(events[i].severity, sev);
    EXPECT_EQ(events[i].package, pkg);
    EXPECT_EQ(events[i].from_version, from);
    EXPECT_EQ(events[i].to_version, to);
    EXPECT_EQ(events[i].rule, "packages");
    EXPECT_EQ(events[i].cause, "");
    EXPECT_FALSE(events[i].old_entry.has_value());
    EXPECT_FALSE(events[i].new_entry.has_value());
  };
  expect(0, "pkg:dpkg/bash:amd64", DriftKind::kPackageChanged, Severity::kLow, "bash", "5.1",
         "5.2");
  expect(1, "pkg:dpkg/curl:amd64", DriftKind::kPackageRemoved, Severity::kMedium, "curl", "7.88",
         "");
  expect(2, "pkg:dpkg/jq:amd64", DriftKind::kPackageInstalled, Severity::kMedium, "jq", "", "1.6");
  expect(3, "pkg:dpkg/libc6:amd64", DriftKind::kPackageInstalled, Severity::kMedium, "libc6", "",
         "2.36");
  expect(4, "pkg:dpkg/libc6:i386", DriftKind::kPackageRemoved, Severity::kMedium, "libc6", "2.36",
         "");
  EXPECT_TRUE(DiffPackages(before, before).empty());
}

}  // namespace
}  // namespace driftwatch::packages
