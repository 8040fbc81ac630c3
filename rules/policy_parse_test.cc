#include <chrono>
#include <fstream>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "rules/attr_sets.h"
#include "rules/include_path.h"
#include "rules/policy.h"
#include "tests/testing/fifo.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::rules {
namespace {

// A directory of rule files in memory; records every read.
struct FakeFiles {
  std::map<std::string, std::string> files;
  std::vector<std::string> reads;

  ReadFileFn Reader() {
    return [this](const std::string& path) -> Result<std::string> {
      reads.push_back(path);
      auto it = files.find(path);
      if (it == files.end()) return Status::NotFound(path + ": No such file or directory");
      return it->second;
    };
  }
};

Result<Policy> Parse(const std::string& yaml, const std::string& name = "t.yaml") {
  FakeFiles none;
  return ParsePolicy(yaml, name, none.Reader());
}

struct ErrorCase {
  const char* yaml;
  const char* message;
};

TEST(ParsePolicyTest, ErrorMessagesNamePosition) {
  const ErrorCase cases[] = {
      {"", "t.yaml:1:1: empty rule file (expected a map with 'version: 1')"},
      {"# only a comment\n", "t.yaml:1:1: empty rule file (expected a map with 'version: 1')"},
      // yaml-cpp 0.7's LoadAll() never returns on this input.
      {",", "t.yaml:1:1: empty rule file (expected a map with 'version: 1')"},
      {"version: 1\n---\n,\n", "t.yaml:2:1: only one YAML document is allowed per rule file"},
      {"- a\n", "t.yaml:1:1: expected a map at the top level"},
      {"rules: []\n",
       "t.yaml:1:1: missing 'version' (this driftwatch reads rule language version 1)"},
      {"version: one\n", "t.yaml:1:10: 'version' must be an integer"},
      {"version: [1]\n", "t.yaml:1:10: 'version' must be an integer"},
      {"version: 1\nrulez: []\n",
       "t.yaml:2:1: unknown key 'rulez' (expected version, include, sets, rules or "
       "package_upgrades)"},
      {"version: 1\n[a]: b\n", "t.yaml:2:1: keys must be strings"},
      {"version: 1\nrules: []\nrules: []\n", "t.yaml:3:1: duplicate key 'rules'"},
      {"version: 1\n---\nversion: 1\n",
       "t.yaml:2:1: only one YAML document is allowed per rule file"},
      {"version: 1\nrules: {a: b}\n", "t.yaml:2:8: 'rules' must be a list of rules"},
      {"version: 1\nrules:\n  - /etc\n", "t.yaml:3:5: a rule must be a map with a 'path'"},
      {"version: 1\nrules:\n  - check: content\n", "t.yaml:3:5: rule has no 'path'"},
      {"version: 1\nrules:\n  - path: /etc/**\n    chek: content\n",
       "t.yaml:4:5: unknown key 'chek' in rule (expected path, check, ignore, severity, hash, "
       "cross_mounts, content, content_max or peer)"},
      {"version: 1\nrules:\n  - path: /etc\n    path: /usr\n", "t.yaml:4:5: duplicate key 'path'"},
      {"version: 1\nrules:\n  - path: [a]\n", "t.yaml:3:11: 'path' must be a string"},
      {"version: 1\nrules:\n  - path:\n", "t.yaml:3:5: 'path' must be a string"},
      {"version: 1\nrules:\n  - path: /etc\n    check:\n    severity: high\n",
       "t.yaml:4:5: 'check' must be a set name or a list of 1 to 64 attribute names"},
      {"version: 1\nrules:\n  - path: /etc\n    ignore:\n",
       "t.yaml:4:5: 'ignore' must be true or false"},
      {"version:\nrules: []\n", "t.yaml:1:1: 'version' must be an integer"},
      {"version: 1\nrules:\n  - path: /etc/**x\n",
       "t.yaml:3:11: glob '/etc/**x': '**' must be a whole path component"},
      {"version: 1\nrules:\n  - path: etc/*\n",
       "t.yaml:3:11: glob 'etc/*': must be an absolute path (start with '/')"},
      {"version: 1\nrules:\n  - path: '/etc/[a'\n",
       "t.yaml:3:11: glob '/etc/[a': unterminated character class '['"},
      {"version: 1\nrules:\n  - path: /etc//x\n",
       "t.yaml:3:11: glob '/etc//x': empty path component"},
      {"version: 1\nrules:\n  - path: /etc\n    check: [perm, owner]\n",
       "t.yaml:4:19: unknown attribute or set 'owner'"},
      {"version: 1\nrules:\n  - path: /etc\n    check: contents\n",
       "t.yaml:4:12: unknown attribute or set 'contents'"},
      {"version: 1\nrules:\n  - path: /etc\n    check: []\n",
       "t.yaml:4:12: 'check' must be a set name or a list of 1 to 64 attribute names"},
      {"version: 1\nrules:\n  - path: /etc\n    check: {a: b}\n",
       "t.yaml:4:12: 'check' must be a set name or a list of 1 to 64 attribute names"},
      {"version: 1\nrules:\n  - path: /etc\n    check: [[perm]]\n",
       "t.yaml:4:13: 'check' items must be attribute or set names"},
      {"version: 1\nrules:\n  - path: /etc\n    severity: urgent\n",
       "t.yaml:4:15: unknown severity 'urgent' (expected low, medium, high or critical)"},
      {"version: 1\nrules:\n  - path: /etc\n    severity: [high]\n",
       "t.yaml:4:15: 'severity' must be a string"},
      {"version: 1\nrules:\n  - path: /etc\n    hash: md5\n",
       "t.yaml:4:11: unknown hash algorithm 'md5' (expected xxh3-128 or sha256)"},
      {"version: 1\nrules:\n  - path: /etc\n    ignore: yes\n",
       "t.yaml:4:13: 'ignore' must be true or false"},
      {"version: 1\nrules:\n  - path: /etc\n    cross_mounts: 1\n",
       "t.yaml:4:19: 'cross_mounts' must be true or false"},
      {"version: 1\nrules:\n  - path: /tmp/**\n    ignore: true\n    check: content\n",
       "t.yaml:5:5: an ignore rule takes no 'check'"},
      {"version: 1\nrules:\n  - path: /tmp/**\n    severity: low\n    ignore: true\n",
       "t.yaml:4:5: an ignore rule takes no 'severity'"},
      {"version: 1\nsets: [a]\n", "t.yaml:2:7: 'sets' must be a map of set names to lists"},
      {"version: 1\nsets:\n  a: [perm, b]\n  b: [uid, a]\n",
       "t.yaml:4:12: set 'a' includes itself: a -> b -> a"},
      {"version: 1\nsets:\n  a: [a]\n", "t.yaml:3:7: set 'a' includes itself: a -> a"},
      {"version: 1\nsets:\n  a: [perm, nope]\n", "t.yaml:3:13: unknown attribute or set 'nope'"},
      {"version: 1\nsets:\n  hash: [perm]\n", "t.yaml:3:3: set name 'hash' is an attribute name"},
      {"version: 1\nsets:\n  content: [perm]\n", "t.yaml:3:3: set 'content' is built in"},
      {"version: 1\nsets:\n  'a b': [perm]\n",
       "t.yaml:3:3: bad set name 'a b' (letters, digits, '_', '-' and '.', at most 64 bytes)"},
      {"version: 1\nsets:\n  a: [perm]\n  a: [uid]\n", "t.yaml:4:3: duplicate set 'a'"},
      {"version: 1\nsets:\n  a: []\n",
       "t.yaml:3:6: set 'a' must be a name or a list of 1 to 64 names"},
      {"version: 1\nsets:\n  a: [perm, [uid]]\n",
       "t.yaml:3:13: set members must be attribute or set names"},
      {"version: 1\npackage_upgrades: sometimes\n",
       "t.yaml:2:19: unknown severity 'sometimes' (expected low, medium, high or critical)"},
      {"version: 1\npackage_upgrades: [low]\n",
       "t.yaml:2:19: 'package_upgrades' must be a severity"},
      {"version: 1\ninclude: {a: b}\n",
       "t.yaml:2:10: 'include' must be a file name or a list of file names"},
      {"version: 1\ninclude: [missing.yaml]\n",
       "t.yaml:2:11: include 'missing.yaml': missing.yaml: No such file or directory"},
      {"version: 1\ninclude: t.yaml\n", "t.yaml:2:10: include cycle: t.yaml -> t.yaml"},
  };
  for (const ErrorCase& c : cases) {
    Result<Policy> p = Parse(c.yaml);
    ASSERT_FALSE(p.ok()) << c.yaml;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << c.yaml;
    EXPECT_EQ(p.status().message(), c.message) << c.yaml;
  }
}

TEST(ParsePolicyTest, UnknownVersionIsUnsupported) {
  Result<Policy> p = Parse("version: 2\nrules: []\n");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(p.status().message(),
            "t.yaml:1:10: rule language version 2 is not supported (this driftwatch reads "
            "version 1)");
}

TEST(ParsePolicyTest, MalformedYamlNamesPosition) {
  struct Case {
    const char* yaml;
    const char* message;
  };
  const Case cases[] = {
      {"version: 1\nrules: [\n", "t.yaml:3:1: invalid YAML: end of sequence flow not found"},
      {"version: 1\n  bad: indent\n", "t.yaml:2:6: invalid YAML: illegal map value"},
      {"version: 1\nrules: *nope\n",
       "t.yaml:2:8: invalid YAML: the referenced anchor is not defined"},
  };
  for (const Case& c : cases) {
    Result<Policy> p = Parse(c.yaml);
    ASSERT_FALSE(p.ok()) << c.yaml;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(p.status().message(), c.message);
  }
}

TEST(ParsePolicyTest, DeepNestingIsRefused) {
  std::string yaml = "version: 1\nrules: " + std::string(5000, '[') + std::string(5000, ']');
  Result<Policy> p = Parse(yaml);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message().rfind("t.yaml:2:", 0), 0u) << p.status().message();
  EXPECT_NE(p.status().message().find("invalid YAML: "), std::string::npos);
}

