// The content keys of the rule language: parsing, errors, and how
// Policy::Content resolves them apart from Match().
#include <string>

#include "gtest/gtest.h"
#include "rules/policy.h"

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

TEST(ContentRulesTest, ParsesModesAndSizes) {
  Policy p = MustParse(R"(version: 1
rules:
  - {path: /etc/**, content: keep}
  - {path: /etc/big/**, content: keep, content_max: 64K}
  - {path: /etc/huge, content: keep, content_max: 2MiB}
  - {path: /etc/bytes, content: keep, content_max: 1000}
  - {path: /etc/shadow, content: redact}
  - {path: /etc/motd, content: none}
)");
  ASSERT_EQ(p.rules().size(), 6u);
  EXPECT_EQ(p.rules()[0].content, ContentMode::kKeep);
  EXPECT_EQ(p.rules()[0].content_max, kDefaultContentMaxBytes);
  EXPECT_EQ(p.rules()[1].content_max, 64u << 10);
  EXPECT_EQ(p.rules()[2].content_max, 2u << 20);
  EXPECT_EQ(p.rules()[3].content_max, 1000u);
  EXPECT_EQ(p.rules()[4].content, ContentMode::kRedact);
  EXPECT_EQ(p.rules()[5].content, ContentMode::kNone);
  EXPECT_EQ(ContentModeName(ContentMode::kKeep), "keep");
  EXPECT_EQ(ContentModeName(ContentMode::kRedact), "redact");
  EXPECT_EQ(ContentModeName(ContentMode::kNone), "none");
}

TEST(ContentRulesTest, BadValuesNameFileLineAndColumn) {
  struct Case {
    const char* yaml;
    const char* message;
  } cases[] = {
      {"version: 1\nrules:\n  - {path: /etc/**, content: copy}\n",
       "t.yaml:3:30: 'content' must be keep, redact or none, not 'copy'"},
      {"version: 1\nrules:\n  - {path: /etc/**, content: [keep]}\n",
       "t.yaml:3:30: 'content' must be keep, redact or none"},
      {"version: 1\nrules:\n  - {path: /etc/**, content: keep, content_max: 1T}\n",
       "t.yaml:3:49: 'content_max' must be a size in bytes, optionally with a K, M or G suffix, "
       "at most 64M, not '1T'"},
      {"version: 1\nrules:\n  - {path: /etc/**, content: keep, content_max: -1}\n",
       "t.yaml:3:49: 'content_max' must be a size in bytes, optionally with a K, M or G suffix, "
       "at most 64M, not '-1'"},
      {"version: 1\nrules:\n  - {path: /etc/**, content: keep, content_max: 65M}\n",
       "t.yaml:3:49: 'content_max' must be a size in bytes, optionally with a K, M or G suffix, "
       "at most 64M, not '65M'"},
      {"version: 1\nrules:\n  - {path: /etc/**, content: keep, content_max: "
       "99999999999999999999}\n",
       "t.yaml:3:49: 'content_max' must be a size in bytes, optionally with a K, M or G suffix, "
       "at most 64M, not '99999999999999999999'"},
      {"version: 1\nrules:\n  - {path: /etc/**, content_max: 1M}\n",
       "t.yaml:3:21: 'content_max' needs 'content: keep' in the same rule"},
      {"version: 1\nrules:\n  - {path: /etc/**, content: redact, content_max: 1M}\n",
       "t.yaml:3:38: 'content_max' needs 'content: keep' in the same rule"},
      {"version: 1\nrules:\n  - {path: /etc/**, ignore: true, content: keep}\n",
       "t.yaml:3:35: an ignore rule takes no 'content'"},
  };
  for (const Case& c : cases) {
    Result<Policy> p = Parse(c.yaml);
    ASSERT_FALSE(p.ok()) << c.yaml;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(p.status().message(), c.message) << c.yaml;
  }
}

TEST(ContentRulesTest, SizesParseWithSuffixes) {
  EXPECT_EQ(*ParseContentSize("0"), 0u);
  EXPECT_EQ(*ParseContentSize("512"), 512u);
  EXPECT_EQ(*ParseContentSize("4k"), 4096u);
  EXPECT_EQ(*ParseContentSize("1M"), 1u << 20);
  EXPECT_EQ(*ParseContentSize("64MiB"), 64u << 20);
  EXPECT_FALSE(ParseContentSize("1G").ok());  // over the cap
  for (const char* bad : {"", "M", "1.5M", "1 M", "1MB2", "0x10", "+1"}) {
    EXPECT_FALSE(ParseContentSize(bad).ok()) << bad;
  }
}

TEST(ContentRulesTest, MostSpecificContentRuleDecides) {
  Policy p = MustParse(R"(version: 1
rules:
  - {path: /etc/**, severity: high}
  - {path: /etc/**, content: keep}
  - {path: /etc/ssh/ssh_host_*_key, content: redact}
  - {path: /etc/ssl/private/**, content: redact}
  - {path: /etc/app/*.conf, content: keep, content_max: 10}
  - {path: /etc/app/secret.conf, severity: critical, content: redact}
  - {path: /etc/logs/**, content: none}
)");
  EXPECT_EQ(p.Content("/etc/hosts").mode, ContentMode::kKeep);
  EXPECT_EQ(p.Content("/etc/hosts").max_bytes, kDefaultContentMaxBytes);
  EXPECT_EQ(p.Content("/etc/hosts").rule, &p.rules()[1]);
  EXPECT_EQ(p.Content("/etc/ssh/ssh_host_ed25519_key").mode, ContentMode::kRedact);
  EXPECT_EQ(p.Content("/etc/ssh/ssh_host_ed25519_key.pub").mode, ContentMode::kKeep);
  EXPECT_EQ(p.Content("/etc/ssl/private/a/b.pem").mode, ContentMode::kRedact);
  EXPECT_EQ(p.Content("/etc/app/x.conf").mode, ContentMode::kKeep);
  EXPECT_EQ(p.Content("/etc/app/x.conf").max_bytes, 10u);
  EXPECT_EQ(p.Content("/etc/app/secret.conf").mode, ContentMode::kRedact);
  EXPECT_EQ(p.Content("/etc/app/secret.conf").rule, &p.rules()[5]);
  EXPECT_EQ(p.Content("/etc/logs/a.log").mode, ContentMode::kNone);
  EXPECT_NE(p.Content("/etc/logs/a.log").rule, nullptr);
  // No rule sets content.
  EXPECT_EQ(p.Content("/usr/bin/ls").mode, ContentMode::kNone);
  EXPECT_EQ(p.Content("/usr/bin/ls").rule, nullptr);
  // The rule with a check field is a checked rule too; content-only ones are not.
  EXPECT_FALSE(p.rules()[5].content_only);
  EXPECT_TRUE(p.rules()[1].content_only);
  EXPECT_EQ(p.Match("/etc/hosts"), &p.rules()[0]);
  EXPECT_EQ(p.Match("/etc/app/secret.conf"), &p.rules()[5]);
}

TEST(ContentRulesTest, ContentOnlyRulesDoNotChangeWhatIsChecked) {
  const std::string checks = R"(version: 1
rules:
  - {path: /etc/**, severity: high}
  - {path: /etc/ssh/**, severity: critical}
)";
  Policy plain = MustParse(checks);
  Policy with = MustParse(checks + R"(  - {path: /etc/ssh/sshd_config, content: keep}
  - {path: /srv/**, content: keep}
  - {path: /etc/**, content: keep}
)");
  EXPECT_EQ(plain.Fingerprint(), with.Fingerprint());
  EXPECT_EQ(plain.Roots(), with.Roots());  // /srv is not walked for a content rule
  for (const char* path : {"/etc/hosts", "/etc/ssh/sshd_config", "/srv/x", "/etc/ssh"}) {
    const Rule* a = plain.Match(path);
    const Rule* b = with.Match(path);
    ASSERT_EQ(a == nullptr, b == nullptr) << path;
    if (a != nullptr) {
      EXPECT_EQ(a->glob, b->glob) << path;
    }
  }
  EXPECT_FALSE(with.CouldMatchBelow("/srv"));
  EXPECT_EQ(with.Content("/etc/ssh/sshd_config").rule, &with.rules()[2]);
  EXPECT_EQ(with.Content("/srv/x").mode, ContentMode::kKeep);
}

TEST(ContentRulesTest, IgnoreRulesNeverDecideContent) {
  Policy p = MustParse(R"(version: 1
rules:
  - {path: /etc/**, content: keep}
  - {path: /etc/cache/**, ignore: true}
  - {path: /etc/cache/x, ignore: true}
)");
  // The ignore rules win Match() but content is still the keep rule's.
  EXPECT_TRUE(p.Match("/etc/cache/x")->ignore);
  EXPECT_EQ(p.Content("/etc/cache/x").mode, ContentMode::kKeep);
  EXPECT_EQ(p.Content("/etc/cache/x").rule, &p.rules()[0]);
}

TEST(ContentRulesTest, LaterEqualRuleWinsAndCopiesKeepPointers) {
  Policy p = MustParse(R"(version: 1
rules:
  - {path: /etc/**, content: keep}
  - {path: /etc/**, content: redact}
)");
  EXPECT_EQ(p.Content("/etc/a").mode, ContentMode::kRedact);
  Policy copy = p;
  EXPECT_EQ(copy.Content("/etc/a").rule, &copy.rules()[1]);
  EXPECT_EQ(copy.Content("/etc/a").mode, ContentMode::kRedact);
}

}  // namespace
}  // namespace driftwatch::rules
