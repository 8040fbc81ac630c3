#include "report/agent_config.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "agent/check.h"
#include "tests/testing/shipped_config.h"

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
jobs: 3
nice: 0
verify_packages: true
min_severity: high
enroll_file: /tmp/enroll.yaml
realtime: false
allow_remote_restore: true
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
  EXPECT_EQ(c->jobs, 3);
  EXPECT_EQ(c->nice, 0);
  EXPECT_TRUE(c->verify_packages);
  EXPECT_EQ(c->min_severity, Severity::kHigh);
  EXPECT_EQ(c->enroll_file, "/tmp/enroll.yaml");
  EXPECT_FALSE(c->realtime);
  EXPECT_TRUE(c->allow_remote_restore);
  EXPECT_EQ(c->source, "agent.yaml");
  EXPECT_EQ(c->from_file.size(), 20u);
}

void ExpectDefaults(const DaemonConfig& c) {
  EXPECT_EQ(c.collector, "");
  EXPECT_EQ(c.token_file, "");
  EXPECT_EQ(c.host_id, "");
  EXPECT_EQ(c.ca_file, "");
  EXPECT_EQ(c.db, agent::DefaultDbPath());
  EXPECT_EQ(c.rules, agent::DefaultRulesPath());
  EXPECT_EQ(c.root, "/");
  EXPECT_EQ(c.baseline, "default");
  EXPECT_EQ(c.interval_ns, int64_t{3600} * 1000000000);
  EXPECT_EQ(c.jitter_ns, int64_t{300} * 1000000000);
  EXPECT_EQ(c.poll_interval_ns, int64_t{60} * 1000000000);
  EXPECT_EQ(c.outbox_max, 1000);
  EXPECT_EQ(c.jobs, 0);
  EXPECT_EQ(c.nice, 10);
  EXPECT_FALSE(c.verify_packages);
  EXPECT_TRUE(c.realtime);
  EXPECT_FALSE(c.allow_remote_restore);
  EXPECT_EQ(c.min_severity, std::nullopt);
  EXPECT_EQ(c.enroll_file, "/etc/driftwatch/enroll.yaml");
  EXPECT_TRUE(c.from_file.empty());
}

TEST(AgentConfigTest, EveryKeyHasADefault) {
  ExpectDefaults(DefaultDaemonConfig());
  EXPECT_EQ(DefaultDaemonConfig().source, "");
  for (const char* yaml : {"", "# nothing set\n", "version: 1\n"}) {
    auto c = ParseDaemonConfig(yaml, "agent.yaml");
    ASSERT_TRUE(c.ok()) << yaml << ": " << c.status().message();
    EXPECT_EQ(c->source, "agent.yaml");
    c->from_file.erase("version");
    ExpectDefaults(*c);
  }
  // Without a version the file is still read (version 1).
  auto c = ParseDaemonConfig("interval: 2h\n", "agent.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->interval_ns, int64_t{7200} * 1000000000);
  EXPECT_EQ(c->from_file, std::set<std::string>{"interval"});
}

TEST(AgentConfigTest, MinSeverityNames) {
  const std::pair<const char*, std::optional<Severity>> cases[] = {
      {"info", std::nullopt},
      {"low", Severity::kLow},
      {"medium", Severity::kMedium},
      {"high", Severity::kHigh},
      {"critical", Severity::kCritical}};
  for (const auto& [name, sev] : cases) {
    auto c = ParseDaemonConfig(std::string("min_severity: ") + name + "\n", "a.yaml");
    ASSERT_TRUE(c.ok()) << name << ": " << c.status().message();
    EXPECT_EQ(c->min_severity, sev) << name;
    EXPECT_EQ(agent::MinSeverityName(sev), name);
  }
}

TEST(AgentConfigTest, MissingFileIsEveryDefaultUnlessRequired) {
  const std::string missing = "/nonexistent-driftwatch-dir/agent.yaml";
  auto d = LoadDaemonConfig(DefaultHost(), missing, /*required=*/false);
  ASSERT_TRUE(d.ok()) << d.status().message();
  ExpectDefaults(*d);
  EXPECT_EQ(d->source, "");
  auto r = LoadDaemonConfig(DefaultHost(), missing, /*required=*/true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  // A directory is not a missing file: refused either way.
  auto dir = LoadDaemonConfig(DefaultHost(), "/", /*required=*/false);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), StatusCode::kInvalidArgument);
}

