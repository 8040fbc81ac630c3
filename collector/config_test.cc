#include "collector/config.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "tests/testing/fifo.h"
#include "tests/testing/shipped_config.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::collector {
namespace {

// --config names a regular file: a FIFO or a device is refused at once,
// naming the file, instead of blocking the collector's start.
TEST(CollectorConfigTest, SpecialFilesAreRefusedWithoutBlocking) {
  testutil::TempDir dir;
  const std::string fifo = dir / "collector.yaml";
  ASSERT_TRUE(testutil::MakeFifo(fifo));
  Result<CollectorConfig> c = Status::Internal("not run");
  EXPECT_TRUE(testutil::ReturnsWithin(fifo, std::chrono::seconds(5), [&] {
    c = LoadCollectorConfig(DefaultHost(), fifo);
  })) << "LoadCollectorConfig blocked on a FIFO";
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(), fifo + ": not a regular file (a FIFO)");

  c = LoadCollectorConfig(DefaultHost(), "/dev/zero");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "/dev/zero: not a regular file (a character device)");

  const std::string big = dir / "big.yaml";
  std::ofstream(big) << "version: 1\n" << std::string(kMaxConfigBytes, '#');
  c = LoadCollectorConfig(DefaultHost(), big);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kResourceExhausted);

  const std::string good = dir / "good.yaml";
  std::ofstream(good) << "version: 1\nretention: 2d\n";
  c = LoadCollectorConfig(DefaultHost(), good);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->retention_ns, int64_t{2} * 86400 * 1000000000);
}

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

TEST(CollectorConfigTest, HttpLimits) {
  auto c = ParseCollectorConfig(R"(version: 1
max_body_bytes: 2048
http:
  io_threads: 3
  workers: 4
  max_queued: 10
  max_connections: 100
  max_header_bytes: 4096
  max_header_fields: 20
  max_inflight_body_bytes: 65536
  header_timeout: 2s
  body_timeout: 1500ms
  write_timeout: 1m
)",
                                "c.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->http.io_threads, 3);
  EXPECT_EQ(c->http.workers, 4);
  EXPECT_EQ(c->http.max_queued, 10u);
  EXPECT_EQ(c->http.max_connections, 100u);
  EXPECT_EQ(c->http.max_header_bytes, 4096u);
  EXPECT_EQ(c->http.max_header_fields, 20u);
  EXPECT_EQ(c->http.max_body_bytes, 2048u);  // the top-level cap, in one place
  EXPECT_EQ(c->http.max_inflight_body_bytes, 65536u);
  EXPECT_EQ(c->http.header_timeout_ms, 2000);
  EXPECT_EQ(c->http.body_timeout_ms, 1500);
  EXPECT_EQ(c->http.write_timeout_ms, 60000);

  auto defaults = ParseCollectorConfig("version: 1\n", "d.yaml");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->http.max_body_bytes, defaults->max_body_bytes);
  EXPECT_GE(defaults->http.max_inflight_body_bytes, defaults->max_body_bytes);

  for (const auto& [yaml, error] : std::vector<std::pair<std::string, std::string>>{
           {"version: 1\nhttp:\n  worker: 3\n", "h.yaml:3:3: unknown key 'worker'"},
           {"version: 1\nhttp:\n  workers: 0\n", "h.yaml:3:12: workers: expected a positive"},
           {"version: 1\nhttp:\n  body_timeout: 0\n", "h.yaml:3:17: body_timeout: at least 1ms"},
           {"version: 1\nhttp: [1]\n", "h.yaml:2:7: http: expected a mapping"},
           {"version: 1\nmax_body_bytes: 100000000\n",
            "max_inflight_body_bytes (67108864) is less than max_body_bytes"},
       }) {
    auto r = ParseCollectorConfig(yaml, "h.yaml");
    ASSERT_FALSE(r.ok()) << yaml;
    EXPECT_NE(r.status().message().find(error), std::string::npos)
        << yaml << " -> " << r.status().message();
  }
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

TEST(CollectorConfigTest, ServiceKeys) {
  auto c = ParseCollectorConfig(R"(version: 1
listen: 0.0.0.0:8443
store: sqlite:///var/lib/driftwatch-collector/collector.db
store_pool: 8
tls_cert: /etc/driftwatch/c.pem
tls_key: /etc/driftwatch/c.key
web_root: /srv/web
log_file: /var/log/driftwatch/collector.log
log_format: json
log_level: warn
)",
                                "c.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->listen, "0.0.0.0:8443");
  EXPECT_EQ(c->store, "sqlite:///var/lib/driftwatch-collector/collector.db");
  EXPECT_EQ(c->db, "");
  EXPECT_EQ(c->store_pool, 8);
  EXPECT_EQ(c->tls_cert, "/etc/driftwatch/c.pem");
  EXPECT_EQ(c->tls_key, "/etc/driftwatch/c.key");
  EXPECT_EQ(c->web_root, "/srv/web");
  EXPECT_EQ(c->log_file, "/var/log/driftwatch/collector.log");
  EXPECT_EQ(c->log_format, "json");
  EXPECT_EQ(c->log_level, "warn");

  auto d = ParseCollectorConfig("version: 1\ndb: /tmp/c.db\n", "c.yaml");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->db, "/tmp/c.db");
  EXPECT_EQ(d->store, "");
  EXPECT_EQ(d->listen, "");  // unset: the flag or the built-in default applies

  for (const auto& [yaml, error] : std::vector<std::pair<std::string, std::string>>{
           {"version: 1\nstore: sqlite:///a.db\ndb: /b.db\n",
            "s.yaml:3:5: give either store or db, not both"},
           {"version: 1\nstore: mysql://x\n",
            "s.yaml:2:8: store: --store mysql://x: expected sqlite:///PATH or postgresql://"},
           {"version: 1\nstore_pool: 0\n", "s.yaml:2:13: store_pool: expected a positive"},
           {"version: 1\ntls_cert: /c.pem\n", "s.yaml:2:11: tls_cert and tls_key go together"},
           {"version: 1\nlog_file: [a]\n", "s.yaml:2:11: log_file: expected a scalar"},
           {"version: 1\nlisten: \"\"\n", "s.yaml:2:9: listen: empty"},
           {"version: 1\nlog_format: xml\n", "s.yaml:2:13: log_format: expected text or json"},
           {"version: 1\nlog_level: verbose\n",
            "s.yaml:2:12: log_level: expected debug, info, warn or error"},
       }) {
    auto r = ParseCollectorConfig(yaml, "s.yaml");
    ASSERT_FALSE(r.ok()) << yaml;
    EXPECT_NE(r.status().message().find(error), std::string::npos)
        << yaml << " -> " << r.status().message();
  }
}

