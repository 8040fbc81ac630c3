// FleetStore conformance for content (docs/collector.md): an event's diff
// is stored beside it and served by EventDiff, not in its listed body;
// restore commands carry their paths and options through queue, hand-out
// and listing. The same cases run on the SQLite store and on the
// PostgreSQL store (both_stores.h).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/drift_json.h"
#include "tests/pg/both_stores.h"

namespace driftwatch::collector {
namespace {

class StoreContentTest : public BothStoresTest {
 protected:
  void Seed() override {
    ASSERT_TRUE(store_->EnrollHost("h", "web", "1", "sha-h", 1, "").ok());
    ASSERT_TRUE(store_->EnrollHost("h2", "web", "1", "sha-2", 1, "").ok());
    ASSERT_TRUE(store_->EnrollHost("d", "db", "1", "sha-3", 1, "").ok());
  }

  static DriftEvent Event(const std::string& path, const std::string& diff,
                          const std::string& note) {
    DriftEvent e;
    e.path = path;
    e.kind = DriftKind::kModified;
    e.severity = Severity::kHigh;
    e.rule = "/etc/**";
    e.diff = diff;
    e.content_note = note;
    return e;
  }
};

TEST_P(StoreContentTest, DiffsAreStoredBesideTheirEvents) {
  // A diff at the cap with the truncation marker, and bytes a diff may
  // hold (tabs, a bidi control, CR).
  std::string big = "--- /etc/big\n+++ /etc/big\n@@ -1 +1 @@\n";
  while (big.size() < kMaxEventDiffBytes - 100) big += "+line\twith \u202e and \r\n";
  big += kDiffTruncatedMarker;
  const std::vector<DriftEvent> events = {
      Event("/etc/big", big, ""), Event("/etc/key", "", "redacted"), Event("/etc/plain", "", "")};
  ReportEnvelope env;
  env.report_id = "r1";
  env.host_id = "h";
  env.agent_version = "1.0";
  env.received_ns = 100;
  env.result.baseline = "default";
  env.result.baseline_revision = 1;
  env.result.started_ns = 90;
  env.result.finished_ns = 100;
  for (const DriftEvent& e : events) {
    env.result.events.push_back(e);
    DriftEvent listed = e;
    listed.diff.clear();
    env.events_json.push_back(DriftEventToJson(listed).serialize());
  }
  auto in = store_->IngestReport(env, {});
  ASSERT_TRUE(in.ok()) << in.status().message();
  const int64_t first = in->first_event_id;

  auto diff = store_->EventDiff(first);
  ASSERT_TRUE(diff.ok()) << diff.status().message();
  EXPECT_EQ(*diff, big);
  EXPECT_EQ(*store_->EventDiff(first + 1), "");
  EXPECT_EQ(*store_->EventDiff(first + 2), "");
  EXPECT_EQ(store_->EventDiff(first + 3).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->EventDiff(0).status().code(), StatusCode::kNotFound);

  // The listing returns the body as given: no diff in it.
  DriftQuery q;
  q.host = "h";
  auto listed = store_->QueryDrift(q);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 3u);
  for (const EventRecord& e : *listed) {
    EXPECT_EQ(e.event_json.find("\"diff\""), std::string::npos) << e.event_json;
  }

  // Removing the host removes its events' diffs.
  ASSERT_TRUE(store_->RemoveHost("h", 200).ok());
  EXPECT_EQ(store_->EventDiff(first).status().code(), StatusCode::kNotFound);
}

TEST_P(StoreContentTest, RestoreCommandsCarryTheirOptions) {
  CommandRecord r;
  r.paths = {"/etc/app.conf", "/etc/nginx/**", "/etc/odd\nname"};
  r.reason = "undo the edit";
  auto one = store_->QueueRestore("h", "", r, 10);
  ASSERT_TRUE(one.ok()) << one.status().message();
  EXPECT_EQ(*one, (std::vector<int64_t>{1}));
  EXPECT_EQ(store_->QueueRestore("ghost", "", r, 10).status().code(), StatusCode::kNotFound);

  CommandRecord all;
  all.all = true;
  all.remove_added = true;
  all.dry_run = true;
  all.reason = "drill";
  auto group = store_->QueueRestore("", "web", all, 20);
  ASSERT_TRUE(group.ok());
  EXPECT_EQ(*group, (std::vector<int64_t>{2, 3}));
  auto every = store_->QueueRestore("", "", all, 30);
  EXPECT_EQ(*every, (std::vector<int64_t>{4, 5, 6}));
  EXPECT_TRUE(store_->QueueRestore("", "nobody", all, 30)->empty());

  auto taken = store_->TakeCommands("h", 100);
  ASSERT_TRUE(taken.ok());
  ASSERT_EQ(taken->size(), 3u);
  const CommandRecord& c = (*taken)[0];
  EXPECT_EQ(c.kind, "restore");
  EXPECT_EQ(c.paths, r.paths);
  EXPECT_FALSE(c.all);
  EXPECT_FALSE(c.remove_added);
  EXPECT_FALSE(c.dry_run);
  EXPECT_EQ(c.reason, "undo the edit");
  const CommandRecord& g = (*taken)[1];
  EXPECT_EQ(g.id, 2);
  EXPECT_TRUE(g.paths.empty());
  EXPECT_TRUE(g.all);
  EXPECT_TRUE(g.remove_added);
  EXPECT_TRUE(g.dry_run);
  EXPECT_EQ(g.reason, "drill");

  CommandAck ack;
  ack.ok = false;
  ack.detail = "allow_remote_restore is off in agent.yaml";
  ASSERT_TRUE(store_->AckCommand("h", 1, ack, 110).ok());
  auto list = store_->ListCommands("h");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].reason, "undo the edit");
  EXPECT_EQ((*list)[0].detail, "allow_remote_restore is off in agent.yaml");
  EXPECT_FALSE((*list)[0].ok);
  EXPECT_TRUE((*list)[1].dry_run);
  // Other kinds carry no restore options.
  ASSERT_TRUE(store_->QueueCommand("h2", "baseline", 40).ok());
  auto h2 = store_->ListCommands("h2");
  ASSERT_TRUE(h2.ok());
  EXPECT_EQ(h2->back().kind, "baseline");
  EXPECT_FALSE(h2->back().all);
  EXPECT_EQ(h2->back().reason, "");
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContentTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace driftwatch::collector
