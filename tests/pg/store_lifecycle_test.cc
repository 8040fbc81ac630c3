// The fleet lifecycle on both FleetStore backends (store.h): tokens listed
// and revoked, re-enrollment with a reenroll token, hosts removed and
// renamed with everything they have.
#include <string>
#include <vector>

#include "core/drift_json.h"
#include "tests/pg/both_stores.h"
#include "tests/testing/container_row.h"

namespace driftwatch::collector {
namespace {

class StoreLifecycleTest : public BothStoresTest {
 protected:
  void Seed() override {
    ASSERT_TRUE(store_->EnrollHost("a", "web", "1", "sha-agent-a", 1, "").ok());
    ASSERT_TRUE(store_->EnrollHost("b", "db", "1", "sha-agent-b", 2, "").ok());
    ASSERT_TRUE(
        store_->IngestReport(Envelope("r-a", "a", 100), {AlertRoute{"page", Severity::kHigh, {}}})
            .ok());
    ASSERT_TRUE(
        store_->IngestReport(Envelope("r-b", "b", 200), {AlertRoute{"page", Severity::kHigh, {}}})
            .ok());
    ASSERT_TRUE(store_->QueueCommand("a", "check-now", 300).ok());
    ASSERT_TRUE(store_->QueueCommand("b", "check-now", 300).ok());
  }

  // A report of two events (high, low) with packages and containers.
  static ReportEnvelope Envelope(const std::string& id, const std::string& host, int64_t t) {
    ReportEnvelope env;
    env.report_id = id;
    env.host_id = host;
    env.agent_version = "1";
    env.received_ns = t;
    env.result.target = host;
    env.result.baseline = "default";
    env.result.baseline_revision = 1;
    env.result.started_ns = t - 10;
    env.result.finished_ns = t;
    for (Severity sev : {Severity::kHigh, Severity::kLow}) {
      DriftEvent e;
      e.path = "/etc/" + host + std::to_string(static_cast<int>(sev));
      e.kind = DriftKind::kAdded;
      e.severity = sev;
      env.result.events.push_back(e);
      env.events_json.push_back(DriftEventToJson(e).serialize());
    }
    PackageInventory pk;
    pk.list = {{"dpkg", "bash", "5.2", "amd64"}};
    pk.digest = HashBytes(PackageInventoryText(pk.list));
    pk.count = 1;
    pk.full = true;
    env.result.packages = pk;
    env.result.containers = std::vector<ContainerInfo>{
        testing::ContainerRow("c1", "id1", "docker", "nginx", "", false, 0)};
    return env;
  }

  std::vector<std::string> EventHosts(const std::string& host) {
    DriftQuery q;
    q.host = host;
    auto r = store_->QueryDrift(q);
    EXPECT_TRUE(r.ok()) << r.status().message();
    std::vector<std::string> out;
    if (r.ok()) {
      for (const EventRecord& e : *r) out.push_back(e.host_id);
    }
    return out;
  }
};

INSTANTIATE_TEST_SUITE_P(Stores, StoreLifecycleTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

TEST_P(StoreLifecycleTest, TokensAreListedWithIdsAndRevokedOnce) {
  ASSERT_TRUE(
      store_->AddToken("0123456789abcdefff", Role::kEnroll, "", 5, TokenLimits{3, 900}).ok());
  ASSERT_TRUE(
      store_->AddToken("fedcba9876543210ee", Role::kReenroll, "a", 6, TokenLimits{1, 0}).ok());
  auto all = store_->ListTokens();
  ASSERT_TRUE(all.ok()) << all.status().message();
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].id, "t_sha-agent-a");
  EXPECT_EQ((*all)[0].info.role, Role::kAgent);
  EXPECT_EQ((*all)[0].info.host_id, "a");
  EXPECT_EQ((*all)[0].created_ns, 1);
  EXPECT_EQ((*all)[1].id, "t_sha-agent-b");
  EXPECT_EQ((*all)[2].id, "t_0123456789ab");
  EXPECT_EQ((*all)[2].info.limits.uses_left, 3);
  EXPECT_EQ((*all)[2].info.limits.expires_ns, 900);
  EXPECT_EQ((*all)[3].id, "t_fedcba987654");
  EXPECT_EQ((*all)[3].info.role, Role::kReenroll);
  EXPECT_EQ((*all)[3].info.host_id, "a");

  ASSERT_TRUE(store_->TouchToken("sha-agent-a", 50).ok());
  ASSERT_TRUE(store_->TouchToken("sha-agent-a", 40).ok());  // never goes back
  EXPECT_EQ((*store_->LookupToken("sha-agent-a"))->last_used_ns, 50);

  auto revoked = store_->RevokeToken("t_0123456789ab", 70);
  ASSERT_TRUE(revoked.ok()) << revoked.status().message();
  EXPECT_EQ(*revoked, 70);
  EXPECT_EQ(*store_->RevokeToken("t_0123456789ab", 80), 70);
  EXPECT_EQ((*store_->LookupToken("0123456789abcdefff"))->revoked_ns, 70);
  EXPECT_EQ(store_->RevokeToken("t_nope", 80).status().code(), StatusCode::kNotFound);
  Status s = store_->EnrollHost("c", "", "1", "sha-agent-c", 90, "0123456789abcdefff");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "the enroll token was revoked");
}

