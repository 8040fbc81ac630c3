// FleetStore conformance for host inventories, baseline revisions, fleet
// images and accept commands: the same cases on the SQLite store and on the
// PostgreSQL store (a throw-away cluster, pg_cluster.h).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <memory>
#include <string>

#include "collector/pg_store.h"
#include "collector/sqlite_store.h"
#include "core/drift_json.h"
#include "tests/pg/both_stores.h"
#include "tests/testing/container_row.h"

namespace driftwatch::collector {
namespace {

class StoreInventoryTest : public BothStoresTest {
 protected:
  void Seed() override {
    ASSERT_TRUE(store_->EnrollHost("h1", "web", "1", "sha-1", 1, "").ok());
    ASSERT_TRUE(store_->EnrollHost("h2", "web", "1", "sha-2", 1, "").ok());
  }

  static ReportEnvelope Envelope(const std::string& id, const std::string& host, int64_t t,
                                 int64_t revision) {
    ReportEnvelope env;
    env.report_id = id;
    env.host_id = host;
    env.agent_version = "1.0";
    env.received_ns = t;
    env.result.target = host;
    env.result.baseline = "default";
    env.result.baseline_revision = revision;
    env.result.baseline_root = HashBytes("root" + std::to_string(revision));
    env.result.started_ns = t - 10;
    env.result.finished_ns = t;
    return env;
  }
};

TEST_P(StoreInventoryTest, InventoryIsReplacedPerReport) {
  auto empty = store_->GetInventory("h1");
  ASSERT_TRUE(empty.ok()) << empty.status().message();
  EXPECT_EQ(empty->packages_digest, "");
  EXPECT_FALSE(empty->containers_known);
  EXPECT_EQ(store_->GetInventory("ghost").status().code(), StatusCode::kNotFound);

  ReportEnvelope env = Envelope("r1", "h1", 1000, 1);
  env.result.interval_ns = 300;
  env.result.containers = std::vector<ContainerInfo>{
      testing::ContainerRow("web", "c1", "driftwatch", "nginx", "d1", true, 3),
      testing::ContainerRow("o'dd \"name\"", "c2", "docker", "", "", false, 0)};
  PackageInventory pk;
  pk.list = {{"rpm", "kernel", "6.1", "x86_64"}, {"rpm", "kernel", "6.2", "x86_64"}};
  pk.digest = HashBytes(PackageInventoryText(pk.list));
  pk.count = 2;
  pk.full = true;
  env.result.packages = pk;
  auto r = store_->IngestReport(env, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->packages_needed);
  auto inv = store_->GetInventory("h1");
  ASSERT_TRUE(inv.ok()) << inv.status().message();
  EXPECT_EQ(inv->packages_digest, pk.digest.Hex());
  EXPECT_EQ(inv->packages_count, 2);
  EXPECT_EQ(inv->packages_ns, 1000);
  EXPECT_EQ(inv->packages, pk.list);  // same name twice (two kernels) is kept
  EXPECT_TRUE(inv->containers_known);
  ASSERT_EQ(inv->containers.size(), 2u);
  EXPECT_EQ(inv->containers[0].name, "web");
  EXPECT_EQ(inv->containers[0].events, 3);
  EXPECT_TRUE(inv->containers[0].drift_known);
  EXPECT_EQ(inv->containers[1].name, "o'dd \"name\"");
  EXPECT_EQ(inv->containers[1].runtime, "docker");
  EXPECT_FALSE(inv->containers[1].drift_known);
  EXPECT_EQ(store_->GetHost("h1")->interval_ns, 300);

  // Digest only: a known digest keeps everything, an unknown one asks.
  ReportEnvelope same = Envelope("r2", "h1", 2000, 1);
  same.result.packages = pk;
  same.result.packages->full = false;
  same.result.packages->list.clear();
  r = store_->IngestReport(same, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->packages_needed);
  ReportEnvelope other = Envelope("r3", "h1", 3000, 1);
  other.result.packages = same.result.packages;
  other.result.packages->digest = HashBytes("something else");
  other.result.containers = std::vector<ContainerInfo>{};
  r = store_->IngestReport(other, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->packages_needed);
  // A duplicate report changes nothing and asks for nothing.
  r = store_->IngestReport(other, {});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->duplicate);
  inv = store_->GetInventory("h1");
  EXPECT_EQ(inv->packages, pk.list);
  EXPECT_EQ(inv->packages_ns, 1000);
  EXPECT_TRUE(inv->containers.empty());
  EXPECT_EQ(inv->containers_ns, 3000);
  EXPECT_EQ(store_->GetHost("h1")->interval_ns, 300);  // not said: kept
}

TEST_P(StoreInventoryTest, BaselineRevisionsAndImages) {
  ReportEnvelope a = Envelope("r1", "h1", 1000, 1);
  a.result.containers = std::vector<ContainerInfo>{
      testing::ContainerRow("web", "c1", "driftwatch", "nginx", "d1", true, 1),
      testing::ContainerRow("api", "c2", "driftwatch", "app", "d9", true, 0)};
  ASSERT_TRUE(store_->IngestReport(a, {}).ok());
  ASSERT_TRUE(store_->IngestReport(Envelope("r2", "h1", 2000, 1), {}).ok());
  ReportEnvelope b = Envelope("r3", "h2", 2500, 4);
  b.result.containers = std::vector<ContainerInfo>{
      testing::ContainerRow("web", "c3", "docker", "nginx", "d1", true, 0),
      testing::ContainerRow("web2", "c4", "docker", "nginx", "d2", true, 2)};
  ASSERT_TRUE(store_->IngestReport(b, {}).ok());
  ASSERT_TRUE(store_->QueueCommand("h1", "baseline", 2600).ok());
  ASSERT_EQ(store_->TakeCommands("h1", 2650)->size(), 1u);
  CommandAck ack;
  ack.ok = true;
  ack.baseline = "default";
  ack.baseline_revision = 2;
  ack.baseline_created_ns = 2700;
  ack.baseline_root = HashBytes("root2");
  ASSERT_TRUE(store_->AckCommand("h1", 1, ack, 2800).ok());
  ASSERT_TRUE(store_->IngestReport(Envelope("r4", "h1", 3000, 2), {}).ok());

  auto revs = store_->ListBaselines("h1");
  ASSERT_TRUE(revs.ok()) << revs.status().message();
  ASSERT_EQ(revs->size(), 2u);
  const BaselineRevision& r2 = (*revs)[0];
  EXPECT_EQ(r2.name, "default");
  EXPECT_EQ(r2.revision, 2);
  EXPECT_EQ(r2.root, HashBytes("root2"));
  EXPECT_EQ(r2.since_ns, 2700);
  EXPECT_EQ(r2.first_seen_ns, 2800);
  EXPECT_EQ(r2.last_seen_ns, 3000);
  const BaselineRevision& r1 = (*revs)[1];
  EXPECT_EQ(r1.revision, 1);
  EXPECT_EQ(r1.root, HashBytes("root1"));
  EXPECT_EQ(r1.since_ns, 990);
  EXPECT_EQ(r1.first_seen_ns, 1000);
  EXPECT_EQ(r1.last_seen_ns, 2000);
  EXPECT_EQ(store_->ListBaselines("h2")->size(), 1u);
  EXPECT_EQ(store_->ListBaselines("ghost").status().code(), StatusCode::kNotFound);

  auto images = store_->ListImages();
  ASSERT_TRUE(images.ok()) << images.status().message();
  ASSERT_EQ(images->size(), 3u);
  EXPECT_EQ((*images)[0].image, "app");
  EXPECT_EQ((*images)[0].hosts, 1);
  EXPECT_EQ((*images)[1].image, "nginx");
  EXPECT_EQ((*images)[1].digest, "d1");
  EXPECT_EQ((*images)[1].hosts, 2);
  EXPECT_EQ((*images)[1].containers, 2);
  EXPECT_EQ((*images)[1].drifted, 1);
  EXPECT_EQ((*images)[1].host_ids, (std::vector<std::string>{"h1", "h2"}));
  EXPECT_EQ((*images)[2].digest, "d2");
  EXPECT_EQ((*images)[2].drifted, 1);
}

TEST_P(StoreInventoryTest, AcceptCommandsCarryRawPaths) {
  const std::vector<std::string> paths = {"/etc/a b", std::string("/etc/\xff\n"), "/etc/x[1]"};
  auto id = store_->QueueAccept("h1", paths, 100);
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_EQ(store_->QueueAccept("ghost", paths, 100).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->QueueCommand("h1", "check-now", 101).ok());
  auto taken = store_->TakeCommands("h1", 200);
  ASSERT_TRUE(taken.ok()) << taken.status().message();
  ASSERT_EQ(taken->size(), 2u);
  EXPECT_EQ((*taken)[0].id, *id);
  EXPECT_EQ((*taken)[0].kind, "accept");
  EXPECT_EQ((*taken)[0].paths, paths);
  EXPECT_TRUE((*taken)[1].paths.empty());
  auto listed = store_->ListCommands("h1");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ((*listed)[0].paths, paths);
}

// Text that array literals treat specially (quotes, backslashes, braces,
// commas, NULL, blanks) comes back unchanged: PostgreSQL stores a report's
// events and inventory lists as arrays in one statement each.
TEST_P(StoreInventoryTest, ListTextRoundTripsUnchanged) {
  const std::vector<std::string> odd = {"\"q\"", "back\\slash\\", "{a,b}", "NULL",
                                        "",      " sp ace ",      "a,b",   "\xc3\xa9t\xc3\xa9",
                                        "x\ny"};
  ReportEnvelope env = Envelope("r1", "h1", 1000, 1);
  for (size_t i = 0; i < odd.size(); ++i) {
    DriftEvent e;
    e.path = "/etc/" + odd[i];
    e.kind = DriftKind::kAdded;
    e.severity = Severity::kCritical;
    env.result.events.push_back(e);
    // Bodies are stored as given (JSON with quotes and escapes on the wire).
    env.events_json.push_back("{\"i\":" + std::to_string(i) + ",\"s\":\"" + odd[i] + "\"}");
  }
  std::vector<ContainerInfo> containers;
  PackageInventory pk;
  for (const std::string& t : odd) {
    containers.push_back(testing::ContainerRow(t, t + "id", t, t, t, !t.empty(), 1));
    pk.list.push_back({t, t, t, t});
  }
  env.result.containers = containers;
  pk.digest = HashBytes(PackageInventoryText(pk.list));
  pk.count = static_cast<int64_t>(pk.list.size());
  pk.full = true;
  env.result.packages = pk;
  // A route limited to a group named like an array literal does not match.
  auto r = store_->IngestReport(env, {{"odd", Severity::kLow, {"{web}"}}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->events, static_cast<int64_t>(odd.size()));
  EXPECT_EQ(r->first_event_id, 1);

  DriftQuery q;
  q.page.newest_first = false;
  auto events = store_->QueryDrift(q);
  ASSERT_TRUE(events.ok()) << events.status().message();
  ASSERT_EQ(events->size(), odd.size());
  for (size_t i = 0; i < odd.size(); ++i) {
    EXPECT_EQ((*events)[i].id, static_cast<int64_t>(i) + 1);
    EXPECT_EQ((*events)[i].event_json, env.events_json[i]);
  }
  auto history = store_->PathHistory("/etc/{a,b}", EventPageQuery{});
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ(history->front().id, 3);
  auto inv = store_->GetInventory("h1");
  ASSERT_TRUE(inv.ok()) << inv.status().message();
  EXPECT_EQ(inv->packages, pk.list);
  ASSERT_EQ(inv->containers.size(), odd.size());
  for (size_t i = 0; i < odd.size(); ++i) {
    EXPECT_EQ(inv->containers[i].name, odd[i]);
    EXPECT_EQ(inv->containers[i].id, odd[i] + "id");
    EXPECT_EQ(inv->containers[i].image_digest, odd[i]);
    EXPECT_EQ(inv->containers[i].drift_known, !odd[i].empty());
  }
  EXPECT_TRUE(store_->DueAlerts(2000, 100)->empty());
  EXPECT_EQ(store_->Counts()->events, static_cast<int64_t>(odd.size()));
}

ContainerInfo Identified(std::string name, std::string id, std::string runtime, std::string image,
                         std::string digest, int64_t events,
                         std::vector<std::pair<std::string, std::string>> labels) {
  ContainerInfo c = testing::ContainerRow(std::move(name), std::move(id), std::move(runtime),
                                          std::move(image), std::move(digest), true, events);
  c.image_id = "sha256:" + std::string(64, 'a');
  c.image_tree = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
  c.labels = std::move(labels);
  c.started_ns = 1764928800500000000;
  c.pid = 4242;
  c.excluded = {"/data", "/run/secrets"};
  return c;
}

std::vector<std::pair<std::string, std::string>> Pod(const std::string& ns, const std::string& pod,
                                                     const std::string& container) {
  return {{"io.kubernetes.container.name", container},
          {"io.kubernetes.pod.name", pod},
          {"io.kubernetes.pod.namespace", ns}};
}

// Every identity field of a container comes back as it was sent, odd text
// included (labels and excluded paths are stored as JSON text).
TEST_P(StoreInventoryTest, ContainerIdentityRoundTrips) {
  ContainerInfo full = Identified("web-1", "9c0d", "docker", "busybox:latest", "sha256:3fbc", 2,
                                  {{"a\"b", "{x,y}"}, {"app", "w\\eb"}, {"empty", ""}});
  full.excluded = {"/data", std::string("/odd\xff\n"), "/x,y"};
  full.note = "image layers: 'overlay2' \"unreadable\"";
  ContainerInfo bare =
      testing::ContainerRow("podman:0123456789ab", "0123456789abcdef", "podman", "", "", false, 0);
  ReportEnvelope env = Envelope("r1", "h1", 1000, 1);
  env.result.containers = std::vector<ContainerInfo>{full, bare};
  ASSERT_TRUE(store_->IngestReport(env, {}).ok());
  auto inv = store_->GetInventory("h1");
  ASSERT_TRUE(inv.ok()) << inv.status().message();
  EXPECT_EQ(inv->containers, (std::vector<ContainerInfo>{full, bare}));

  // A later report with fewer containers leaves no row of the earlier one.
  ReportEnvelope next = Envelope("r2", "h1", 2000, 1);
  next.result.containers = std::vector<ContainerInfo>{bare};
  ASSERT_TRUE(store_->IngestReport(next, {}).ok());
  inv = store_->GetInventory("h1");
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->containers, (std::vector<ContainerInfo>{bare}));
}

TEST_P(StoreInventoryTest, FleetContainersFilteredAndPaged) {
  ReportEnvelope a = Envelope("r1", "h1", 1000, 1);
  a.result.containers = std::vector<ContainerInfo>{
      Identified("web-1", "d1", "docker", "busybox:latest", "sha256:aa", 1, {}),
      Identified("shop-web/nginx", "k1", "containerd", "nginx:1.25", "sha256:bb", 0,
                 Pod("shop", "shop-web", "nginx")),
      Identified("shop-web/sidecar", "k2", "containerd", "envoy", "sha256:cc", 3,
                 Pod("shop", "shop-web", "sidecar"))};
  ASSERT_TRUE(store_->IngestReport(a, {}).ok());
  ReportEnvelope b = Envelope("r2", "h2", 1500, 1);
  b.result.containers = std::vector<ContainerInfo>{
      Identified("db", "p1", "podman", "busybox:latest", "sha256:aa", 0, {}),
      Identified("kube-dns/coredns", "k3", "containerd", "coredns", "sha256:dd", 0,
                 Pod("kube-system", "kube-dns", "coredns"))};
  ASSERT_TRUE(store_->IngestReport(b, {}).ok());

  auto ids = [&](const ContainerQuery& q) {
    std::vector<std::string> out;
    auto rows = store_->ListContainers(q);
    EXPECT_TRUE(rows.ok()) << rows.status().message();
    if (!rows.ok()) return out;
    for (const FleetContainer& r : *rows) {
      out.push_back(r.host_id + "/" + std::to_string(r.pos) + ":" + r.info.id);
    }
    return out;
  };
  ContainerQuery q;
  EXPECT_EQ(ids(q),
            (std::vector<std::string>{"h1/0:d1", "h1/1:k1", "h1/2:k2", "h2/0:p1", "h2/1:k3"}));
  auto all = store_->ListContainers(q);
  ASSERT_TRUE(all.ok());
  const FleetContainer& k1 = (*all)[1];
  EXPECT_EQ(k1.info, a.result.containers->at(1));
  EXPECT_EQ(k1.k8s_namespace, "shop");
  EXPECT_EQ(k1.k8s_pod, "shop-web");
  EXPECT_EQ(k1.k8s_container, "nginx");
  EXPECT_EQ((*all)[0].k8s_namespace, "");

  ContainerQuery image;
  image.image = "busybox:latest";
  EXPECT_EQ(ids(image), (std::vector<std::string>{"h1/0:d1", "h2/0:p1"}));
  image.digest = "sha256:zz";
  EXPECT_TRUE(ids(image).empty());
  ContainerQuery runtime;
  runtime.runtime = "containerd";
  runtime.host = "h1";
  EXPECT_EQ(ids(runtime), (std::vector<std::string>{"h1/1:k1", "h1/2:k2"}));
  ContainerQuery ns;
  ns.k8s_namespace = "shop";
  ns.drifted = true;
  EXPECT_EQ(ids(ns), (std::vector<std::string>{"h1/2:k2"}));
  ns.drifted = false;
  EXPECT_EQ(ids(ns), (std::vector<std::string>{"h1/1:k1"}));
  ContainerQuery pod;
  pod.k8s_pod = "kube-dns";
  EXPECT_EQ(ids(pod), (std::vector<std::string>{"h2/1:k3"}));
  ContainerQuery k8s;
  k8s.kubernetes_only = true;
  EXPECT_EQ(ids(k8s), (std::vector<std::string>{"h1/1:k1", "h1/2:k2", "h2/1:k3"}));
  ContainerQuery clean;
  clean.drifted = false;
  EXPECT_EQ(ids(clean), (std::vector<std::string>{"h1/1:k1", "h2/0:p1", "h2/1:k3"}));

  // Pages of two, each strictly after the last row of the one before.
  ContainerQuery page;
  page.limit = 2;
  EXPECT_EQ(ids(page), (std::vector<std::string>{"h1/0:d1", "h1/1:k1"}));
  page.after = std::make_pair(std::string("h1"), int64_t{1});
  EXPECT_EQ(ids(page), (std::vector<std::string>{"h1/2:k2", "h2/0:p1"}));
  page.after = std::make_pair(std::string("h2"), int64_t{0});
  EXPECT_EQ(ids(page), (std::vector<std::string>{"h2/1:k3"}));
  page.after = std::make_pair(std::string("h2"), int64_t{1});
  EXPECT_TRUE(ids(page).empty());

  // Images across every runtime: runtimes, image ids and trees.
  auto images = store_->ListImages();
  ASSERT_TRUE(images.ok()) << images.status().message();
  ASSERT_EQ(images->size(), 4u);
  const ImageUsage& busybox = (*images)[0];
  EXPECT_EQ(busybox.image, "busybox:latest");
  EXPECT_EQ(busybox.containers, 2);
  EXPECT_EQ(busybox.drifted, 1);
  EXPECT_EQ(busybox.host_ids, (std::vector<std::string>{"h1", "h2"}));
  EXPECT_EQ(busybox.runtimes, (std::vector<RuntimeCount>{{"docker", 1, 1}, {"podman", 1, 0}}));
  EXPECT_EQ(busybox.image_ids, (std::vector<std::string>{"sha256:" + std::string(64, 'a')}));
  EXPECT_EQ(busybox.image_trees, (std::vector<std::string>{"0f1e2d3c4b5a69788796a5b4c3d2e1f0"}));
  EXPECT_EQ((*images)[1].image, "coredns");
  EXPECT_EQ((*images)[1].runtimes, (std::vector<RuntimeCount>{{"containerd", 1, 0}}));
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreInventoryTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace driftwatch::collector
