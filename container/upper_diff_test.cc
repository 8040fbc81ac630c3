#include "container/upper_diff.h"

#include <sys/sysmacros.h>

#include <gtest/gtest.h>

#include <map>

namespace driftwatch::container {
namespace {

Entry MakeFile(const std::string& content, uint32_t mode = 0644) {
  Entry e;
  e.type = EntryType::kFile;
  e.mode = mode;
  e.size = content.size();
  e.content = Hasher::Of(HashAlgo::kXxh128, content);
  return e;
}
Entry MakeDir(uint32_t mode = 0755) {
  Entry e;
  e.type = EntryType::kDir;
  e.mode = mode;
  e.size = 4096;
  return e;
}
Entry MakeLink(const std::string& target) {
  Entry e;
  e.type = EntryType::kSymlink;
  e.mode = 0777;
  e.link_target = target;
  e.size = target.size();
  return e;
}
Entry MakeCharDev(uint32_t major, uint32_t minor) {
  Entry e;
  e.type = EntryType::kCharDev;
  e.rdev = makedev(major, minor);
  return e;
}

// The image: a map of absolute paths. Records lookups so tests can check
// that unchanged directories are never listed.
class FakeLower : public LowerView {
 public:
  explicit FakeLower(std::map<std::string, Entry> entries) : entries_(std::move(entries)) {
    entries_.emplace("/", MakeDir());
  }
  Result<std::optional<Entry>> Lookup(const std::string& path) override {
    auto it = entries_.find(path);
    if (it == entries_.end()) return std::optional<Entry>();
    Entry e = it->second;
    e.name = path.substr(path.rfind('/') + 1);
    return std::optional<Entry>(e);
  }
  Result<std::vector<std::string>> List(const std::string& path) override {
    listed.push_back(path);
    std::vector<std::string> out;
    auto it = entries_.find(path);
    if (it == entries_.end() || it->second.type != EntryType::kDir) return out;
    std::string prefix = path == "/" ? "/" : path + "/";
    for (const auto& [p, e] : entries_) {
      if (p.size() > prefix.size() && p.compare(0, prefix.size(), prefix) == 0 &&
          p.find('/', prefix.size()) == std::string::npos) {
        out.push_back(p.substr(prefix.size()));
      }
    }
    return out;
  }
  std::vector<std::string> listed;

