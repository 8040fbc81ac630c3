// driftwatch status's data from a real store.
#include "report/agent_status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/check.h"
#include "report/outbox.h"
#include "tests/testing/mem_host.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::report {
namespace {

using ::testing::HasSubstr;
using testutil::TempDir;

constexpr int64_t kSec = 1000000000;

TEST(AgentStatusTest, EnrollmentOutboxLastCheckAndBaselines) {
  TempDir dir;
  testutil::MemHost host;
  host.SetNowNs(1000 * kSec);
  host.SetHostname("web-1");
  host.PutFile("/rules.yaml", "version: 1\nrules:\n  - path: /etc/**\n    severity: low\n");
  host.PutFile("/etc/a.conf", "a\n");
  agent::CheckOptions o;
  o.host = &host;
  o.db_path = dir / "agent.db";  // a real file; its directory also made in the MemHost
  o.rules_path = "/rules.yaml";
  o.jobs = 1;

  StatusOptions options{o.db_path};
  auto none = GatherStatus(host, options);
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(), HasSubstr("no agent store here"));

  auto base = agent::CreateBaseline(o, "test", "first");
  ASSERT_TRUE(base.ok()) << base.status().message();
  host.AdvanceNs(60 * kSec);
  host.PutFile("/etc/a.conf", "changed\n");
  host.PutFile("/etc/b.conf", "new\n");
  auto checked = agent::RunCheck(o);
  ASSERT_TRUE(checked.ok()) << checked.status().message();
  {
    auto outbox = Outbox::Open(o.db_path);
    ASSERT_TRUE(outbox.ok());
    ASSERT_TRUE((*outbox)->Enqueue(*checked, host.NowNs()).ok());
    host.AdvanceNs(10 * kSec);
    ASSERT_TRUE((*outbox)->Enqueue(*checked, host.NowNs()).ok());
    ASSERT_TRUE((*outbox)
                    ->SaveEnrollment(Enrollment{"http://127.0.0.1:1", "web-1", "s3cret-agent-token",
                                                "db", "", 900 * kSec})
                    .ok());
  }
  host.AdvanceNs(30 * kSec);

  auto s = GatherStatus(host, options);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->now_ns, 1100 * kSec);
  EXPECT_TRUE(s->enrolled);
  EXPECT_EQ(s->collector, "http://127.0.0.1:1");
  EXPECT_EQ(s->host_id, "web-1");
  EXPECT_EQ(s->group, "db");
  EXPECT_EQ(s->enrolled_ns, 900 * kSec);
  EXPECT_FALSE(s->probe.checked);
  EXPECT_TRUE(Healthy(*s));
  EXPECT_EQ(s->outbox_pending, 2);
  EXPECT_EQ(s->outbox_rejected, 0);
  EXPECT_EQ(s->oldest_pending_ns, 1060 * kSec);
  ASSERT_TRUE(s->last_check.has_value());
  EXPECT_EQ(s->last_check->check.finished_ns, 1060 * kSec);
  EXPECT_EQ(s->last_check->counts.total, 2);
  EXPECT_EQ(s->last_check->counts.severities[static_cast<int>(Severity::kLow)], 2);
  ASSERT_EQ(s->baselines.size(), 1u);
  EXPECT_EQ(s->baselines[0].name, "default");
  EXPECT_EQ(s->baselines[0].revision, 1);
  EXPECT_EQ(s->baselines[0].created_ns, 1000 * kSec);

  // Port 1 on 127.0.0.1: nothing listens; the probe says so within its timeout.
  options.probe_collector = true;
  options.probe_timeout_ms = 1000;
  auto probed = GatherStatus(host, options);
  ASSERT_TRUE(probed.ok()) << probed.status().message();
  EXPECT_TRUE(probed->probe.checked);
  EXPECT_FALSE(probed->probe.reachable);
  EXPECT_THAT(probed->probe.error, HasSubstr("127.0.0.1:1"));
  EXPECT_THAT(probed->probe.error, ::testing::Not(HasSubstr("s3cret")));
  EXPECT_FALSE(Healthy(*probed));
}

TEST(AgentStatusTest, RealtimeStates) {
  TempDir dir;
  testutil::MemHost host;
  host.SetNowNs(1000 * kSec);
  const std::string db = dir / "agent.db";
  auto journal = agent::Journal::Open(host, db);
  ASSERT_TRUE(journal.ok()) << journal.status().message();
  StatusOptions options{db};
  auto summary = [&] {
    auto s = GatherStatus(host, options);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? RealtimeSummary(*s) : "";
  };
  EXPECT_EQ(summary(), "off (no realtime watcher has run)");
  ASSERT_TRUE((*journal)->EndEpoch("realtime is off: realtime: false in the configuration").ok());
  EXPECT_EQ(summary(), "off (realtime: false in the configuration)");
  ASSERT_TRUE((*journal)->BeginEpoch(host.NowNs(), 5 * kSec, 812, "r").ok());
  EXPECT_EQ(summary(),
            "on (watcher pid 812 since 1970-01-01T00:16:40Z); journal not valid: the watcher "
            "started at 1970-01-01T00:16:40Z; the next check walks everything");
  host.AdvanceNs(6 * kSec);
  EXPECT_EQ(summary(), "off (the watcher stopped answering)");
}

}  // namespace
}  // namespace driftwatch::report
