// The `peer` key of the rule language: parsing, errors, and how
// Policy::PeerIgnored resolves it apart from Match().
#include <string>

#include "gtest/gtest.h"
#include "rules/policy.h"

#ifndef DW_RULES_DEFAULT_DIR
#error "DW_RULES_DEFAULT_DIR must name rules/default"
#endif

namespace driftwatch::rules {
namespace {

Result<Policy> Parse(const std::string& yaml) {
  return ParsePolicy(yaml, "t.yaml", [](const std::string& p) -> Result<std::string> {
    return Status::NotFound(p + ": No such file or directory");
  });
}

Policy MustParse(const std::string& yaml) {
  Result<Policy> p = Parse(yaml);
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? std::move(*p) : *Policy::Create({});
}

TEST(PeerRulesTest, MostSpecificPeerRuleDecides) {
  Policy p = MustParse(R"(version: 1
rules:
  - {path: /etc/**, check: content, severity: high}
  - {path: /etc/hostname, peer: ignore}
  - {path: /etc/ssh/ssh_host_*, peer: ignore}
  - {path: /etc/app/node-*.conf, peer: ignore}
  - {path: /etc/app/node-common.conf, peer: compare}
  - {path: /etc/local/**, peer: ignore}
)");
  ASSERT_EQ(p.rules().size(), 6u);
  EXPECT_FALSE(p.rules()[0].peer.has_value());
  EXPECT_EQ(p.rules()[1].peer, PeerMode::kIgnore);
  EXPECT_EQ(p.rules()[4].peer, PeerMode::kCompare);
  struct Case {
    const char* path;
    bool ignored;
  } cases[] = {
      {"/etc/hostname", true},
      {"/etc/hostname.bak", false},
      {"/etc/ssh/ssh_host_ed25519_key", true},
      {"/etc/ssh/ssh_host_ed25519_key.pub", true},
      {"/etc/ssh/sshd_config", false},
      {"/etc/app/node-7.conf", true},
      {"/etc/app/node-common.conf", false},
      {"/etc/local/a/b", true},
      {"/etc/passwd", false},
      {"/usr/bin/ls", false},
      {"/", false},
  };
  for (const Case& c : cases) EXPECT_EQ(p.PeerIgnored(c.path), c.ignored) << c.path;
  EXPECT_EQ(PeerModeName(PeerMode::kIgnore), "ignore");
  EXPECT_EQ(PeerModeName(PeerMode::kCompare), "compare");
}

TEST(PeerRulesTest, PeerOnlyRulesChangeNothingAboutChecks) {
  const char* base = "version: 1\nrules:\n  - {path: /etc/**, check: content}\n";
  Policy plain = MustParse(base);
  Policy peer = MustParse(std::string(base) + "  - {path: /etc/hostname, peer: ignore}\n");
  ASSERT_EQ(peer.rules().size(), 2u);
  EXPECT_TRUE(peer.rules()[1].content_only);
  // /etc/hostname is still checked by /etc/** (the peer rule is not a match).
  ASSERT_NE(peer.Match("/etc/hostname"), nullptr);
  EXPECT_EQ(peer.Match("/etc/hostname")->glob, "/etc/**");
  EXPECT_EQ(peer.Fingerprint(), plain.Fingerprint());
  EXPECT_EQ(peer.Roots(), plain.Roots());
  EXPECT_FALSE(plain.PeerIgnored("/etc/hostname"));

  // With `check`, the rule is an ordinary rule that also sets peer.
  Policy both = MustParse(std::string(base) +
                          "  - {path: /etc/hostname, check: permissions, peer: ignore}\n");
  EXPECT_FALSE(both.rules()[1].content_only);
  EXPECT_EQ(both.Match("/etc/hostname")->glob, "/etc/hostname");
  EXPECT_TRUE(both.PeerIgnored("/etc/hostname"));
}

TEST(PeerRulesTest, IgnoredBelowPrunesWalks) {
  Policy p = MustParse(R"(version: 1
rules:
  - {path: /**, check: content}
  - {path: /etc/ssh/ssh_host_*, peer: ignore}
  - {path: /var/lib/dbus/machine-id, peer: ignore}
)");
  EXPECT_TRUE(p.PeerIgnoredBelow("/"));
  EXPECT_TRUE(p.PeerIgnoredBelow("/etc"));
  EXPECT_TRUE(p.PeerIgnoredBelow("/etc/ssh"));
  EXPECT_TRUE(p.PeerIgnoredBelow("/var/lib"));
  EXPECT_FALSE(p.PeerIgnoredBelow("/usr"));
  EXPECT_FALSE(p.PeerIgnoredBelow("/etc/ssh/sshd_config.d"));
  EXPECT_FALSE(p.PeerIgnoredBelow("/var/log"));
  Policy none = MustParse("version: 1\nrules:\n  - {path: /**}\n");
  EXPECT_FALSE(none.PeerIgnoredBelow("/"));
  EXPECT_FALSE(none.PeerIgnored("/etc/hostname"));
}

TEST(PeerRulesTest, BadValuesNameFileLineAndColumn) {
  struct Case {
    const char* yaml;
    const char* message;
  } cases[] = {
      {"version: 1\nrules:\n  - {path: /etc/hostname, peer: skip}\n",
       "t.yaml:3:33: 'peer' must be ignore or compare, not 'skip'"},
      {"version: 1\nrules:\n  - {path: /etc/hostname, peer: [ignore]}\n",
       "t.yaml:3:33: 'peer' must be ignore or compare"},
      {"version: 1\nrules:\n  - {path: /etc/hostname, ignore: true, peer: ignore}\n",
       "t.yaml:3:41: an ignore rule takes no 'peer'"},
  };
  for (const Case& c : cases) {
    Result<Policy> p = Parse(c.yaml);
    ASSERT_FALSE(p.ok()) << c.yaml;
    EXPECT_EQ(p.status().message(), c.message) << c.yaml;
  }
}

TEST(PeerRulesTest, ShippedHostRulesMarkWhatIsPerHost) {
  Result<Policy> p =
      LoadPolicyFile(DefaultHost(), std::string(DW_RULES_DEFAULT_DIR) + "/host.yaml");
  ASSERT_TRUE(p.ok()) << p.status().message();
  for (const char* path :
       {"/etc/hostname", "/etc/hosts", "/etc/machine-id", "/var/lib/dbus/machine-id",
        "/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_ed25519_key.pub", "/etc/fstab",
        "/etc/mailname", "/etc/driftwatch/token"}) {
    EXPECT_TRUE(p->PeerIgnored(path)) << path;
  }
  for (const char* path : {"/etc/ssh/sshd_config", "/etc/passwd", "/etc/cron.d/backup",
                           "/usr/bin/ls", "/etc/hosts.allow"}) {
    EXPECT_FALSE(p->PeerIgnored(path)) << path;
  }
  // Host-specific files are still checked on the host itself.
  ASSERT_NE(p->Match("/etc/hostname"), nullptr);
  EXPECT_FALSE(p->Match("/etc/hostname")->ignore);
}

}  // namespace
}  // namespace driftwatch::rules