TEST_P(StoreLifecycleTest, ReenrollTokenEnrollsItsHostAgainKeepingHistory) {
  ASSERT_TRUE(store_->AddToken("enroll", Role::kEnroll, "", 5, {}).ok());
  EXPECT_EQ(store_->EnrollHost("a", "web", "2", "sha-new", 400, "enroll").code(),
            StatusCode::kAlreadyExists);
  ASSERT_TRUE(store_->AddToken("re-b", Role::kReenroll, "b", 5, TokenLimits{1, 0}).ok());
  Status other = store_->EnrollHost("a", "web", "2", "sha-new", 400, "re-b");
  EXPECT_EQ(other.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(other.message(), "this re-enroll token is for host 'b'");

  ASSERT_TRUE(store_->AddToken("re-a", Role::kReenroll, "a", 5, TokenLimits{1, 0}).ok());
  ASSERT_TRUE(store_->EnrollHost("a", "edge", "2", "sha-new", 400, "re-a").ok());
  auto h = store_->GetHost("a");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->group, "edge");
  EXPECT_EQ(h->agent_version, "2");
  EXPECT_EQ(h->enrolled_ns, 1);
  EXPECT_EQ(h->reports, 1);
  EXPECT_EQ(h->events, 2);
  EXPECT_EQ(EventHosts("a"), (std::vector<std::string>{"a", "a"}));
  EXPECT_EQ((*store_->LookupToken("sha-agent-a"))->revoked_ns, 400);
  EXPECT_EQ((*store_->LookupToken("sha-new"))->revoked_ns, 0);
  EXPECT_EQ((*store_->LookupToken("sha-new"))->host_id, "a");
  EXPECT_EQ((*store_->LookupToken("re-a"))->limits.uses_left, 0);
  EXPECT_EQ(store_->EnrollHost("a", "edge", "2", "sha-newer", 401, "re-a").code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->ListCommands("a")->size(), 1u);
  EXPECT_EQ(store_->ListBaselines("a")->size(), 1u);
}

TEST_P(StoreLifecycleTest, RemoveDeletesTheHostsDataAndRevokesItsTokens) {
  auto before = store_->Counts();
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->events, 4);
  ASSERT_TRUE(store_->RemoveHost("a", 500).ok());
  EXPECT_EQ(store_->GetHost("a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->RemoveHost("a", 501).code(), StatusCode::kNotFound);
  EXPECT_TRUE(EventHosts("a").empty());
  EXPECT_EQ(EventHosts("b"), (std::vector<std::string>{"b", "b"}));
  auto after = store_->Counts();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->hosts, 1);
  EXPECT_EQ(after->events, 2);
  EXPECT_EQ(after->pending_commands, 1);
  auto summary = store_->Summary(600, 1000);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->events_by_severity,
            (std::vector<std::pair<Severity, int64_t>>{{Severity::kLow, 1},
                                                       {Severity::kMedium, 0},
                                                       {Severity::kHigh, 1},
                                                       {Severity::kCritical, 0}}));
  auto alerts = store_->DueAlerts(1000, 100);
  ASSERT_TRUE(alerts.ok());
  ASSERT_EQ(alerts->size(), 1u);  // b's high event only
  EXPECT_EQ((*alerts)[0].event.host_id, "b");
  auto images = store_->ListImages();
  ASSERT_TRUE(images.ok());
  ASSERT_EQ(images->size(), 1u);
  EXPECT_EQ((*images)[0].host_ids, (std::vector<std::string>{"b"}));
  EXPECT_EQ((*store_->LookupToken("sha-agent-a"))->revoked_ns, 500);
  EXPECT_EQ((*store_->LookupToken("sha-agent-b"))->revoked_ns, 0);
  // The name is free again: a new enrollment starts a new history.
  ASSERT_TRUE(store_->EnrollHost("a", "web", "3", "sha-agent-a2", 700, "").ok());
  EXPECT_EQ(store_->GetHost("a")->reports, 0);
  EXPECT_EQ(store_->GetInventory("a")->packages.size(), 0u);
  EXPECT_TRUE(store_->ListCommands("a")->empty());
}

TEST_P(StoreLifecycleTest, RenameMovesEverythingOfTheHost) {
  EXPECT_EQ(store_->RenameHost("a", "b").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->RenameHost("ghost", "c").code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->RenameHost("a", "a2").ok());
  EXPECT_EQ(store_->GetHost("a").status().code(), StatusCode::kNotFound);
  auto h = store_->GetHost("a2");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->reports, 1);
  EXPECT_EQ(h->group, "web");
  EXPECT_EQ(EventHosts("a2"), (std::vector<std::string>{"a2", "a2"}));
  EXPECT_TRUE(EventHosts("a").empty());
  EXPECT_EQ(store_->ListCommands("a2")->size(), 1u);
  EXPECT_EQ(store_->ListBaselines("a2")->size(), 1u);
  auto inv = store_->GetInventory("a2");
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->packages.size(), 1u);
  EXPECT_EQ(inv->containers.size(), 1u);
  EXPECT_EQ((*store_->LookupToken("sha-agent-a"))->host_id, "a2");
  EXPECT_EQ((*store_->TakeCommands("a2", 900)).size(), 1u);
  // Reports keep arriving under the new name.
  auto r = store_->IngestReport(Envelope("r-a2", "a2", 1000), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(store_->GetHost("a2")->reports, 2);
  // A duplicate of a report sent under the old name is still recognised.
  auto dup = store_->IngestReport(Envelope("r-a", "a2", 1100), {});
  ASSERT_TRUE(dup.ok()) << dup.status().message();
  EXPECT_TRUE(dup->duplicate);
}

}  // namespace
}  // namespace driftwatch::collector
