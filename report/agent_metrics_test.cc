#include "report/agent_metrics.h"

#include <gtest/gtest.h>

namespace driftwatch::report {
namespace {

constexpr int64_t kSec = 1000000000;

TEST(AgentMetricsTest, TextfileOfTheLastCheck) {
  AgentFigures f;
  f.check_finished_ns = 1796432523 * kSec + kSec / 2;
  f.check_duration_ns = 1250 * 1000000;
  f.check_result = kCheckDrift;
  f.drift = {0, 1, 3, 0};
  f.outbox_reports = 2;
  f.outbox_oldest_ns = 1796432400 * kSec;
  f.now_ns = 1796432524 * kSec;
  EXPECT_EQ(RenderAgentMetrics(f),
            "# HELP driftwatch_agent_build_info The agent's version; always 1.\n"
            "# TYPE driftwatch_agent_build_info gauge\n"
            "driftwatch_agent_build_info{version=\"" DRIFTWATCH_VERSION
            "\"} 1\n"
            "# HELP driftwatch_agent_last_check_timestamp_seconds When the last check finished, "
            "in seconds since the epoch.\n"
            "# TYPE driftwatch_agent_last_check_timestamp_seconds gauge\n"
            "driftwatch_agent_last_check_timestamp_seconds 1796432523.5\n"
            "# HELP driftwatch_agent_last_check_duration_seconds How long the last check took.\n"
            "# TYPE driftwatch_agent_last_check_duration_seconds gauge\n"
            "driftwatch_agent_last_check_duration_seconds 1.25\n"
            "# HELP driftwatch_agent_last_check_result The last check's result: 0 no drift, 1 "
            "drift, 2 failed.\n"
            "# TYPE driftwatch_agent_last_check_result gauge\n"
            "driftwatch_agent_last_check_result 1\n"
            "# HELP driftwatch_agent_last_check_drift_events Drift events the last check "
            "reported, by severity.\n"
            "# TYPE driftwatch_agent_last_check_drift_events gauge\n"
            "driftwatch_agent_last_check_drift_events{severity=\"low\"} 0\n"
            "driftwatch_agent_last_check_drift_events{severity=\"medium\"} 1\n"
            "driftwatch_agent_last_check_drift_events{severity=\"high\"} 3\n"
            "driftwatch_agent_last_check_drift_events{severity=\"critical\"} 0\n"
            "# HELP driftwatch_agent_outbox_reports Reports in the outbox waiting for delivery "
            "to the collector.\n"
            "# TYPE driftwatch_agent_outbox_reports gauge\n"
            "driftwatch_agent_outbox_reports 2\n"
            "# HELP driftwatch_agent_outbox_oldest_age_seconds Age of the oldest report in the "
            "outbox; 0 when it is empty.\n"
            "# TYPE driftwatch_agent_outbox_oldest_age_seconds gauge\n"
            "driftwatch_agent_outbox_oldest_age_seconds 124\n");
}

TEST(AgentMetricsTest, TreeSyncFiguresOnceASyncWasAttempted) {
  AgentFigures f;
  const std::string without = RenderAgentMetrics(f);
  EXPECT_EQ(without.find("tree_sync"), std::string::npos);
  f.tree_sync_attempted = true;
  f.tree_objects_sent = 4;
  f.tree_bytes_sent = 1234;
  const std::string with = RenderAgentMetrics(f);
  EXPECT_EQ(with.substr(0, without.size()), without);
  EXPECT_EQ(with.substr(without.size()),
            "# HELP driftwatch_agent_last_tree_sync_result The host tree's last sync to the "
            "collector: 0 synced, 1 failed.\n"
            "# TYPE driftwatch_agent_last_tree_sync_result gauge\n"
            "driftwatch_agent_last_tree_sync_result 0\n"
            "# HELP driftwatch_agent_last_tree_sync_objects_sent Tree objects the last sync "
            "uploaded (the collector lacked them).\n"
            "# TYPE driftwatch_agent_last_tree_sync_objects_sent gauge\n"
            "driftwatch_agent_last_tree_sync_objects_sent 4\n"
            "# HELP driftwatch_agent_last_tree_sync_bytes_sent Request bytes the last sync sent: "
            "offers, objects and the root.\n"
            "# TYPE driftwatch_agent_last_tree_sync_bytes_sent gauge\n"
            "driftwatch_agent_last_tree_sync_bytes_sent 1234\n");
  f.tree_sync_failed = true;
  EXPECT_NE(RenderAgentMetrics(f).find("driftwatch_agent_last_tree_sync_result 1\n"),
            std::string::npos);
}

}  // namespace
}  // namespace driftwatch::report
