#include "rules/policy.h"

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"

namespace driftwatch::rules {
namespace {

// 54 rules, one per line: rule N sits on line N + 2.
constexpr const char* kPolicy = R"(version: 1
rules:
  - {path: /**, check: presence, severity: low}
  - {path: /etc/**, severity: high}
  - {path: /etc/*.conf, check: full, severity: high}
  - {path: /etc/shadow, severity: critical}
  - {path: /etc/gshadow, severity: critical}
  - {path: /etc/sudoers, severity: critical}
  - {path: /etc/sudoers.d/**, severity: critical}
  - {path: /etc/ssh/**, severity: critical}
  - {path: /etc/ssh/*_key.pub, severity: medium}
  - {path: /etc/ssh/moduli, ignore: true}
  - {path: /etc/mtab, ignore: true}
  - {path: /etc/ld.so.cache, ignore: true}
  - {path: /etc/adjtime, ignore: true}
  - {path: /etc/**/*.dpkg-*, ignore: true}
  - {path: /etc/**/*~, ignore: true}
  - {path: /etc/cron.*/**, severity: high}
  - {path: /etc/systemd/**, severity: high}
  - {path: /etc/systemd/system/*.wants/**, check: permissions}
  - {path: /var/**, ignore: true}
  - {path: /var/log/**, ignore: true}
  - {path: /var/log/*.log, check: log, severity: low}
  - {path: /var/log/auth.log, check: log, severity: high}
  - {path: /var/log/journal/**, ignore: true}
  - {path: /var/spool/cron/**, severity: high}
  - {path: /var/lib/dpkg/status}
  - {path: /usr/**}
  - {path: /usr/bin/**, severity: high}
  - {path: /usr/sbin/**, severity: high}
  - {path: /usr/lib/**}
  - {path: /usr/lib/**/*.pyc, ignore: true}
  - {path: /usr/lib/**/__pycache__/**, ignore: true}
  - {path: /usr/lib/python3/dist-packages/**, severity: low}
  - {path: /usr/local/**, severity: high}
  - {path: /usr/share/**, ignore: true}
  - {path: /usr/share/ca-certificates/**, severity: high}
  - {path: /boot/**, severity: high}
  - {path: /boot/grub/grubenv, ignore: true}
  - {path: /root/**, ignore: true}
  - {path: /root/.ssh/**, severity: critical}
  - {path: /root/.ssh, severity: critical}
  - {path: /home/*/.ssh/authorized_keys, severity: critical}
  - {path: /home/*/.ssh/**, severity: high}
  - {path: /home/**, ignore: true}
  - {path: /home/*/.bashrc, severity: low}
  - {path: /tmp/**, ignore: true}
  - {path: /proc/**, ignore: true}
  - {path: /sys/**, ignore: true}
  - {path: /dev/**, ignore: true}
  - {path: /run/**, ignore: true}
  - {path: '/opt/app/[a-c]*/config.yaml', severity: high}
  - {path: /opt/app/*/config.yaml}
  - {path: /opt/**/config.yaml, severity: low}
  - {path: /srv/**}
  - {path: /srv/**, check: full}
)";

Policy MustParse(const char* yaml) {
  Result<Policy> p = ParsePolicy(yaml, "t.yaml", [](const std::string&) -> Result<std::string> {
    return Status::NotFound("no includes here");
  });
  EXPECT_TRUE(p.ok()) << p.status().message();
  return std::move(p).value();
}

std::string Winner(const Policy& p, std::string_view path) {
  const Rule* r = p.Match(path);
  return r ? r->Describe() : "none";
}

TEST(PolicyTest, PrecedenceTable) {
  Policy p = MustParse(kPolicy);
  ASSERT_EQ(p.rules().size(), 54u);
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"/", "/** (t.yaml:3)"},
      {"/etc", "/etc/** (t.yaml:4)"},
      {"/etc/passwd", "/etc/** (t.yaml:4)"},
      // More literal bytes: "etc" + ".conf" beats "etc".
      {"/etc/resolv.conf", "/etc/*.conf (t.yaml:5)"},
      // An exact path beats every glob.
      {"/etc/shadow", "/etc/shadow (t.yaml:6)"},
      {"/etc/sudoers", "/etc/sudoers (t.yaml:8)"},
      {"/etc/sudoers.d/90-cloud", "/etc/sudoers.d/** (t.yaml:9)"},
      // More leading literal components.
      {"/etc/ssh/sshd_config", "/etc/ssh/** (t.yaml:10)"},
      {"/etc/ssh/ssh_host_rsa_key.pub", "/etc/ssh/*_key.pub (t.yaml:11)"},
      {"/etc/ssh/moduli", "/etc/ssh/moduli (t.yaml:12)"},
      {"/etc/mtab", "/etc/mtab (t.yaml:13)"},
      {"/etc/passwd.dpkg-old", "/etc/**/*.dpkg-* (t.yaml:16)"},
      // "/etc/ssh/**" has two leading literal components: it beats the
      // one-component ignore of dpkg leftovers.
      {"/etc/ssh/sshd_config.dpkg-dist", "/etc/ssh/** (t.yaml:10)"},
      {"/etc/hosts~", "/etc/**/*~ (t.yaml:17)"},
      {"/etc/cron.daily/logrotate", "/etc/cron.*/** (t.yaml:18)"},
      // Same literal bytes (8): fewer '**' wins.
      {"/etc/cron.conf", "/etc/*.conf (t.yaml:5)"},
      {"/etc/systemd/system.conf", "/etc/systemd/** (t.yaml:19)"},
      {"/etc/systemd/system/multi-user.target.wants/ssh.service",
       "/etc/systemd/system/*.wants/** (t.yaml:20)"},
      {"/var", "/var/** (t.yaml:21)"},
      {"/var/lib/apt/lists/x", "/var/** (t.yaml:21)"},
      {"/var/log", "/var/log/** (t.yaml:22)"},
      {"/var/log/syslog", "/var/log/** (t.yaml:22)"},
      {"/var/log/dpkg.log", "/var/log/*.log (t.yaml:23)"},
      {"/var/log/auth.log", "/var/log/auth.log (t.yaml:24)"},
      {"/var/log/apt/history.log", "/var/log/** (t.yaml:22)"},
      {"/var/log/journal/abc/system.journal", "/var/log/journal/** (t.yaml:25)"},
      {"/var/spool/cron/crontabs/root", "/var/spool/cron/** (t.yaml:26)"},
      {"/var/lib/dpkg/status", "/var/lib/dpkg/status (t.yaml:27)"},
      {"/var/lib/dpkg/status-old", "/var/** (t.yaml:21)"},
      {"/usr", "/usr/** (t.yaml:28)"},
      {"/usr/bin", "/usr/bin/** (t.yaml:29)"},
      {"/usr/bin/ls", "/usr/bin/** (t.yaml:29)"},
      {"/usr/sbin/sshd", "/usr/sbin/** (t.yaml:30)"},
      {"/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/** (t.yaml:31)"},
      {"/usr/lib/python3.11/os.pyc", "/usr/lib/**/*.pyc (t.yaml:32)"},
      {"/usr/lib/python3.11/__pycache__/os.cpython-311.pyc",
       "/usr/lib/**/__pycache__/** (t.yaml:33)"},
      // Four leading literal components beat the two of the .pyc ignores.
      {"/usr/lib/python3/dist-packages/yaml/__pycache__/x.pyc",
       "/usr/lib/python3/dist-packages/** (t.yaml:34)"},
      {"/usr/local/bin/tool", "/usr/local/** (t.yaml:35)"},
      {"/usr/share/doc/bash/README", "/usr/share/** (t.yaml:36)"},
      {"/usr/share/ca-certificates/mozilla/x.crt", "/usr/share/ca-certificates/** (t.yaml:37)"},
      {"/usr/include/stdio.h", "/usr/** (t.yaml:28)"},
      {"/boot/vmlinuz", "/boot/** (t.yaml:38)"},
      {"/boot/grub/grubenv", "/boot/grub/grubenv (t.yaml:39)"},
      {"/root", "/root/** (t.yaml:40)"},
      {"/root/.bash_history", "/root/** (t.yaml:40)"},
      {"/root/.ssh", "/root/.ssh (t.yaml:42)"},
      {"/root/.ssh/authorized_keys", "/root/.ssh/** (t.yaml:41)"},
      {"/home", "/home/** (t.yaml:45)"},
      {"/home/alice/.ssh/authorized_keys", "/home/*/.ssh/authorized_keys (t.yaml:43)"},
      {"/home/alice/.ssh/id_ed25519", "/home/*/.ssh/** (t.yaml:44)"},
      {"/home/alice/.bashrc", "/home/*/.bashrc (t.yaml:46)"},
      {"/home/alice/notes.txt", "/home/** (t.yaml:45)"},
      {"/tmp/x", "/tmp/** (t.yaml:47)"},
      {"/proc/1/status", "/proc/** (t.yaml:48)"},
      {"/dev/null", "/dev/** (t.yaml:50)"},
      // A class is not a literal byte: equal rank, the later rule wins.
      {"/opt/app/beta/config.yaml", "/opt/app/*/config.yaml (t.yaml:53)"},
      {"/opt/app/zeta/config.yaml", "/opt/app/*/config.yaml (t.yaml:53)"},
      {"/opt/x/y/config.yaml", "/opt/**/config.yaml (t.yaml:54)"},
      {"/opt/x/y/other", "/** (t.yaml:3)"},
      // Identical patterns: the later one wins.
      {"/srv/www/index.html", "/srv/** (t.yaml:56)"},
      {"/mnt/usb/x", "/** (t.yaml:3)"},
      {"relative/path", "none"},
      {"", "none"},
  };
  for (const auto& [path, want] : cases) EXPECT_EQ(Winner(p, path), want) << path;
}

TEST(PolicyTest, NoMatchWithoutCatchAll) {
  Policy p =
      MustParse("version: 1\nrules:\n  - path: /etc/**\n  - path: /etc/mtab\n    ignore: true\n");
  EXPECT_EQ(Winner(p, "/"), "none");
  EXPECT_EQ(Winner(p, "/usr/bin/ls"), "none");
  EXPECT_EQ(Winner(p, "/etcetera"), "none");
  EXPECT_EQ(Winner(p, "/etc/mtab"), "/etc/mtab (t.yaml:4)");
  EXPECT_TRUE(p.Match("/etc/mtab")->ignore);
}

// The rank of docs/rules.md computed the slow way, for the brute-force check.
using RefRank = std::tuple<bool, uint32_t, uint32_t, int64_t, size_t>;

int ReferenceMatch(const std::vector<Glob>& globs, std::string_view path) {
  int best = -1;
  RefRank best_rank;
  for (size_t i = 0; i < globs.size(); ++i) {
    if (!globs[i].Matches(path)) continue;
    RefRank r{globs[i].is_literal(), globs[i].literal_components(), globs[i].literal_bytes(),
              -static_cast<int64_t>(globs[i].double_stars()), i};
    if (best < 0 || r > best_rank) {
      best = static_cast<int>(i);
      best_rank = r;
    }
  }
  return best;
}

std::vector<std::string> GeneratedPaths() {
  const std::vector<std::string> comps = {
      "etc",    "ssh",     "var",     "log",           "auth.log",    "x.log",      "usr",
      "lib",    "bin",     "python3", "dist-packages", "__pycache__", "a.pyc",      "home",
      "alice",  ".ssh",    "root",    "opt",           "app",         "beta",       "config.yaml",
      "cron.d", "share",   "tmp",     "srv",           "a.conf",      "f.dpkg-new", "b~",
      "shadow", "journal", "systemd", "system",        "x.wants"};
  std::mt19937 rng(7);
  std::set<std::string> out = {"/"};
  for (int i = 0; i < 20000; ++i) {
    std::string path;
    const int depth = 1 + static_cast<int>(rng() % 6);
    for (int d = 0; d < depth; ++d) path += "/" + comps[rng() % comps.size()];
    out.insert(path);
  }
  return {out.begin(), out.end()};
}

TEST(PolicyTest, MatchAgreesWithBruteForce) {
  Policy p = MustParse(kPolicy);
  std::vector<Glob> globs;
  for (const Rule& r : p.rules()) globs.push_back(std::move(Glob::Compile(r.glob)).value());
  const std::vector<std::string> paths = GeneratedPaths();
  ASSERT_GT(paths.size(), 10000u);
  size_t ignored = 0, kept = 0;
  for (const std::string& path : paths) {
    const int want = ReferenceMatch(globs, path);
    const Rule* got = p.Match(path);
    ASSERT_EQ(got ? static_cast<int>(got - p.rules().data()) : -1, want) << path;
    (got && got->ignore ? ignored : kept)++;
  }
  // Both outcomes are well represented.
  EXPECT_GT(ignored, 1000u);
  EXPECT_GT(kept, 1000u);
}

TEST(PolicyTest, CouldMatchBelowPrunesCoveredSubtrees) {
  Policy p = MustParse(kPolicy);
  const std::vector<std::pair<const char*, bool>> cases = {
      {"/", true},
      {"/proc", false},
      {"/proc/1", false},
      {"/tmp", false},
      {"/var", true},      // /var/log/*.log, /var/spool/cron/**, ...
      {"/var/lib", true},  // /var/lib/dpkg/status
      {"/var/lib/apt", false},
      {"/var/log", true},  // /var/log/auth.log
      {"/var/log/apt", false},
      {"/var/log/journal", false},
      {"/usr/share", true},  // ca-certificates
      {"/usr/share/doc", false},
      {"/usr/lib/python3.11/__pycache__", false},
      {"/usr/lib/python3/dist-packages/yaml/__pycache__", true},
      {"/root", true},
      {"/root/.cache", false},
      {"/home", true},
      {"/home/alice", true},
      {"/home/alice/src", false},
      {"/etc/ssh", true},
      {"/mnt", true},  // /** presence
  };
  for (const auto& [dir, want] : cases) EXPECT_EQ(p.CouldMatchBelow(dir), want) << dir;

  // Soundness against brute force: whenever a generated path gets a
  // non-ignore rule, none of its ancestors may be pruned.
  for (const std::string& path : GeneratedPaths()) {
    const Rule* r = p.Match(path);
    if (!r || r->ignore) continue;
    for (size_t slash = path.rfind('/'); slash != std::string::npos && slash > 0;
         slash = path.rfind('/', slash - 1)) {
      ASSERT_TRUE(p.CouldMatchBelow(path.substr(0, slash))) << path;
    }
    ASSERT_TRUE(p.CouldMatchBelow("/")) << path;
  }
}

TEST(PolicyTest, Roots) {
  Policy p = MustParse(R"(version: 1
rules:
  - path: /etc/**
  - path: /etc/ssh/**
  - path: /etc-old/**
  - path: /usr/bin/**
  - path: /usr/bin2/x
  - path: /var/log/*.log
  - path: /tmp/**
    ignore: true
  - path: /boot/grub/grub.cfg
)");
  EXPECT_EQ(p.Roots(), (std::vector<std::string>{"/boot/grub/grub.cfg", "/etc", "/etc-old",
                                                 "/usr/bin", "/usr/bin2/x", "/var/log"}));
  EXPECT_EQ(MustParse(kPolicy).Roots(), std::vector<std::string>{"/"});
  EXPECT_EQ(MustParse("version: 1\n").Roots(), std::vector<std::string>{});
}

TEST(PolicyTest, CreateReportsTheOriginOfABadGlob) {
  std::vector<Rule> rules(2);
  rules[0].glob = "/etc/**";
  rules[1].glob = "/etc/**x";
  rules[1].origin = "api:2";
  Result<Policy> p = Policy::Create(rules);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), "api:2: glob '/etc/**x': '**' must be a whole path component");
  rules[1].glob = "/usr/**";
  rules[1].mask = kAttrHash;  // type is added
  Result<Policy> ok = Policy::Create(rules, Severity::kLow, {"api"});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->rules()[1].mask, kAttrType | kAttrHash);
  EXPECT_EQ(ok->rules()[0].Describe(), "/etc/**");  // no origin
  EXPECT_EQ(ok->rules()[1].Describe(), "/usr/** (api:2)");
  EXPECT_EQ(ok->package_upgrades(), Severity::kLow);
  EXPECT_EQ(ok->files(), std::vector<std::string>{"api"});
}

TEST(PolicyTest, ConcurrentMatchesAgree) {
  const Policy p = MustParse(kPolicy);
  const std::vector<std::string> paths = GeneratedPaths();
  std::vector<const Rule*> want;
  for (const std::string& path : paths) want.push_back(p.Match(path));
  std::vector<size_t> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < mismatches.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        for (size_t i = 0; i < paths.size(); ++i) {
          if (p.Match(paths[i]) != want[i]) ++mismatches[t];
          if (p.CouldMatchBelow(paths[i]) != p.CouldMatchBelow(paths[i])) ++mismatches[t];
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<size_t>(4, 0));
}

}  // namespace
}  // namespace driftwatch::rules
