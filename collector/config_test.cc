#include "collector/config.h"

#include <gtest/gtest.h>

namespace driftwatch::collector {
namespace {

TEST(CollectorConfigTest, ParsesEveryKey) {
  auto c = ParseCollectorConfig(R"(version: 1
retention: 90d
silent_after: 30m
max_body_bytes: 4096
max_events_per_report: 50
alerts:
  - name: ops
    min_severity: critical
    groups: [web, db]
    webhook: http://127.0.0.1:9000/hook
    format: slack
  - name: log
    syslog: true
)",
                                "c.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->retention_ns, int64_t{90} * 86400 * 1000000000);
  EXPECT_EQ(c->silent_after_ns, int64_t{1800} * 1000000000);
  EXPECT_EQ(c->max_body_bytes, 4096u);
  EXPECT_EQ(c->max_events_per_report, 50u);
  ASSERT_EQ(c->alerts.size(), 2u);
  EXPECT_EQ(c->alerts[0].name, "ops");
  EXPECT_EQ(c->alerts[0].min_severity, Severity::kCritical);
  EXPECT_EQ(c->alerts[0].groups, (std::vector<std::string>{"web", "db"}));
  EXPECT_EQ(c->alerts[0].webhook, "http://127.0.0.1:9000/hook");
  EXPECT_TRUE(c->alerts[0].slack);
  EXPECT_FALSE(c->alerts[0].syslog);
  EXPECT_EQ(c->alerts[1].min_severity, Severity::kHigh);
  EXPECT_TRUE(c->alerts[1].syslog);
  EXPECT_TRUE(c->alerts[1].webhook.empty());
}

TEST(CollectorConfigTest, ErrorsNameFileLineColumn) {
  struct Case {
    const char* yaml;
    const char* message;
  };
  const Case cases[] = {
      {"version: 2\n",
       "c.yaml:1:10: config version 2 is not supported (this build knows version 1)"},
      {"retention: 1d\n", "c.yaml: missing 'version: 1'"},
      {"version: 1\nretension: 1d\n", "c.yaml:2:1: unknown key 'retension'"},
      {"version: 1\nretention: soon\n",
       "c.yaml:2:12: retention: expected a duration such as 30s, 15m, 2h or 90d"},
      {"version: 1\nalerts:\n  - name: a\n    min_severity: urgent\n    syslog: true\n",
       "c.yaml:4:19: unknown severity 'urgent' (expected low, medium, high or critical)"},
      {"version: 1\nalerts:\n  - name: a\n",
       "c.yaml:3:5: alert 'a' has neither a webhook nor syslog"},
      {"version: 1\nalerts:\n  - name: a\n    webhook: ftp://x\n",
       "c.yaml:4:14: webhook: expected an http(s) URL"},
      {"version: 1\nalerts: [\n", "c.yaml:3:1: end of sequence flow not found"},
  };
  for (const Case& c : cases) {
    auto r = ParseCollectorConfig(c.yaml, "c.yaml");
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.status().message(), c.message) << c.yaml;
  }
}

TEST(CollectorConfigTest, Durations) {
  EXPECT_EQ(*ParseDurationNs("250ms"), 250000000);
  EXPECT_EQ(*ParseDurationNs("2h"), int64_t{7200} * 1000000000);
  EXPECT_EQ(*ParseDurationNs("15"), int64_t{15} * 1000000000);
  EXPECT_EQ(*ParseDurationNs("0"), 0);
  EXPECT_FALSE(ParseDurationNs("h").ok());
  EXPECT_FALSE(ParseDurationNs("3 weeks").ok());
  EXPECT_FALSE(ParseDurationNs("99999999999999999999d").ok());
  // Below the digit cap but beyond int64 nanoseconds (found by fuzzing).
  EXPECT_FALSE(ParseDurationNs("200000d").ok());
  EXPECT_EQ(*ParseDurationNs("106751d"), int64_t{106751} * 86400 * 1000000000);
}

TEST(CollectorConfigTest, BodyAndEventCapsAgree) {
  // Unset, the event cap follows the body cap.
  auto c = ParseCollectorConfig("version: 1\nmax_body_bytes: 400000\n", "c.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->max_events_per_report, 1000u);
  auto d = ParseCollectorConfig("version: 1\n", "c.yaml");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->max_events_per_report, (size_t{8} << 20) / 400);
  // An event cap no body under the body cap could reach is refused.
  auto e = ParseCollectorConfig(
      "version: 1\nmax_body_bytes: 8388608\nmax_events_per_report: 200000\n", "c.yaml");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("at most 131072"), std::string::npos) << e.status().message();
}

}  // namespace
}  // namespace driftwatch::collector
