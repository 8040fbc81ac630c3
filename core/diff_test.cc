#include "core/diff.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace driftwatch {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr uint32_t kFileMask = kAttrType | kAttrPerm | kAttrUid | kAttrGid | kAttrSize | kAttrHash;
constexpr uint32_t kDirMask = kAttrType | kAttrPerm | kAttrUid | kAttrGid;

// A MemoryTreeStore that records which trees were read, so a test can see
// which subtrees the diff descended into.
class RecordingSource final : public TreeSource {
 public:
  explicit RecordingSource(MemoryTreeStore& store) : store_(store) {}
  Result<Tree> Get(const Hash128& id) override {
    reads.push_back(id);
    return store_.Get(id);
  }
  std::vector<Hash128> reads;

 private:
  MemoryTreeStore& store_;
};

Entry File(std::string name, std::string_view content, uint32_t mode = 0644) {
  Entry e;
  e.name = std::move(name);
  e.type = EntryType::kFile;
  e.mask = kFileMask;
  e.mode = mode;
  e.size = content.size();
  e.content = Hasher::Of(HashAlgo::kXxh128, content);
  return e;
}

Entry Symlink(std::string name, std::string target) {
  Entry e;
  e.name = std::move(name);
  e.type = EntryType::kSymlink;
  e.mask = kAttrType | kAttrLink;
  e.link_target = std::move(target);
  return e;
}

// Builds content-addressed trees into one store.
class Trees {
 public:
  // Stores a directory's entries (sorted here) and returns its identity.
  Hash128 Put(std::vector<Entry> entries) {
    for (Entry& e : entries) e.ApplyMask();
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.name < b.name; });
    const std::string bytes = SerializeTree(Tree{std::move(entries)});
    const Hash128 id = TreeHash(bytes);
    EXPECT_TRUE(store.Put(id, bytes).ok());
    return id;
  }

  Entry Dir(std::string name, std::vector<Entry> children, uint32_t mode = 0755) {
    Entry e;
    e.name = std::move(name);
    e.type = EntryType::kDir;
    e.mask = kDirMask;
    e.mode = mode;
    e.subtree = Put(std::move(children));
    return e;
  }

  // A directory on the way to watched paths, not watched itself.
  Entry Structural(std::string name, std::vector<Entry> children) {
    Entry e = Dir(std::move(name), std::move(children));
    e.structural = true;
    e.mask = kAttrType;
    return e;
  }

  MemoryTreeStore store;
};

std::string TypeName(const std::optional<Entry>& e) { return std::string(EntryTypeName(e->type)); }

// One line per change: "+ file /a", "- dir /d", "~ /a perm,size",
// "~ /a type file->dir".
std::string Describe(const Change& c) {
  if (!c.old_entry && !c.new_entry) return "? " + c.path;
  if (!c.old_entry) return "+ " + TypeName(c.new_entry) + " " + c.path;
  if (!c.new_entry) return "- " + TypeName(c.old_entry) + " " + c.path;
  std::string attrs;
  for (std::string_view a : AttrNames(c.changed)) {
    attrs += attrs.empty() ? "" : ",";
    attrs += a;
  }
  if (c.changed & kAttrType) {
    attrs += " " + TypeName(c.old_entry) + "->" + TypeName(c.new_entry);
  }
  return "~ " + c.path + " " + attrs;
}