TEST(AgentConfigTest, PrintedConfigParsesBackToTheSameValues) {
  auto c = ParseDaemonConfig(R"(collector: http://127.0.0.1:8080
db: "/tmp/a db: with colon.db"
root: /srv/root
baseline: "yes"
interval: 90s
jitter: 0
poll_interval: 250ms
jobs: 2
nice: 5
verify_packages: true
min_severity: medium
metrics_file: /var/lib/prometheus/node-exporter/driftwatch.prom
require_signed_baselines: true
trusted_keys: [/etc/driftwatch/keys/ops.pub, "/etc/driftwatch/keys/b: c.pub"]
containers:
  docker_roots: [/srv/docker, "/srv/docker two"]
  storage_roots: [/home/ci/.local/share/containers/storage]
)",
                             "agent.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->require_signed_baselines);
  EXPECT_EQ(c->trusted_keys, (std::vector<std::string>{"/etc/driftwatch/keys/ops.pub",
                                                       "/etc/driftwatch/keys/b: c.pub"}));
  for (const DaemonConfig& in : {*c, DefaultDaemonConfig()}) {
    const std::string text = FormatDaemonConfig(in);
    auto back = ParseDaemonConfig(text, "printed.yaml");
    ASSERT_TRUE(back.ok()) << text << back.status().message();
    EXPECT_EQ(back->collector, in.collector);
    EXPECT_EQ(back->token_file, in.token_file);
    EXPECT_EQ(back->host_id, in.host_id);
    EXPECT_EQ(back->ca_file, in.ca_file);
    EXPECT_EQ(back->metrics_file, in.metrics_file);
    EXPECT_EQ(back->db, in.db);
    EXPECT_EQ(back->rules, in.rules);
    EXPECT_EQ(back->root, in.root);
    EXPECT_EQ(back->baseline, in.baseline);
    EXPECT_EQ(back->interval_ns, in.interval_ns);
    EXPECT_EQ(back->jitter_ns, in.jitter_ns);
    EXPECT_EQ(back->poll_interval_ns, in.poll_interval_ns);
    EXPECT_EQ(back->outbox_max, in.outbox_max);
    EXPECT_EQ(back->jobs, in.jobs);
    EXPECT_EQ(back->nice, in.nice);
    EXPECT_EQ(back->verify_packages, in.verify_packages);
    EXPECT_EQ(back->min_severity, in.min_severity);
    EXPECT_EQ(back->enroll_file, in.enroll_file);
    EXPECT_EQ(back->realtime, in.realtime);
    EXPECT_EQ(back->allow_remote_restore, in.allow_remote_restore);
    EXPECT_EQ(back->require_signed_baselines, in.require_signed_baselines);
    EXPECT_EQ(back->trusted_keys, in.trusted_keys);
    EXPECT_EQ(back->containers, in.containers);
    EXPECT_EQ(back->from_file.size(), 24u) << "every key is written";
  }
  const std::string text = FormatDaemonConfig(*c);
  EXPECT_NE(text.find("\ninterval: 90s  # from the file\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\noutbox_max: 1000  # default\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nmin_severity: medium  # from the file\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\ntoken_file: \"\"  # default\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nrequire_signed_baselines: true  # from the file\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("\ntrusted_keys: [/etc/driftwatch/keys/ops.pub, \"/etc/driftwatch/keys/b: "
                      "c.pub\"]  # from the file\n"),
            std::string::npos)
      << text;
  EXPECT_NE(FormatDaemonConfig(DefaultDaemonConfig()).find("\ntrusted_keys: []  # default\n"),
            std::string::npos);
  EXPECT_NE(text.find("\ncontainers: {docker_roots: [/srv/docker, /srv/docker two], "
                      "containerd_roots: [], containerd_states: [], storage_roots: "
                      "[/home/ci/.local/share/containers/storage]}  # from the file\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.rfind("# driftwatch agent configuration in effect (agent.yaml and defaults)\n", 0),
            0u)
      << text;
}

TEST(AgentConfigTest, TrustedKeysAreAbsoluteFileLists) {
  for (const char* bad :
       {"trusted_keys: /a.pub\n", "trusted_keys: [relative.pub]\n", "trusted_keys: [[/a]]\n",
        "trusted_keys: {a: b}\n", "require_signed_baselines: yes please\n"}) {
    auto c = ParseDaemonConfig(bad, "agent.yaml");
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().message().rfind("agent.yaml:1:", 0), 0u) << c.status().message();
  }
  auto empty = ParseDaemonConfig("trusted_keys: []\n", "agent.yaml");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->trusted_keys.empty());
  EXPECT_FALSE(empty->require_signed_baselines);
}