TEST(ParsePolicyTest, ParsesEveryField) {
  const char* yaml = R"(version: 1
package_upgrades: low
sets:
  config: [content, mtime]
  owner: [uid, gid]
rules:
  - path: /etc/**
    check: config
    severity: high
  - path: /etc/shadow
    check: [perm, owner, hash]
    severity: critical
    hash: sha256
  - path: /var/log/*.log
    check: log
    severity: low
  - path: /srv/**
    cross_mounts: true
  - path: /tmp/**
    ignore: true
)";
  Result<Policy> p = Parse(yaml, "/etc/driftwatch/host.yaml");
  ASSERT_TRUE(p.ok()) << p.status().message();
  const uint32_t content = *BuiltinSet("content");
  std::vector<Rule> want(5);
  want[0] = {"/etc/**",       content | kAttrMtime, false,
             Severity::kHigh, HashAlgo::kXxh128,    false,
             "host.yaml:7",   std::nullopt,         kDefaultContentMaxBytes,
             false,           std::nullopt};
  want[1] = {"/etc/shadow",
             kAttrType | kAttrPerm | kAttrUid | kAttrGid | kAttrHash,
             false,
             Severity::kCritical,
             HashAlgo::kSha256,
             false,
             "host.yaml:10",
             std::nullopt,
             kDefaultContentMaxBytes,
             false,
             std::nullopt};
  want[2] = {"/var/log/*.log",
             *BuiltinSet("log"),
             false,
             Severity::kLow,
             HashAlgo::kXxh128,
             false,
             "host.yaml:14",
             std::nullopt,
             kDefaultContentMaxBytes,
             false,
             std::nullopt};
  want[3] = {"/srv/**",   content,        false,        Severity::kMedium,       HashAlgo::kXxh128,
             true,        "host.yaml:17", std::nullopt, kDefaultContentMaxBytes, false,
             std::nullopt};
  want[4] = {"/tmp/**",   kAttrType,      true,         Severity::kMedium,       HashAlgo::kXxh128,
             false,       "host.yaml:19", std::nullopt, kDefaultContentMaxBytes, false,
             std::nullopt};
  ASSERT_EQ(p->rules().size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const Rule& got = p->rules()[i];
    EXPECT_EQ(got.glob, want[i].glob) << i;
    EXPECT_EQ(AttrNames(got.mask), AttrNames(want[i].mask)) << i;
    EXPECT_EQ(got.ignore, want[i].ignore) << i;
    EXPECT_EQ(got.severity, want[i].severity) << i;
    EXPECT_EQ(got.hash, want[i].hash) << i;
    EXPECT_EQ(got.cross_mounts, want[i].cross_mounts) << i;
    EXPECT_EQ(got.origin, want[i].origin) << i;
  }
  EXPECT_EQ(p->rules()[0].Describe(), "/etc/** (host.yaml:7)");
  EXPECT_EQ(p->package_upgrades(), Severity::kLow);
  EXPECT_EQ(p->files(), std::vector<std::string>{"/etc/driftwatch/host.yaml"});
}

TEST(ParsePolicyTest, BuiltinSets) {
  std::vector<std::pair<std::string, std::vector<std::string_view>>> got;
  for (const AttrSet& s : BuiltinSets()) got.emplace_back(s.name, AttrNames(s.mask));
  const std::vector<std::pair<std::string, std::vector<std::string_view>>> want = {
      {"presence", {"type"}},
      {"permissions", {"type", "perm", "uid", "gid", "link", "xattrs"}},
      {"content", {"type", "perm", "uid", "gid", "size", "rdev", "link", "hash", "xattrs"}},
      {"log", {"type", "perm", "uid", "gid", "link", "xattrs", "growing"}},
      {"full",
       {"type", "perm", "uid", "gid", "size", "mtime", "ctime", "inode", "nlink", "rdev", "link",
        "hash", "xattrs"}},
  };
  EXPECT_EQ(got, want);
}

TEST(ParsePolicyTest, SetsReferToEachOtherInAnyOrder) {
  Result<Policy> p = Parse(R"(version: 1
sets:
  strict: [loose, mtime, ctime]
  loose: [perm, base]
  base: presence
rules:
  - path: /a
    check: strict
  - path: /b
    check: [loose]
  - path: /c
    check: mtime
)");
  ASSERT_TRUE(p.ok()) << p.status().message();
  ASSERT_EQ(p->rules().size(), 3u);
  EXPECT_EQ(p->rules()[0].mask, kAttrType | kAttrPerm | kAttrMtime | kAttrCtime);
  EXPECT_EQ(p->rules()[1].mask, kAttrType | kAttrPerm);
  EXPECT_EQ(p->rules()[2].mask, kAttrType | kAttrMtime);
}

TEST(ParsePolicyTest, EmptySectionsAreAllowed) {
  Result<Policy> p = Parse("version: 1\ninclude:\nsets:\nrules:\n");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_TRUE(p->rules().empty());
  EXPECT_EQ(p->package_upgrades(), std::nullopt);
}

TEST(ParsePolicyTest, IncludesLoadFirstRelativeToTheIncludingFile) {
  FakeFiles fs;
  fs.files["/etc/dw/base/common.yaml"] = R"(version: 1
sets:
  strict: [content, mtime]
rules:
  - path: /etc/**
    check: strict
    severity: high
package_upgrades: medium
)";
  fs.files["/etc/dw/base/web.yaml"] = R"(version: 1
include: common.yaml
rules:
  - path: /srv/www/**
    check: strict
)";
  fs.files["/etc/dw/local.yaml"] = R"(version: 1
include: ./base/../base/common.yaml
rules:
  - path: /etc/**
    check: permissions
)";
  const char* top = R"(version: 1
include:
  - base/web.yaml
  - local.yaml
  - /etc/dw/base/common.yaml
rules:
  - path: /etc/hosts
    check: strict
package_upgrades: low
)";
  Result<Policy> p = ParsePolicy(top, "/etc/dw/rules.yaml", fs.Reader());
  ASSERT_TRUE(p.ok()) << p.status().message();
  // Each file is read once, even when several files include it.
  EXPECT_EQ(fs.reads, (std::vector<std::string>{"/etc/dw/base/web.yaml", "/etc/dw/base/common.yaml",
                                                "/etc/dw/local.yaml"}));
  EXPECT_EQ(p->files(),
            (std::vector<std::string>{"/etc/dw/rules.yaml", "/etc/dw/base/web.yaml",
                                      "/etc/dw/base/common.yaml", "/etc/dw/local.yaml"}));
  std::vector<std::string> described;
  for (const Rule& r : p->rules()) described.push_back(r.Describe());
  EXPECT_EQ(described,
            (std::vector<std::string>{"/etc/** (common.yaml:5)", "/srv/www/** (web.yaml:4)",
                                      "/etc/** (local.yaml:4)", "/etc/hosts (rules.yaml:7)"}));
  // The includer's own rule wins a tie with an included one.
  EXPECT_EQ(p->Match("/etc/passwd")->Describe(), "/etc/** (local.yaml:4)");
  EXPECT_EQ(p->package_upgrades(), Severity::kLow);
}

TEST(ParsePolicyTest, IncludeErrorsNameTheIncludedFile) {
  FakeFiles fs;
  fs.files["d/a.yaml"] = "version: 1\ninclude: b.yaml\n";
  fs.files["d/b.yaml"] = "version: 1\ninclude: [c.yaml]\n";
  fs.files["d/c.yaml"] = "version: 1\ninclude: [a.yaml]\n";
  fs.files["d/bad.yaml"] = "version: 1\nrules:\n  - path: /x\n    check: nope\n";
  fs.files["d/v2.yaml"] = "version: 2\n";
  fs.files["d/broken.yaml"] = "version: 1\nrules: [\n";
  struct Case {
    const char* top;
    const char* message;
  };
  const Case cases[] = {
      {"version: 1\ninclude: a.yaml\n",
       "d/c.yaml:2:11: include cycle: d/a.yaml -> d/b.yaml -> d/c.yaml -> d/a.yaml"},
      {"version: 1\ninclude: bad.yaml\n", "d/bad.yaml:4:12: unknown attribute or set 'nope'"},
      {"version: 1\ninclude: v2.yaml\n",
       "d/v2.yaml:1:10: rule language version 2 is not supported (this driftwatch reads version "
       "1)"},
      {"version: 1\ninclude: broken.yaml\n",
       "d/broken.yaml:3:1: invalid YAML: end of sequence flow not found"},
      {"version: 1\ninclude: [gone.yaml]\n",
       "d/top.yaml:2:11: include 'gone.yaml': d/gone.yaml: No such file or directory"},
  };
  for (const Case& c : cases) {
    Result<Policy> p = ParsePolicy(c.top, "d/top.yaml", fs.Reader());
    ASSERT_FALSE(p.ok()) << c.top;
    EXPECT_EQ(p.status().message(), c.message);
  }
}

TEST(ParsePolicyTest, IncludeDepthIsCapped) {
  FakeFiles fs;
  for (int i = 0; i < 12; ++i) {
    fs.files["f" + std::to_string(i) + ".yaml"] =
        "version: 1\ninclude: f" + std::to_string(i + 1) + ".yaml\n";
  }
  fs.files["f12.yaml"] = "version: 1\n";
  Result<Policy> deep = ParsePolicy(fs.files["f0.yaml"], "f0.yaml", fs.Reader());
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.status().message(), "f8.yaml:2:10: includes nested deeper than 8 levels");
  Result<Policy> ok = ParsePolicy(fs.files["f4.yaml"], "f4.yaml", fs.Reader());
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->files().size(), 9u);
}

TEST(ParsePolicyTest, SetsFromIncludedFilesAreVisibleAndNotRedefined) {
  FakeFiles fs;
  fs.files["sets.yaml"] = "version: 1\nsets:\n  strict: [content, mtime]\n";
  Result<Policy> p =
      ParsePolicy("version: 1\ninclude: sets.yaml\nrules:\n  - path: /etc/**\n    check: strict\n",
                  "top.yaml", fs.Reader());
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->rules()[0].mask, *BuiltinSet("content") | kAttrMtime);
  Result<Policy> dup = ParsePolicy("version: 1\ninclude: sets.yaml\nsets:\n  strict: [perm]\n",
                                   "top.yaml", fs.Reader());
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().message(), "top.yaml:4:3: set 'strict' is already defined at sets.yaml:3");
}

TEST(ParsePolicyTest, RuleCountIsCapped) {
  std::string yaml = "version: 1\nrules:\n";
  for (size_t i = 0; i <= kMaxRules; ++i) yaml += "  - path: /r" + std::to_string(i) + "\n";
  Result<Policy> p = Parse(yaml);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), "t.yaml:10003:5: more than 10000 rules");
}

TEST(ParsePolicyTest, FingerprintFollowsEffectiveRules) {
  const std::string base = "version: 1\nrules:\n  - path: /etc/**\n    severity: high\n";
  Result<Policy> a = Parse(base);
  ASSERT_TRUE(a.ok());
  // Same rules on other lines and in another file: same fingerprint.
  Result<Policy> moved = Parse("# header\n\n" + base, "other.yaml");
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(a->Fingerprint(), moved->Fingerprint());
  const std::vector<std::string> variants = {
      "version: 1\nrules:\n  - path: /etc/**\n    severity: critical\n",
      "version: 1\nrules:\n  - path: /etc/**\n    severity: high\n    check: permissions\n",
      "version: 1\nrules:\n  - path: /etc/**\n    severity: high\n    hash: sha256\n",
      "version: 1\nrules:\n  - path: /etc/**\n    severity: high\n    cross_mounts: true\n",
      "version: 1\nrules:\n  - path: /etc/*\n    severity: high\n",
      "version: 1\nrules:\n  - path: /etc/**\n    severity: high\n  - path: /etc/mtab\n    "
      "ignore: true\n",
      base + "package_upgrades: low\n",
  };
  std::vector<Hash128> seen = {a->Fingerprint()};
  for (const std::string& v : variants) {
    Result<Policy> p = Parse(v);
    ASSERT_TRUE(p.ok()) << v << p.status().message();
    for (const Hash128& h : seen) EXPECT_NE(p->Fingerprint(), h) << v;
    seen.push_back(p->Fingerprint());
  }
}

TEST(IncludePathTest, ResolvesAgainstTheIncludingFile) {
  const std::vector<std::tuple<const char*, const char*, const char*>> cases = {
      {"/etc/dw/rules.yaml", "base.yaml", "/etc/dw/base.yaml"},
      {"/etc/dw/rules.yaml", "./a/../b/c.yaml", "/etc/dw/b/c.yaml"},
      {"/etc/dw/rules.yaml", "../../../x.yaml", "/x.yaml"},
      {"/etc/dw/rules.yaml", "/usr/share/dw//host.yaml", "/usr/share/dw/host.yaml"},
      {"rules.yaml", "base.yaml", "base.yaml"},
      {"conf/rules.yaml", "../base.yaml", "base.yaml"},
      {"rules.yaml", "../base.yaml", "../base.yaml"},
  };
  for (const auto& [including, include, want] : cases) {
    EXPECT_EQ(ResolveInclude(including, include), want) << including << " + " << include;
  }
  EXPECT_EQ(NormalizePath(""), ".");
  EXPECT_EQ(NormalizePath("/"), "/");
}

TEST(LoadPolicyFileTest, MissingFileIsTheHostError) {
  Result<Policy> p = LoadPolicyFile(DefaultHost(), "/nonexistent/driftwatch/rules.yaml");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kNotFound);
  EXPECT_NE(p.status().message().find("/nonexistent/driftwatch/rules.yaml"), std::string::npos);
}

// A FIFO or a device given as a rule file or an include is refused at once,
// naming the file; nothing waits for a writer that never comes.
TEST(LoadPolicyFileTest, SpecialFilesAreRefusedWithoutBlocking) {
  testutil::TempDir dir;
  const std::string fifo = dir / "rules.yaml";
  ASSERT_TRUE(testutil::MakeFifo(fifo));
  Result<Policy> p = Status::Internal("not run");
  EXPECT_TRUE(testutil::ReturnsWithin(fifo, std::chrono::seconds(5), [&] {
    p = LoadPolicyFile(DefaultHost(), fifo);
  })) << "LoadPolicyFile blocked on a FIFO";
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(p.status().message(), fifo + ": not a regular file (a FIFO)");

  const std::string pipe = dir / "pipe.yaml";
  ASSERT_TRUE(testutil::MakeFifo(pipe));
  const std::string top = dir / "top.yaml";
  std::ofstream(top) << "version: 1\ninclude: pipe.yaml\n";
  p = Status::Internal("not run");
  EXPECT_TRUE(testutil::ReturnsWithin(pipe, std::chrono::seconds(5), [&] {
    p = LoadPolicyFile(DefaultHost(), top);
  })) << "LoadPolicyFile blocked on an included FIFO";
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(p.status().message(),
            top + ":2:10: include 'pipe.yaml': " + pipe + ": not a regular file (a FIFO)");

  p = LoadPolicyFile(DefaultHost(), "/dev/zero");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(p.status().message(), "/dev/zero: not a regular file (a character device)");
  p = LoadPolicyFile(DefaultHost(), dir.path());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), dir.path() + ": not a regular file (a directory)");
}

}  // namespace
}  // namespace driftwatch::rules
