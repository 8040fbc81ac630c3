#include "agent/restore_plan.h"

#include <gtest/gtest.h>

#include <optional>

namespace driftwatch::agent {
namespace {

using S = RestoreStep;

Entry E(EntryType type, uint32_t mode = 0644) {
  Entry e;
  e.type = type;
  e.mode = mode;
  e.mask =
      kAttrType | kAttrPerm | kAttrUid | kAttrGid | kAttrHash | kAttrSize | kAttrXattrs | kAttrLink;
  return e;
}

Change C(std::optional<Entry> old_entry, std::optional<Entry> new_entry, uint32_t changed = 0) {
  return Change{"/etc/x", std::move(old_entry), std::move(new_entry), changed};
}

TEST(PlanChangeTest, EachKindOfDrift) {
  const Entry file = E(EntryType::kFile), dir = E(EntryType::kDir, 0755);
  const Entry link = E(EntryType::kSymlink, 0777);
  struct Case {
    const char* name;
    Change change;
    bool remove_added;
    std::vector<S> steps;
    std::string refusal;
  };
  const std::vector<Case> cases = {
      {"content", C(file, file, kAttrHash | kAttrSize), false, {S::kWrite}, ""},
      {"content and mode", C(file, file, kAttrHash | kAttrPerm), false, {S::kWrite}, ""},
      {"mode", C(file, file, kAttrPerm), false, {S::kChmod}, ""},
      {"owner", C(file, file, kAttrUid), false, {S::kChown}, ""},
      {"owner, xattrs, mode in order",
       C(file, file, kAttrPerm | kAttrXattrs | kAttrGid),
       false,
       {S::kChown, S::kXattrs, S::kChmod},
       ""},
      {"symlink target", C(link, link, kAttrLink), false, {S::kSymlink}, ""},
      {"symlink owner, no mode", C(link, link, kAttrUid | kAttrPerm), false, {S::kChown}, ""},
      {"removed file", C(file, std::nullopt), false, {S::kCreate}, ""},
      {"removed dir", C(dir, std::nullopt), false, {S::kCreate}, ""},
      {"added, kept", C(std::nullopt, file), false, {}, ""},
      {"added, removed", C(std::nullopt, dir), true, {S::kRemove}, ""},
      {"file became symlink", C(file, link, kAttrType), false, {S::kCreate}, ""},
      {"dir became symlink",
       C(dir, link, kAttrType),
       false,
       {},
       "a symlink stands where the baseline has a dir (--remove-added replaces it)"},
      {"dir became symlink, replaced", C(dir, link, kAttrType), true, {S::kRemove, S::kCreate}, ""},
      {"file became dir",
       C(file, dir, kAttrType),
       false,
       {},
       "a dir stands where the baseline has a file (--remove-added replaces it)"},
      {"mtime only",
       C(file, file, kAttrMtime | kAttrInode),
       false,
       {},
       "mtime, inode cannot be restored"},
      {"fifo",
       C(E(EntryType::kFifo), std::nullopt),
       false,
       {},
       "a fifo is not restored (only files, directories and symlinks are)"},
  };
  for (const Case& c : cases) {
    const RestorePlan plan = PlanChange(c.change, c.remove_added);
    EXPECT_EQ(plan.steps, c.steps) << c.name;
    EXPECT_EQ(plan.refusal, c.refusal) << c.name;
  }
  EXPECT_EQ(PlanChange(C(std::nullopt, file), false).note,
            "not in the baseline: left in place (--remove-added removes it)");
}

TEST(PlanChangeTest, StepNames) {
  EXPECT_EQ(StepName(S::kCreate, EntryType::kDir), "mkdir");
  EXPECT_EQ(StepName(S::kCreate, EntryType::kSymlink), "symlink");
  EXPECT_EQ(StepName(S::kCreate, EntryType::kFile), "create");
  EXPECT_EQ(StepName(S::kWrite, EntryType::kFile), "write");
  EXPECT_EQ(StepName(S::kXattrs, EntryType::kFile), "xattrs");
}

TEST(SelectedByTest, PathsDirectoriesAndGlobs) {
  const std::vector<std::string> sel = {"/etc/app/", "/etc/*.conf", "/srv/a"};
  EXPECT_TRUE(SelectedBy("/etc/app", sel));
  EXPECT_TRUE(SelectedBy("/etc/app/deep/x", sel));
  EXPECT_FALSE(SelectedBy("/etc/apple", sel));
  EXPECT_TRUE(SelectedBy("/etc/nginx.conf", sel));
  EXPECT_FALSE(SelectedBy("/etc/sub/nginx.conf", sel));
  EXPECT_TRUE(SelectedBy("/srv/a", sel));
  EXPECT_FALSE(SelectedBy("/srv/ab", sel));
  EXPECT_TRUE(SelectedBy("/anything", {"/"}));
  EXPECT_FALSE(SelectedBy("/etc/x", {}));
  EXPECT_FALSE(SelectedBy("/etc/x", {"[", ""}));  // a bad glob selects nothing
}

}  // namespace
}  // namespace driftwatch::agent