 private:
  std::map<std::string, Entry> entries_;
};

UpperNode Node(Entry e) { return UpperNode{std::move(e), false, false, false, std::nullopt}; }
UpperNode CharWhiteout() {
  UpperNode n = Node(MakeCharDev(0, 0));
  n.whiteout = IsDeviceWhiteout(n.entry);
  return n;
}
UpperNode XattrWhiteout(const std::string& ns = "trusted") {
  UpperNode n = Node(MakeFile(""));
  OverlayMarkers m = DecodeOverlayXattrs({{ns + ".overlay.whiteout", "y"}});
  n.whiteout = m.whiteout;
  return n;
}
UpperNode OpaqueDir(const std::string& ns = "trusted", const std::string& value = "y") {
  UpperNode n = Node(MakeDir());
  n.opaque = DecodeOverlayXattrs({{ns + ".overlay.opaque", value}}).opaque;
  return n;
}
UpperNode Redirected(const std::string& value) {
  UpperNode n = Node(MakeDir());
  n.redirect = DecodeOverlayXattrs({{"trusted.overlay.redirect", value}}).redirect;
  return n;
}
UpperNode Metacopy(Entry attrs, const std::string& ns = "trusted") {
  attrs.content = Digest();  // a metacopy file holds no data
  UpperNode n = Node(std::move(attrs));
  n.metacopy = DecodeOverlayXattrs({{ns + ".overlay.metacopy", ""}}).metacopy;
  return n;
}

std::map<std::string, Entry> BaseImage() {
  return {
      {"/etc", MakeDir()},
      {"/etc/passwd", MakeFile("root:x:0:0\n")},
      {"/etc/hosts", MakeFile("127.0.0.1 localhost\n")},
      {"/etc/motd", MakeLink("/usr/share/motd")},
      {"/usr", MakeDir()},
      {"/usr/share", MakeDir()},
      {"/usr/share/a", MakeFile("a")},
      {"/usr/share/b", MakeDir()},
      {"/usr/share/b/c", MakeFile("c")},
      {"/opt", MakeDir()},
      {"/opt/app", MakeDir()},
      {"/opt/app/run", MakeFile("#!/bin/sh\n", 0755)},
      {"/opt/app/lib", MakeDir()},
      {"/opt/app/lib/x.so", MakeFile("elf")},
      {"/srv", MakeDir()},
      {"/srv/www", MakeFile("index")},
      {"/data", MakeDir()},
  };
}

// "A /path", "C /path perm,hash", "D /path": the whole outcome in one string list.
std::vector<std::string> Render(const std::vector<DriftEvent>& events) {
  std::vector<std::string> out;
  for (const DriftEvent& e : events) {
    std::string line = std::string(DiffLetter(e.kind)) + " " + e.path;
    if (e.kind == DriftKind::kModified) {
      line += " ";
      bool first = true;
      for (std::string_view n : AttrNames(e.changed)) {
        line += (first ? "" : ",") + std::string(n);
        first = false;
      }
    }
    if (e.new_entry && e.new_entry->type == EntryType::kFile)
      line += " " + e.new_entry->content.Hex();
    out.push_back(line);
  }
  return out;
}

std::string H(const std::string& content) { return Hasher::Of(HashAlgo::kXxh128, content).Hex(); }

struct Case {
  std::string name;
  std::vector<std::pair<std::string, UpperNode>> upper;
  std::vector<std::string> excluded;
  std::vector<std::string> want;
};

TEST(UpperDiffTest, Table) {
  Entry chmodded_passwd = MakeFile("root:x:0:0\n", 0600);
  Entry chowned_hosts = MakeFile("127.0.0.1 localhost\n");
  chowned_hosts.uid = 1000;
  const Case cases[] = {
      {"empty upper", {}, {}, {}},
      {"add file",
       {{"/etc", Node(MakeDir())}, {"/etc/new", Node(MakeFile("hi"))}},
       {},
       {"A /etc/new " + H("hi")}},
      {"modify file",
       {{"/etc", Node(MakeDir())}, {"/etc/passwd", Node(MakeFile("root:x:0:0\nbob:x:1:1\n"))}},
       {},
       {"C /etc/passwd size,hash " + H("root:x:0:0\nbob:x:1:1\n")}},
      {"delete file, char 0/0 whiteout",
       {{"/etc", Node(MakeDir())}, {"/etc/hosts", CharWhiteout()}},
       {},
       {"D /etc/hosts"}},
      {"delete file, xattr whiteout",
       {{"/etc", Node(MakeDir())}, {"/etc/hosts", XattrWhiteout()}},
       {},
       {"D /etc/hosts"}},
      {"delete file, user.overlay whiteout",
       {{"/etc", Node(MakeDir())}, {"/etc/hosts", XattrWhiteout("user")}},
       {},
       {"D /etc/hosts"}},
      {"a real char device is not a whiteout",
       {{"/etc", Node(MakeDir())}, {"/etc/hosts", Node(MakeCharDev(1, 3))}},
       {},
       {"C /etc/hosts type"}},
      {"delete a whole directory",
       {{"/usr", Node(MakeDir())}, {"/usr/share", CharWhiteout()}},
       {},
       {"D /usr/share"}},
      {"chmod via metacopy keeps the lower content",
       {{"/etc", Node(MakeDir())}, {"/etc/passwd", Metacopy(chmodded_passwd)}},
       {},
       {"C /etc/passwd perm " + H("root:x:0:0\n")}},
      {"chown via user.overlay metacopy",
       {{"/etc", Node(MakeDir())}, {"/etc/hosts", Metacopy(chowned_hosts, "user")}},
       {},
       {"C /etc/hosts uid " + H("127.0.0.1 localhost\n")}},
      {"chmod of a directory", {{"/srv", Node(MakeDir(0700))}}, {}, {"C /srv perm"}},
      {"rm -rf of an image dir, then mkdir of the same name (opaque)",
       {{"/usr", Node(MakeDir())},
        {"/usr/share", OpaqueDir()},
        {"/usr/share/new", Node(MakeFile("n"))}},
       {},
       {"D /usr/share/a", "D /usr/share/b", "A /usr/share/new " + H("n")}},
      {"opaque in the user.overlay form",
       {{"/usr", Node(MakeDir())}, {"/usr/share", OpaqueDir("user")}},
       {},
       {"D /usr/share/a", "D /usr/share/b"}},
      {"opaque=x only marks xattr whiteouts",
       {{"/usr", Node(MakeDir())},
        {"/usr/share", OpaqueDir("trusted", "x")},
        {"/usr/share/a", XattrWhiteout()}},
       {},
       {"D /usr/share/a"}},
      {"rename of a directory with an absolute redirect",
       {{"/opt", Node(MakeDir())},
        {"/opt/app", CharWhiteout()},
        {"/opt/app2", Redirected("/opt/app")},
        {"/opt/app2/run", Node(MakeFile("#!/bin/sh\nexit 1\n", 0755))}},
       {},
       {"D /opt/app", "A /opt/app2", "A /opt/app2/lib", "A /opt/app2/lib/x.so " + H("elf"),
        "A /opt/app2/run " + H("#!/bin/sh\nexit 1\n")}},
      {"rename of a directory with a relative redirect and a delete inside",
       {{"/opt", Node(MakeDir())},
        {"/opt/app", CharWhiteout()},
        {"/opt/svc", Redirected("app")},
        {"/opt/svc/lib", CharWhiteout()}},
       {},
       {"D /opt/app", "A /opt/svc", "A /opt/svc/run " + H("#!/bin/sh\n")}},
      {"rename to another parent",
       {{"/opt", Node(MakeDir())},
        {"/opt/app", CharWhiteout()},
        {"/srv", Node(MakeDir())},
        {"/srv/app", Redirected("/opt/app")},
        {"/srv/app/lib", Redirected("/opt/app/lib")}},
       {},
       {"D /opt/app", "A /srv/app", "A /srv/app/lib", "A /srv/app/lib/x.so " + H("elf"),
        "A /srv/app/run " + H("#!/bin/sh\n")}},
      {"file replaced by a directory",
       {{"/etc", Node(MakeDir())},
        {"/etc/hosts", OpaqueDir()},
        {"/etc/hosts/x", Node(MakeFile("x"))}},
       {},
       {"C /etc/hosts type", "A /etc/hosts/x " + H("x")}},
      {"directory replaced by a file",
       {{"/srv", Node(MakeFile("now a file"))}},
       {},
       {"C /srv type " + H("now a file")}},
      {"symlink retargeted and added",
       {{"/etc", Node(MakeDir())},
        {"/etc/motd", Node(MakeLink("/tmp/motd"))},
        {"/etc/new-link", Node(MakeLink("passwd"))}},
       {},
       {"C /etc/motd size,link", "A /etc/new-link"}},
      {"new directory tree",
       {{"/var", Node(MakeDir())},
        {"/var/log", Node(MakeDir())},
        {"/var/log/app.log", Node(MakeFile("l"))}},
       {},
       {"A /var", "A /var/log", "A /var/log/app.log " + H("l")}},
      {"whiteout of a path the image never had",
       {{"/etc", Node(MakeDir())}, {"/etc/ghost", CharWhiteout()}},
       {},
       {}},
      {"writes into a volume are state, not drift",
       {{"/data", Node(MakeDir())},
        {"/data/db", Node(MakeFile("rows"))},
        {"/etc", Node(MakeDir())},
        {"/etc/hosts", CharWhiteout()}},
       {"/data", "/etc/hosts"},
       {}},
      {"a new volume mount point is excluded",
       {{"/vol", Node(MakeDir())}, {"/vol/x", Node(MakeFile("x"))}},
       {"/vol"},
       {}},
  };
  for (const Case& c : cases) {
    FakeLower lower(BaseImage());
    UpperListing upper;
    for (const auto& [path, node] : c.upper) upper.Add(path, node);
    auto got = DiffUpperLayer(upper, lower, c.excluded);
    ASSERT_TRUE(got.ok()) << c.name << ": " << got.status().ToString();
    EXPECT_EQ(Render(*got), c.want) << c.name;
  }
}

TEST(UpperDiffTest, EventsCarryOldAndNewEntries) {
  FakeLower lower(BaseImage());
  UpperListing upper;
  upper.Add("/etc", Node(MakeDir()));
  upper.Add("/etc/passwd", Node(MakeFile("changed")));
  auto got = DiffUpperLayer(upper, lower, {});
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  const DriftEvent& e = (*got)[0];
  ASSERT_TRUE(e.old_entry.has_value());
  ASSERT_TRUE(e.new_entry.has_value());
  EXPECT_EQ(e.old_entry->name, "passwd");
  EXPECT_EQ(e.old_entry->content, Hasher::Of(HashAlgo::kXxh128, "root:x:0:0\n"));
  EXPECT_EQ(e.new_entry->content, Hasher::Of(HashAlgo::kXxh128, "changed"));
  EXPECT_EQ(e.changed, kAttrSize | kAttrHash);
}

TEST(UpperDiffTest, UnchangedDirectoriesAreNeverListed) {
  FakeLower lower(BaseImage());
  UpperListing upper;
  upper.Add("/etc", Node(MakeDir()));
  upper.Add("/etc/new", Node(MakeFile("x")));
  ASSERT_TRUE(DiffUpperLayer(upper, lower, {}).ok());
  for (const std::string& p : lower.listed) {
    EXPECT_TRUE(p == "/" || p == "/etc") << "listed " << p;
  }
}

TEST(UpperDiffTest, RefusesUncleanRedirects) {
  for (const char* value : {"../etc", "/opt/../etc", "//x", "a/b", ""}) {
    FakeLower lower(BaseImage());
    UpperListing upper;
    upper.Add("/opt", Node(MakeDir()));
    upper.Add("/opt/x", Redirected(value));
    auto got = DiffUpperLayer(upper, lower, {});
    ASSERT_FALSE(got.ok()) << value;
    EXPECT_EQ(got.status().code(), StatusCode::kCorruption) << value;
  }
}

TEST(UpperDiffTest, IsUnder) {
  EXPECT_TRUE(IsUnder("/data", {"/data"}));
  EXPECT_TRUE(IsUnder("/data/x", {"/data"}));
  EXPECT_FALSE(IsUnder("/database", {"/data"}));
  EXPECT_FALSE(IsUnder("/etc", {}));
}

}  // namespace
}  // namespace driftwatch::container
