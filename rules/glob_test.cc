#include "rules/glob.h"

#include <fnmatch.h>

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace driftwatch::rules {
namespace {

Glob MustCompile(std::string_view p) {
  Result<Glob> g = Glob::Compile(p);
  EXPECT_TRUE(g.ok()) << p << ": " << g.status().message();
  return std::move(g).value();
}

struct MatchCase {
  const char* pattern;
  const char* path;
  bool want;
};

TEST(GlobTest, MatchTable) {
  const MatchCase cases[] = {
      {"/", "/", true},
      {"/", "/etc", false},
      {"/**", "/", true},
      {"/**", "/etc/ssh/sshd_config", true},
      {"/etc", "/etc", true},
      {"/etc", "/etc/passwd", false},
      {"/etc", "/et", false},
      {"/etc/**", "/etc", true},
      {"/etc/**", "/etc/a/b/c", true},
      {"/etc/**", "/etcx", false},
      {"/etc/**", "/", false},
      {"/etc/*", "/etc/passwd", true},
      {"/etc/*", "/etc/.pwd.lock", true},
      {"/etc/*", "/etc/ssh/sshd_config", false},
      {"/etc/*", "/etc", false},
      {"/etc/*.conf", "/etc/resolv.conf", true},
      {"/etc/*.conf", "/etc/resolv.conf.bak", false},
      {"/etc/*.conf", "/etc/.conf", true},
      {"/etc/**/*.conf", "/etc/x.conf", true},
      {"/etc/**/*.conf", "/etc/a/b/x.conf", true},
      {"/etc/**/*.conf", "/etc/a/b/x.conf/y", false},
      {"/etc/**/*.conf", "/etc/a.conf/b.conf", true},
      {"/**/__pycache__/**", "/usr/lib/python3/__pycache__/x.pyc", true},
      {"/**/__pycache__/**", "/__pycache__", true},
      {"/**/__pycache__/**", "/usr/lib/python3/x.pyc", false},
      {"/a/**/b/**/c", "/a/b/c", true},
      {"/a/**/b/**/c", "/a/x/b/y/z/c", true},
      {"/a/**/b/**/c", "/a/x/b/y/z/c/d", false},
      {"/a/**/b/**/c", "/a/c", false},
      {"/a/**/**/b", "/a/b", true},
      {"/a/*/b", "/a/x/b", true},
      {"/a/*/b", "/a/b", false},
      {"/a/*/b", "/a/x/y/b", false},
      {"/log/?.log", "/log/a.log", true},
      {"/log/?.log", "/log/ab.log", false},
      {"/log/?.log", "/log/.log", false},
      {"/d/[a-c]x", "/d/bx", true},
      {"/d/[a-c]x", "/d/dx", false},
      {"/d/[!a-c]x", "/d/dx", true},
      {"/d/[!a-c]x", "/d/ax", false},
      {"/d/[^a-c]x", "/d/dx", true},
      {"/d/[]]", "/d/]", true},
      {"/d/[!]]", "/d/]", false},
      {"/d/[!]]", "/d/a", true},
      {"/d/[a-]", "/d/-", true},
      {"/d/[\\]]", "/d/]", true},
      {"/d/\\*", "/d/*", true},
      {"/d/\\*", "/d/x", false},
      {"/d/\\?\\[", "/d/?[", true},
      {"/d/a*b*c", "/d/aXbYc", true},
      {"/d/a*b*c", "/d/abbbcbc", true},
      {"/d/a*b*c", "/d/abcx", false},
      {"/d/*a*a*a*b", "/d/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
      {"/d/sudoers*", "/d/sudoers", true},
      {"/d/sudoers*", "/d/sudoers.d", true},
      {"/etc/**", "etc/passwd", false},
      {"/etc/**", "", false},
  };
  for (const MatchCase& c : cases) {
    Glob g = MustCompile(c.pattern);
    EXPECT_EQ(g.Matches(c.path), c.want) << c.pattern << " vs " << c.path;
  }
}

TEST(GlobTest, NonUtf8BytesMatch) {
  Glob g = MustCompile("/d/?x*");
  EXPECT_TRUE(
      g.Matches(std::string("/d/\xff"
                            "x\xfe\x01",
                            7)));
  Glob cls = MustCompile("/d/[\x80-\xff]");
  EXPECT_TRUE(cls.Matches("/d/\xc3"));
  EXPECT_FALSE(cls.Matches("/d/a"));
}

struct ErrorCase {
  const char* pattern;
  const char* message;
};

TEST(GlobTest, CompileErrors) {
  const ErrorCase cases[] = {
      {"", "glob '': must be an absolute path (start with '/')"},
      {"etc/*", "glob 'etc/*': must be an absolute path (start with '/')"},
      {"/etc//x", "glob '/etc//x': empty path component"},
      {"/etc/", "glob '/etc/': empty path component"},
      {"/etc/**x", "glob '/etc/**x': '**' must be a whole path component"},
      {"/etc/x**", "glob '/etc/x**': '**' must be a whole path component"},
      {"/etc/***", "glob '/etc/***': '**' must be a whole path component"},
      {"/etc/[a-z", "glob '/etc/[a-z': unterminated character class '['"},
      {"/etc/[]", "glob '/etc/[]': unterminated character class '['"},
      {"/etc/[!", "glob '/etc/[!': unterminated character class '['"},
      {"/etc/[z-a]", "glob '/etc/[z-a]': reversed range 'z-a' in character class"},
      {"/etc/x\\", "glob '/etc/x\\': trailing '\\'"},
      {"/etc/../x", "glob '/etc/../x': '.' and '..' components are not allowed"},
      {"/etc/./x", "glob '/etc/./x': '.' and '..' components are not allowed"},
  };
  for (const ErrorCase& c : cases) {
    Result<Glob> g = Glob::Compile(c.pattern);
    ASSERT_FALSE(g.ok()) << c.pattern;
    EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(g.status().message(), c.message);
  }
  Result<Glob> nul = Glob::Compile(std::string_view("/etc/a\0b", 8));
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.status().message(), std::string("glob '/etc/a\0b': contains a NUL byte", 36));
  std::string deep;
  for (size_t i = 0; i <= kMaxGlobComponents; ++i) deep += "/a";
  EXPECT_FALSE(Glob::Compile(deep).ok());
  EXPECT_FALSE(Glob::Compile("/" + std::string(kMaxGlobBytes, 'a')).ok());
}

TEST(GlobTest, LiteralPrefixAndSpecificity) {
  struct Case {
    const char* pattern;
    const char* prefix;
    bool literal;
    uint32_t comps, bytes, stars;
  };
  const Case cases[] = {
      {"/", "/", true, 0, 0, 0},
      {"/**", "/", false, 0, 0, 1},
      {"/etc/**/*.conf", "/etc", false, 1, 8, 1},
      {"/etc/ssh/**", "/etc/ssh", false, 2, 6, 1},
      {"/etc/shadow", "/etc/shadow", true, 2, 9, 0},
      {"/etc/sudoers*", "/etc", false, 1, 10, 0},
      {"/a\\*b/c*", "/a*b", false, 1, 4, 0},
      {"/[ab]/c", "/", false, 0, 1, 0},
  };
  for (const Case& c : cases) {
    Glob g = MustCompile(c.pattern);
    EXPECT_EQ(g.literal_prefix(), c.prefix) << c.pattern;
    EXPECT_EQ(g.is_literal(), c.literal) << c.pattern;
    EXPECT_EQ(g.literal_components(), c.comps) << c.pattern;
    EXPECT_EQ(g.literal_bytes(), c.bytes) << c.pattern;
    EXPECT_EQ(g.double_stars(), c.stars) << c.pattern;
    EXPECT_EQ(g.pattern(), c.pattern);
  }
  // An escaped literal pattern matches its unescaped path.
  EXPECT_TRUE(MustCompile("/a\\*b").Matches("/a*b"));
}

TEST(GlobTest, BelowQueries) {
  struct Case {
    const char* pattern;
    const char* dir;
    bool could, all;
  };
  const Case cases[] = {
      {"/etc/**", "/", true, false},
      {"/etc/**", "/etc", true, true},
      {"/etc/**", "/etc/ssh", true, true},
      {"/etc/**", "/usr", false, false},
      {"/etc/shadow", "/etc", true, false},
      {"/etc/shadow", "/etc/shadow", false, false},
      {"/etc/shadow", "/usr", false, false},
      {"/etc/*.conf", "/etc", true, false},
      {"/etc/*.conf", "/etc/ssh", false, false},
      {"/etc/**/*.conf", "/etc/ssh", true, false},
      {"/**", "/", true, true},
      {"/**", "/x/y", true, true},
      {"/**/*.pyc", "/usr", true, false},
      {"/var/cache/**", "/var", true, false},
      {"/home/*/.cache/**", "/home/bob/.cache", true, true},
      {"/home/*/.cache/**", "/home/bob", true, false},
      {"/home/*/.cache/**", "/home/bob/src", false, false},
      {"/home/*/.cache/**", "/root", false, false},
      {"/a/**/b", "/a/x/y", true, false},
      {"/a/**/**", "/a/x", true, true},
  };
  for (const Case& c : cases) {
    Glob g = MustCompile(c.pattern);
    EXPECT_EQ(g.CouldMatchBelow(c.dir), c.could) << c.pattern << " below " << c.dir;
    EXPECT_EQ(g.MatchesAllBelow(c.dir), c.all) << c.pattern << " all below " << c.dir;
  }
}

// Reference matcher: recursion over components, fnmatch() per component.
bool ReferenceMatch(const std::vector<std::string>& pat, size_t pi,
                    const std::vector<std::string>& comps, size_t ci) {
  if (pi == pat.size()) return ci == comps.size();
  if (pat[pi] == "**") {
    for (size_t k = ci; k <= comps.size(); ++k) {
      if (ReferenceMatch(pat, pi + 1, comps, k)) return true;
    }
    return false;
  }
  if (ci == comps.size()) return false;
  if (fnmatch(pat[pi].c_str(), comps[ci].c_str(), 0) != 0) return false;
  return ReferenceMatch(pat, pi + 1, comps, ci + 1);
}

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= path.size() && path.size() > 1) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Checks the non-recursive matcher and the below queries against brute force
// on random patterns and paths over a small alphabet.
TEST(GlobTest, AgreesWithReferenceOnRandomInputs) {
  std::mt19937 rng(12345);
  const std::vector<std::string> pattern_comps = {"a", "b",    "ab",   "*",  "a*",  "*b",
                                                  "?", "[ab]", "[!a]", "**", "a?b", "*a*"};
  const std::vector<std::string> path_comps = {"a", "b", "ab", "ba", "aab", "c", "abb"};
  int checked = 0;
  for (int round = 0; round < 3000; ++round) {
    std::vector<std::string> pat;
    const int np = 1 + static_cast<int>(rng() % 5);
    std::string pattern;
    for (int i = 0; i < np; ++i) {
      pat.push_back(pattern_comps[rng() % pattern_comps.size()]);
      pattern += "/" + pat.back();
    }
    Glob g = MustCompile(pattern);
    for (int k = 0; k < 20; ++k) {
      const int nc = static_cast<int>(rng() % 6);
      std::string path;
      for (int i = 0; i < nc; ++i) path += "/" + path_comps[rng() % path_comps.size()];
      if (path.empty()) path = "/";
      const std::vector<std::string> comps = Split(path);
      const bool want = ReferenceMatch(pat, 0, comps, 0);
      ASSERT_EQ(g.Matches(path), want) << pattern << " vs " << path;
      // Below queries by brute force over children up to two levels down.
      bool could = false, all = true;
      for (const std::string& c1 : path_comps) {
        std::vector<std::string> one = comps;
        one.push_back(c1);
        bool m1 = ReferenceMatch(pat, 0, one, 0);
        could = could || m1;
        all = all && m1;
        for (const std::string& c2 : path_comps) {
          std::vector<std::string> two = one;
          two.push_back(c2);
          bool m2 = ReferenceMatch(pat, 0, two, 0);
          could = could || m2;
          all = all && m2;
        }
      }
      // Brute force over a finite alphabet can miss deeper or longer names,
      // so only the implications that must hold are checked.
      if (could) {
        ASSERT_TRUE(g.CouldMatchBelow(path)) << pattern << " below " << path;
      }
      if (g.MatchesAllBelow(path)) {
        ASSERT_TRUE(all) << pattern << " all below " << path;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 60000);
}

}  // namespace
}  // namespace driftwatch::rules
