#include "agent/report/agent_config.h"

#include <gtest/gtest.h>

namespace driftwatch::report {
namespace {

TEST(AgentConfigTest, ParsesEveryKey) {
  auto c = ParseDaemonConfig(R"(version: 1
collector: https://collector:8443
token_file: /etc/driftwatch/agent.token
host_id: web-1
ca_file: /etc/driftwatch/ca.pem
db: /tmp/agent.db
rules: /tmp/rules.yaml
root: /srv/root
baseline: prod
interval: 10m
jitter: 30s
poll_interval: 500ms
outbox_max: 50
)",
                             "agent.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->collector, "https://collector:8443");
  EXPECT_EQ(c->token_file, "/etc/driftwatch/agent.token");
  EXPECT_EQ(c->host_id, "web-1");
  EXPECT_EQ(c->ca_file, "/etc/driftwatch/ca.pem");
  EXPECT_EQ(c->db, "/tmp/agent.db");
  EXPECT_EQ(c->rules, "/tmp/rules.yaml");
  EXPECT_EQ(c->root, "/srv/root");
  EXPECT_EQ(c->baseline, "prod");
  EXPECT_EQ(c->interval_ns, int64_t{600} * 1000000000);
  EXPECT_EQ(c->jitter_ns, int64_t{30} * 1000000000);
  EXPECT_EQ(c->poll_interval_ns, 500000000);
  EXPECT_EQ(c->outbox_max, 50);
}

TEST(AgentConfigTest, ErrorsNameFileLineColumn) {
  struct Case {
    const char* yaml;
    const char* message;
  };
  const Case cases[] = {
      {"version: 3\n",
       "a.yaml:1:10: agent config version 3 is not supported (this build knows "
       "version 1)"},
      {"interval: 1h\n", "a.yaml: missing 'version: 1'"},
      {"version: 1\ninterval: soon\n",
       "a.yaml:2:11: interval: expected a duration such as 30s, 15m, 2h or 1d"},
      {"version: 1\ncolector: http://x\n", "a.yaml:2:1: unknown key 'colector'"},
      {"version: 1\ncollector: ftp://x\n", "a.yaml:2:12: collector: expected an http(s) URL"},
      {"version: 1\npoll_interval: 1ms\n", "a.yaml:2:16: poll_interval: must be at least 100ms"},
      {"version: 1\ntoken_file: /t\n", "a.yaml: token_file needs host_id and collector"},
      {"version: 1\nroot: [a\n", "a.yaml:3:1: end of sequence flow not found"},
      // Beyond int64 nanoseconds (found by fuzzing; was signed overflow).
      {"version: 1\ninterval: 200000d\n", "a.yaml:2:11: interval: duration too large"},
  };
  for (const Case& c : cases) {
    auto r = ParseDaemonConfig(c.yaml, "a.yaml");
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.status().message(), c.message) << c.yaml;
  }
}

}  // namespace
}  // namespace driftwatch::report