TEST(AgentConfigTest, ContainerRootsAreListsOfAbsolutePaths) {
  auto c = ParseDaemonConfig(R"(containers:
  docker_roots: [/srv/docker]
  containerd_roots: [/srv/containerd]
  containerd_states: [/run/ctr]
  storage_roots: [/srv/storage, /home/u/.local/share/containers/storage]
)",
                             "agent.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->containers,
            (ContainerRoots{{"/srv/docker"},
                            {"/srv/containerd"},
                            {"/run/ctr"},
                            {"/srv/storage", "/home/u/.local/share/containers/storage"}}));
  EXPECT_EQ(c->from_file, std::set<std::string>{"containers"});
  auto empty = ParseDaemonConfig("containers:\n", "agent.yaml");
  ASSERT_TRUE(empty.ok()) << empty.status().message();
  EXPECT_EQ(empty->containers, ContainerRoots{});
  const std::pair<const char*, const char*> bad[] = {
      {"containers: /srv/docker\n", "agent.yaml:1:13: containers: expected a mapping"},
      {"containers:\n  podman_roots: [/x]\n",
       "agent.yaml:2:3: containers: unknown key 'podman_roots'"},
      {"containers:\n  docker_roots: /srv/docker\n",
       "agent.yaml:2:17: containers: docker_roots: expected a list of directories"},
      {"containers:\n  storage_roots: [relative]\n",
       "agent.yaml:2:18: containers: storage_roots: expected a list of absolute paths"},
      {"containers:\n  containerd_states: [[/a]]\n",
       "agent.yaml:2:22: containers: containerd_states: expected a list of absolute paths"},
  };
  for (const auto& [yaml, want] : bad) {
    auto r = ParseDaemonConfig(yaml, "agent.yaml");
    ASSERT_FALSE(r.ok()) << yaml;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << yaml;
    EXPECT_EQ(r.status().message().rfind(want, 0), 0u) << r.status().message();
  }
}

TEST(AgentConfigTest, FormatsDurationsInTheLargestExactUnit) {
  const std::pair<int64_t, const char*> cases[] = {
      {0, "0s"},
      {250000000, "250ms"},
      {int64_t{90} * 1000000000, "90s"},
      {int64_t{300} * 1000000000, "5m"},
      {int64_t{3600} * 1000000000, "1h"},
      {int64_t{86400} * 1000000000 * 2, "2d"},
      {1500000000, "1500ms"},
  };
  for (const auto& [ns, text] : cases) {
    EXPECT_EQ(FormatDuration(ns), text);
    auto back = ParseDurationNs(text);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, ns) << text;
  }
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
      {"version: 1\ninterval: soon\n",
       "a.yaml:2:11: interval: expected a duration such as 30s, 15m, 2h or 90d"},
      {"version: 1\ncolector: http://x\n", "a.yaml:2:1: unknown key 'colector'"},
      {"version: 1\ncollector: ftp://x\n", "a.yaml:2:12: collector: expected an http(s) URL"},
      {"version: 1\ncollector: https://c.example\xff\xe0\n",
       "a.yaml:2:12: collector: expected UTF-8 text"},
      {"version: 1\npoll_interval: 1ms\n", "a.yaml:2:16: poll_interval: must be at least 100ms"},
      {"version: 1\ntoken_file: /t\n", "a.yaml: token_file needs host_id and collector"},
      {"version: 1\nroot: [a\n", "a.yaml:3:1: end of sequence flow not found"},
      {"jobs: 257\n", "a.yaml:1:7: jobs: expected an integer from 0 to 256"},
      {"jobs: two\n", "a.yaml:1:7: jobs: expected an integer from 0 to 256"},
      {"nice: 20\n", "a.yaml:1:7: nice: expected an integer from 0 to 19"},
      {"\nnice: -1\n", "a.yaml:2:7: nice: expected an integer from 0 to 19"},
      {"verify_packages: yes\n", "a.yaml:1:18: verify_packages: expected true or false"},
      {"realtime: on\n", "a.yaml:1:11: realtime: expected true or false"},
      {"allow_remote_restore: yes\n", "a.yaml:1:23: allow_remote_restore: expected true or false"},
      {"min_severity: urgent\n",
       "a.yaml:1:15: min_severity: unknown severity 'urgent' (expected info, low, medium, high "
       "or critical)"},
      {"enroll_file: \"\"\n", "a.yaml:1:14: enroll_file: must not be empty"},
      {"db: [a, b]\n", "a.yaml:1:5: db: expected a scalar"},
      {"- a\n", "a.yaml:1:1: expected a mapping"},
      // Beyond int64 nanoseconds (found by fuzzing; was signed overflow).
      {"version: 1\ninterval: 200000d\n", "a.yaml:2:11: interval: duration too large"},
  };
  for (const Case& c : cases) {
    auto r = ParseDaemonConfig(c.yaml, "a.yaml");
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.status().message(), c.message) << c.yaml;
  }
}

