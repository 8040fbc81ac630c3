#include "agent/accept.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "agent/scanner.h"
#include "core/diff.h"
#include "rules/glob.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::agent {
namespace {

using driftwatch::testutil::TempDir;
using driftwatch::testutil::WriteFile;

rules::Policy Policy() {
  auto p = rules::ParsePolicy(
      "version: 1\nrules:\n  - path: /**\n    check: [type, perm, size, hash, link]\n", "t.yaml",
      [](const std::string&) -> Result<std::string> { return Status::NotFound("none"); });
  EXPECT_TRUE(p.ok()) << p.status().message();
  return std::move(p).value();
}

Hash128 ScanInto(const std::string& root, MemoryTreeStore& store) {
  static rules::Policy policy = Policy();
  ScanOptions o;
  o.root = root;
  auto r = ScanTree(DefaultHost(), policy, o, store);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? r->root : Hash128();
}

void Populate(const std::string& root) {
  WriteFile(root + "/etc/keep/a", "a");
  WriteFile(root + "/etc/take/b", "b");
  WriteFile(root + "/etc/take/gone", "g");
  WriteFile(root + "/etc/other", "o");
  std::filesystem::create_directories(root + "/etc/olddir/sub");
  WriteFile(root + "/etc/olddir/sub/f", "f");
}

// Applies the same changes to a tree; `take_only` limits them to /etc/take.
void Mutate(const std::string& root, bool take_only) {
  WriteFile(root + "/etc/take/b", "B!");
  WriteFile(root + "/etc/take/new", "n");
  std::filesystem::remove(root + "/etc/take/gone");
  std::filesystem::create_directories(root + "/etc/take/newdir/x");
  WriteFile(root + "/etc/take/newdir/x/y", "y");
  std::filesystem::permissions(root + "/etc/take", std::filesystem::perms::owner_all);
  if (take_only) return;
  WriteFile(root + "/etc/other", "changed");
  std::filesystem::remove_all(root + "/etc/olddir");
}

TEST(AcceptTest, AcceptingOneSubtreeEqualsApplyingOnlyThoseChanges) {
  TempDir base_dir, current_dir, expected_dir;
  for (const TempDir* d : {&base_dir, &current_dir, &expected_dir}) Populate(d->path());
  Mutate(current_dir.path(), false);
  Mutate(expected_dir.path(), true);

  MemoryTreeStore store;
  Hash128 base = ScanInto(base_dir.path(), store);
  Hash128 current = ScanInto(current_dir.path(), store);
  Hash128 expected = ScanInto(expected_dir.path(), store);
  ASSERT_NE(base, current);

  auto glob = rules::Glob::Compile("/etc/take/**");
  ASSERT_TRUE(glob.ok());
  std::map<std::string, Edit> edits;
  ASSERT_TRUE(DiffTrees(store, base, store, current, [&](Change c) {
                if (glob->Matches(c.path)) edits.emplace(c.path, EditFor(c));
                return Status::Ok();
              }).ok());
  auto merged = ApplyEdits(store, store, base, edits);
  ASSERT_TRUE(merged.ok()) << merged.status().message();
  EXPECT_EQ(*merged, expected);

  // Accepting everything gives the current tree; accepting nothing the base.
  std::map<std::string, Edit> all;
  ASSERT_TRUE(DiffTrees(store, base, store, current, [&](Change c) {
                all.emplace(c.path, EditFor(c));
                return Status::Ok();
              }).ok());
  EXPECT_EQ(ApplyEdits(store, store, base, all).value(), current);
  EXPECT_EQ(ApplyEdits(store, store, base, {}).value(), base);
}

TEST(AcceptTest, ChangeBelowAnUnacceptedNewDirectoryIsRefused) {
  TempDir base_dir, current_dir;
  Populate(base_dir.path());
  Populate(current_dir.path());
  WriteFile(current_dir / "etc/fresh/file", "x");
  MemoryTreeStore store;
  Hash128 base = ScanInto(base_dir.path(), store);
  Hash128 current = ScanInto(current_dir.path(), store);
  std::map<std::string, Edit> edits;
  ASSERT_TRUE(DiffTrees(store, base, store, current, [&](Change c) {
                if (c.path == "/etc/fresh/file") edits.emplace(c.path, EditFor(c));
                return Status::Ok();
              }).ok());
  ASSERT_EQ(edits.size(), 1u);
  auto merged = ApplyEdits(store, store, base, edits);
  ASSERT_FALSE(merged.ok());
  EXPECT_EQ(merged.status().message(),
            "cannot accept a change below /etc/fresh without accepting /etc/fresh itself");
}

}  // namespace
}  // namespace driftwatch::agent