std::vector<std::string> Diff(TreeSource& source, const Hash128& old_root,
                              const Hash128& new_root) {
  std::vector<std::string> out;
  Status s = DiffTrees(source, old_root, source, new_root, [&](Change c) {
    out.push_back(Describe(c));
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.message();
  return out;
}

std::vector<std::string> Diff(Trees& t, const Hash128& old_root, const Hash128& new_root) {
  return Diff(t.store, old_root, new_root);
}

struct Case {
  std::string name;
  std::vector<Entry> old_root;
  std::vector<Entry> new_root;
  std::vector<std::string> want;
};

TEST(LookupEntryTest, FollowsTheTreesOfThePath) {
  Trees t;
  const Hash128 root = t.Put({t.Dir("etc", {File("hosts", "127.0.0.1 localhost\n"),
                                            t.Dir("ssh", {File("sshd_config", "Port 22\n")})}),
                              Symlink("bin", "usr/bin")});
  auto get = [&](std::string_view path) {
    auto e = LookupEntry(t.store, root, path);
    EXPECT_TRUE(e.ok()) << e.status().message();
    return e.ok() && e->has_value() ? (*e)->name : std::string("<none>");
  };
  EXPECT_EQ(get("/etc/ssh/sshd_config"), "sshd_config");
  EXPECT_EQ(get("/etc/hosts"), "hosts");
  EXPECT_EQ(get("/etc"), "etc");
  EXPECT_EQ(get("/bin"), "bin");
  EXPECT_EQ(get("/"), "<none>");
  EXPECT_EQ(get("/etc/nope"), "<none>");
  EXPECT_EQ(get("/etc/hosts/below-a-file"), "<none>");
  EXPECT_EQ(get("/bin/ls"), "<none>");  // never through a symlink
  // A tree the store lacks is an error, not an absent entry.
  EXPECT_FALSE(LookupEntry(t.store, Hash128{1, 2}, "/etc").ok());
}

TEST(DiffTreesTest, Table) {
  Trees t;
  const Entry passwd = File("passwd", "root:x:0:0");
  Entry passwd_owned = passwd;
  passwd_owned.uid = 1000;
  passwd_owned.gid = 1000;
  Entry passwd_mtime = passwd;
  passwd_mtime.mtime_ns = 99;  // outside the mask: not compared
  Entry timed = File("timed", "t");
  timed.mask |= kAttrMtime;
  Entry timed_later = timed;
  timed_later.mtime_ns = 5'000'000'000;
  Entry hashed_later = passwd;
  hashed_later.mask |= kAttrMtime;  // the rule now checks more
  hashed_later.mtime_ns = 7;

  const std::vector<Case> cases = {
      {"empty trees", {}, {}, {}},
      {"identical trees",
       {passwd, t.Dir("d", {File("x", "1")})},
       {passwd, t.Dir("d", {File("x", "1")})},
       {}},
      {"file added to empty", {}, {passwd}, {"+ file /passwd"}},
      {"file removed to empty", {passwd}, {}, {"- file /passwd"}},
      {"content modified", {passwd}, {File("passwd", "root:x:0:0:root")}, {"~ /passwd size,hash"}},
      {"same size, other content", {passwd}, {File("passwd", "root:x:0:1")}, {"~ /passwd hash"}},
      {"mode only", {passwd}, {File("passwd", "root:x:0:0", 0600)}, {"~ /passwd perm"}},
      {"owner only", {passwd}, {passwd_owned}, {"~ /passwd uid,gid"}},
      {"mtime outside the mask", {passwd}, {passwd_mtime}, {}},
      {"mtime in the mask", {timed}, {timed_later}, {"~ /timed mtime"}},
      {"attribute only the new rule checks", {passwd}, {hashed_later}, {}},
      {"directory mode only, children untouched",
       {t.Dir("etc", {passwd}, 0755)},
       {t.Dir("etc", {passwd}, 0700)},
       {"~ /etc perm"}},
      {"file becomes directory",
       {File("conf", "x")},
       {t.Dir("conf", {File("a", "1"), File("b", "2")})},
       {"~ /conf type file->dir", "+ file /conf/a", "+ file /conf/b"}},
      {"directory becomes file",
       {t.Dir("conf", {File("a", "1")})},
       {File("conf", "x")},
       {"~ /conf type dir->file", "- file /conf/a"}},
      {"file becomes symlink",
       {File("link", "x")},
       {Symlink("link", "/etc/x")},
       {"~ /link type file->symlink"}},
      {"symlink retargeted", {Symlink("link", "/a")}, {Symlink("link", "/b")}, {"~ /link link"}},
      {"nested directory added with everything under it",
       {t.Dir("etc", {passwd})},
       {t.Dir("etc", {passwd, t.Dir("app", {t.Dir("conf.d", {File("z", "z")}), File("a", "a")})})},
       {"+ dir /etc/app", "+ file /etc/app/a", "+ dir /etc/app/conf.d",
        "+ file /etc/app/conf.d/z"}},
      {"nested directory removed with everything under it",
       {t.Dir("etc", {passwd, t.Dir("app", {t.Dir("conf.d", {File("z", "z")}), File("a", "a")})})},
       {t.Dir("etc", {passwd})},
       {"- dir /etc/app", "- file /etc/app/a", "- dir /etc/app/conf.d",
        "- file /etc/app/conf.d/z"}},
      {"empty directory added", {}, {t.Dir("empty", {})}, {"+ dir /empty"}},
      {"structural directories are not reported, what is watched below them is",
       {t.Structural("etc", {t.Structural("ssh", {File("sshd_config", "a")})})},
       {t.Structural("etc", {t.Structural("ssh", {File("sshd_config", "b"), File("new", "n")})})},
       {"+ file /etc/ssh/new", "~ /etc/ssh/sshd_config hash"}},
      {"structural directory added: only its watched child",
       {},
       {t.Structural("etc", {passwd})},
       {"+ file /etc/passwd"}},
      {"structural directory removed: only its watched child",
       {t.Structural("etc", {passwd})},
       {},
       {"- file /etc/passwd"}},
      {"watched directory becomes structural: reported as removed",
       {t.Dir("etc", {passwd})},
       {t.Structural("etc", {passwd})},
       {"- dir /etc"}},
      {"structural directory becomes watched: reported as added",
       {t.Structural("etc", {passwd})},
       {t.Dir("etc", {passwd})},
       {"+ dir /etc"}},
      {"names in byte order, 0xff last, upper case first",
       {},
       {File("b", ""), File("\xff", ""), File("B", ""), File("a", "")},
       {"+ file /B", "+ file /a", "+ file /b", "+ file /\xff"}},
      {"odd bytes in names are passed through",
       {File("new\nline", "1"), File(std::string("nul\0in", 6), "1")},
       {File("new\nline", "2"), File(std::string("nul\0in", 6), "2")},
       {"~ /new\nline hash", "~ /" + std::string("nul\0in", 6) + " hash"}},
      {"very long name",
       {},
       {File(std::string(4096, 'n'), "")},
       {"+ file /" + std::string(4096, 'n')}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Hash128 old_root = t.Put(c.old_root);
    const Hash128 new_root = t.Put(c.new_root);
    EXPECT_EQ(Diff(t, old_root, new_root), c.want);
    // The reverse diff reports the same changes the other way round.
    std::vector<std::string> want_reverse;
    for (std::string line : c.want) {
      if (line[0] == '+' || line[0] == '-') line[0] = line[0] == '+' ? '-' : '+';
      const size_t arrow = line.rfind("->");
      if (line.find(" type ") != std::string::npos && arrow != std::string::npos) {
        const size_t from = line.rfind(' ', arrow) + 1;
        line =
            line.substr(0, from) + line.substr(arrow + 2) + "->" + line.substr(from, arrow - from);
      }
      want_reverse.push_back(line);
    }
    EXPECT_EQ(Diff(t, new_root, old_root), want_reverse) << "reversed";
  }
}

TEST(DiffTreesTest, OutputIsDepthFirstInNameOrder) {
  // "a-b" sorts between "a" and "b", yet the children of /a come before it:
  // a directory's changes follow the directory itself.
  Trees t;
  const Hash128 old_root = t.Put({});
  const Hash128 new_root = t.Put({
      t.Dir("a", {File("x", "1"), t.Dir("y", {File("z", "1")})}),
      File("a-b", "1"),
      t.Dir("b", {File("c", "1")}),
      File("c", "1"),
  });
  EXPECT_THAT(Diff(t, old_root, new_root),
              ElementsAre("+ dir /a", "+ file /a/x", "+ dir /a/y", "+ file /a/y/z", "+ file /a-b",
                          "+ dir /b", "+ file /b/c", "+ file /c"));
}

TEST(DiffTreesTest, ModifiedEntriesInterleaveWithTheirDirectories) {
  Trees t;
  const Hash128 old_root = t.Put({
      t.Dir("a", {File("x", "1")}),
      File("a.conf", "1"),
      t.Structural("b", {File("y", "1")}),
  });
  const Hash128 new_root = t.Put({
      t.Dir("a", {File("x", "2")}, 0700),
      File("a.conf", "2"),
      t.Structural("b", {File("y", "2")}),
  });
  EXPECT_THAT(Diff(t, old_root, new_root),
              ElementsAre("~ /a perm", "~ /a/x hash", "~ /a.conf hash", "~ /b/y hash"));
}

TEST(DiffTreesTest, IdenticalRootsReadNothing) {
  Trees t;
  const Hash128 root = t.Put({t.Dir("etc", {File("passwd", "x")})});
  RecordingSource source(t.store);
  EXPECT_THAT(Diff(source, root, root), IsEmpty());
  EXPECT_THAT(source.reads, IsEmpty());
}

TEST(DiffTreesTest, EqualSubtreesAreNotDescended) {
  Trees t;
  const Entry big = t.Dir("usr", {t.Dir("lib", {File("libc.so", "elf")}), File("bin", "x")});
  const Entry old_etc = t.Dir("etc", {File("passwd", "1")});
  const Entry new_etc = t.Dir("etc", {File("passwd", "2")});
  const Hash128 old_root = t.Put({old_etc, big});
  const Hash128 new_root = t.Put({new_etc, big});
  RecordingSource source(t.store);
  EXPECT_THAT(Diff(source, old_root, new_root), ElementsAre("~ /etc/passwd hash"));
  // Only the two roots and the two /etc trees; nothing of /usr.
  EXPECT_THAT(source.reads, ElementsAre(old_root, new_root, old_etc.subtree, new_etc.subtree));
}

TEST(DiffTreesTest, ChangesCarryTheWholeEntries) {
  Trees t;
  Entry old_file = File("shadow", "a", 0640);
  old_file.gid = 42;
  Entry new_file = File("shadow", "b", 0600);
  new_file.gid = 42;
  const Entry gone = Symlink("gone", "/x");
  const Entry added = File("added", "n");
  const Hash128 old_root = t.Put({old_file, gone});
  const Hash128 new_root = t.Put({new_file, added});
  std::vector<Change> changes;
  ASSERT_TRUE(DiffTrees(t.store, old_root, t.store, new_root, [&](Change c) {
                changes.push_back(std::move(c));
                return Status::Ok();
              }).ok());
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].path, "/added");
  EXPECT_EQ(changes[0].old_entry, std::nullopt);
  EXPECT_EQ(changes[0].new_entry, added);
  EXPECT_EQ(changes[0].changed, 0u);
  EXPECT_EQ(changes[1].path, "/gone");
  EXPECT_EQ(changes[1].old_entry, gone);
  EXPECT_EQ(changes[1].new_entry, std::nullopt);
  EXPECT_EQ(changes[1].changed, 0u);
  EXPECT_EQ(changes[2].path, "/shadow");
  EXPECT_EQ(changes[2].old_entry, old_file);
  EXPECT_EQ(changes[2].new_entry, new_file);
  EXPECT_EQ(changes[2].changed, kAttrPerm | kAttrHash);
}

TEST(DiffTreesTest, DeepTreeNeedsNoRecursion) {
  Trees t;
  constexpr int kDepth = 20000;
  Entry leaf = File("f", "x");
  Entry node = t.Dir("d", {leaf});
  for (int i = 1; i < kDepth; ++i) node = t.Dir("d", {node});
  const Hash128 old_root = t.Put({});
  const Hash128 new_root = t.Put({node});
  // Checked as they come: the paths alone would take hundreds of megabytes.
  std::string want = "";
  int count = 0;
  Status s = DiffTrees(t.store, old_root, t.store, new_root, [&](Change c) {
    want += ++count <= kDepth ? "/d" : "/f";
    const std::string_view type = count <= kDepth ? "dir" : "file";
    EXPECT_EQ(c.path, want);
    EXPECT_EQ(Describe(c), "+ " + std::string(type) + " " + want);
    return c.path == want ? Status::Ok() : Status::Internal("out of order");
  });
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(count, kDepth + 1);
}

TEST(DiffTreesTest, MissingTreeIsPassedThrough) {
  Trees t;
  const Hash128 old_root = t.Put({File("passwd", "x")});
  const Hash128 absent = HashBytes("not a stored tree");
  int emitted = 0;
  Status s = DiffTrees(t.store, old_root, t.store, absent, [&](Change) {
    ++emitted;
    return Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "tree " + absent.Hex() + " not found");
  EXPECT_EQ(emitted, 0);
}

TEST(DiffTreesTest, EmitErrorStopsTheWalk) {
  Trees t;
  const Hash128 old_root = t.Put({});
  const Hash128 new_root = t.Put({File("a", ""), File("b", ""), File("c", "")});
  std::vector<std::string> seen;
  Status s = DiffTrees(t.store, old_root, t.store, new_root, [&](Change c) {
    seen.push_back(c.path);
    return c.path == "/b" ? Status::ResourceExhausted("too many") : Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "too many");
  EXPECT_THAT(seen, ElementsAre("/a", "/b"));
}

}  // namespace
}  // namespace driftwatch