// /etc/driftwatch/agent.yaml as the package installs it sets nothing but
// the version, and every key it shows commented out carries the default.
TEST(AgentConfigTest, ShippedExampleShowsTheDefaults) {
  unsetenv("DRIFTWATCH_DB");
  const std::string shipped = testing::ReadShippedConfig("agent.yaml");
  ASSERT_NE(shipped, "");
  const DaemonConfig d = DefaultDaemonConfig();

  auto as_shipped = ParseDaemonConfig(shipped, "agent.yaml");
  ASSERT_TRUE(as_shipped.ok()) << as_shipped.status().message();
  EXPECT_EQ(as_shipped->from_file, std::set<std::string>{"version"});

  // Uncommented, the examples of keys without a default (collector,
  // token_file, host_id, ca_file, metrics_file, trusted_keys) are set; every other key keeps
  // its value.
  auto c = ParseDaemonConfig(testing::UncommentKeys(shipped), "agent.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->from_file, (std::set<std::string>{"version",
                                                 "collector",
                                                 "enroll_file",
                                                 "token_file",
                                                 "host_id",
                                                 "ca_file",
                                                 "db",
                                                 "rules",
                                                 "root",
                                                 "baseline",
                                                 "interval",
                                                 "jitter",
                                                 "poll_interval",
                                                 "outbox_max",
                                                 "jobs",
                                                 "nice",
                                                 "verify_packages",
                                                 "min_severity",
                                                 "metrics_file",
                                                 "realtime",
                                                 "allow_remote_restore",
                                                 "require_signed_baselines",
                                                 "trusted_keys",
                                                 "containers"}));
  EXPECT_EQ(c->containers.docker_roots, std::vector<std::string>{"/srv/docker"});
  EXPECT_EQ(c->containers, (ContainerRoots{{"/srv/docker"}, {}, {}, {}}));
  EXPECT_EQ(c->db, d.db);
  EXPECT_EQ(c->require_signed_baselines, d.require_signed_baselines);
  EXPECT_EQ(c->trusted_keys, std::vector<std::string>{"/etc/driftwatch/keys/ops.pub"});
  EXPECT_EQ(c->realtime, d.realtime);
  EXPECT_EQ(c->allow_remote_restore, d.allow_remote_restore);
  EXPECT_EQ(c->root, d.root);
  EXPECT_EQ(c->baseline, d.baseline);
  EXPECT_EQ(c->interval_ns, d.interval_ns);
  EXPECT_EQ(c->jitter_ns, d.jitter_ns);
  EXPECT_EQ(c->poll_interval_ns, d.poll_interval_ns);
  EXPECT_EQ(c->outbox_max, d.outbox_max);
  EXPECT_EQ(c->jobs, d.jobs);
  EXPECT_EQ(c->nice, d.nice);
  EXPECT_EQ(c->verify_packages, d.verify_packages);
  EXPECT_EQ(c->min_severity, d.min_severity);
  EXPECT_EQ(c->enroll_file, d.enroll_file);
}

}  // namespace
}  // namespace driftwatch::report