// A reload applies what can change live and keeps, naming them, the keys
// that need a restart.
TEST(CollectorConfigTest, RestartOnlyKeysAreKeptOnReload) {
  auto running = ParseCollectorConfig(
      "version: 1\nlisten: 127.0.0.1:8080\ndb: /a.db\nmax_body_bytes: 4096\n"
      "http:\n  workers: 4\n  io_threads: 2\n  max_queued: 10\n",
      "c.yaml");
  ASSERT_TRUE(running.ok()) << running.status().message();
  auto next = ParseCollectorConfig(
      "version: 1\nlisten: 127.0.0.1:9090\nstore: sqlite:///b.db\nmax_body_bytes: 2048\n"
      "web_root: /srv/web\nlog_file: /tmp/c.log\n"
      "http:\n  workers: 6\n  io_threads: 2\n  max_queued: 20\n",
      "c.yaml");
  ASSERT_TRUE(next.ok()) << next.status().message();
  std::vector<std::string> changed = KeepRestartOnlyKeys(*running, &*next);
  EXPECT_EQ(changed,
            (std::vector<std::string>{"listen", "store", "db", "web_root", "http.workers"}));
  EXPECT_EQ(next->listen, "127.0.0.1:8080");
  EXPECT_EQ(next->db, "/a.db");
  EXPECT_EQ(next->store, "");
  EXPECT_EQ(next->web_root, "");
  EXPECT_EQ(next->http.workers, 4);
  // Live keys take the new values.
  EXPECT_EQ(next->max_body_bytes, 2048u);
  EXPECT_EQ(next->http.max_body_bytes, 2048u);
  EXPECT_EQ(next->http.max_queued, 20u);
  EXPECT_EQ(next->log_file, "/tmp/c.log");
  EXPECT_TRUE(KeepRestartOnlyKeys(*running, &*next).empty());
}

// /etc/driftwatch/collector.yaml as the package installs it sets the
// listen address and the SQLite store under /var/lib/driftwatch-collector;
// every limit it shows commented out carries the default.
TEST(CollectorConfigTest, ShippedExampleShowsTheDefaults) {
  const std::string shipped = testing::ReadShippedConfig("collector.yaml");
  ASSERT_NE(shipped, "");
  const CollectorConfig d;

  auto as_shipped = ParseCollectorConfig(shipped, "collector.yaml");
  ASSERT_TRUE(as_shipped.ok()) << as_shipped.status().message();
  EXPECT_EQ(as_shipped->listen, "127.0.0.1:8080");
  EXPECT_EQ(as_shipped->store, "sqlite:///var/lib/driftwatch-collector/collector.db");
  EXPECT_EQ(as_shipped->db, "");
  EXPECT_EQ(as_shipped->tls_cert, "");
  EXPECT_EQ(as_shipped->log_file, "");
  EXPECT_TRUE(as_shipped->alerts.empty());

  // Uncommented (without db:, the alternative to store:), the limits keep
  // their values and the example alert parses.
  std::string all = testing::UncommentKeys(shipped);
  const size_t db = all.find("\ndb: ");
  ASSERT_NE(db, std::string::npos);
  all.erase(db + 1, all.find('\n', db + 1) - db);
  auto c = ParseCollectorConfig(all, "collector.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->store_pool, 4);
  EXPECT_EQ(c->retention_ns, d.retention_ns);
  EXPECT_EQ(c->silent_after_ns, d.silent_after_ns);
  EXPECT_EQ(c->max_body_bytes, d.max_body_bytes);
  EXPECT_EQ(c->max_events_per_report, d.max_events_per_report);
  EXPECT_EQ(c->http.io_threads, d.http.io_threads);
  EXPECT_EQ(c->http.workers, d.http.workers);
  EXPECT_EQ(c->http.max_queued, d.http.max_queued);
  EXPECT_EQ(c->http.max_connections, d.http.max_connections);
  EXPECT_EQ(c->http.max_header_bytes, d.http.max_header_bytes);
  EXPECT_EQ(c->http.max_header_fields, d.http.max_header_fields);
  EXPECT_EQ(c->http.max_inflight_body_bytes, d.http.max_inflight_body_bytes);
  EXPECT_EQ(c->http.header_timeout_ms, d.http.header_timeout_ms);
  EXPECT_EQ(c->http.body_timeout_ms, d.http.body_timeout_ms);
  EXPECT_EQ(c->http.write_timeout_ms, d.http.write_timeout_ms);
  ASSERT_EQ(c->alerts.size(), 1u);
  EXPECT_EQ(c->alerts[0].name, "ops");
  EXPECT_EQ(c->alerts[0].min_severity, Severity::kHigh);
}

}  // namespace
}  // namespace driftwatch::collector
