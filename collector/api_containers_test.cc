// The fleet's containers over the API: GET /containers, GET /kubernetes,
// /images across runtimes, and drift events naming their container.
#include <cpprest/json.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "collector/api_test_fixture.h"
#include "tests/testing/container_row.h"

namespace driftwatch::collector {
namespace {

using web::json::value;

constexpr const char* kTreeA = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
constexpr const char* kTreeB = "ffeeddccbbaa99887766554433221100";

ContainerInfo Ctr(std::string name, std::string id, std::string runtime, std::string image,
                  std::string digest, int64_t events, std::string tree,
                  std::vector<std::pair<std::string, std::string>> labels = {}) {
  ContainerInfo c = testing::ContainerRow(std::move(name), std::move(id), std::move(runtime),
                                          std::move(image), std::move(digest), true, events);
  c.image_tree = std::move(tree);
  c.labels = std::move(labels);
  return c;
}

std::vector<std::pair<std::string, std::string>> Pod(const std::string& ns, const std::string& pod,
                                                     const std::string& container) {
  return {{"io.kubernetes.container.name", container},
          {"io.kubernetes.pod.name", pod},
          {"io.kubernetes.pod.namespace", ns}};
}

class ApiContainersTest : public ApiTest {
 protected:
  std::string Post(const std::string& token, const std::string& id, const std::string& host,
                   int64_t finished, std::optional<std::vector<ContainerInfo>> containers,
                   const std::vector<DriftEvent>& events, const std::string& source = "") {
    CheckResult r;
    r.target = host;
    r.baseline = "default";
    r.baseline_revision = 1;
    r.started_ns = finished - 1000;
    r.finished_ns = finished;
    r.containers = std::move(containers);
    r.events = events;
    r.source = source;
    value v = CheckResultToJson(r);
    v["format"] = value::number(1);
    v["report_id"] = value(id);
    v["host_id"] = value(host);
    v["agent_version"] = value("test");
    HttpResponse resp = Call("POST", "/api/v1/reports", token, v.serialize());
    EXPECT_EQ(resp.status, 200) << resp.body;
    return resp.body;
  }

  // node-1: a Kubernetes pod of two containers (containerd), a Docker and
  // a driftwatch container; node-2: Podman and Docker running busybox
  // built differently (another tree), and a pod of another namespace.
  void Seed() {
    w1_ = Enroll("node-1", "k8s");
    w2_ = Enroll("node-2", "k8s");
    Post(w1_, kId1, "node-1", kT0,
         std::vector<ContainerInfo>{
             Ctr("shop-web/nginx", "a1", "containerd", "nginx:1.25", "sha256:n1", 1, kTreeA,
                 Pod("shop", "shop-web", "nginx")),
             Ctr("shop-web/envoy", "a2", "containerd", "envoy:1.29", "sha256:e1", 0, kTreeA,
                 Pod("shop", "shop-web", "envoy")),
             Ctr("web-1", "d1", "docker", "busybox:latest", "sha256:b1", 2, kTreeA),
             Ctr("api", "x1", "driftwatch", "app", "d9", 0, "")},
         {Event("container:containerd:shop-web/nginx:/etc/nginx/nginx.conf", DriftKind::kModified,
                Severity::kHigh),
          Event("container:docker:web-1:/etc/hosts.allow", DriftKind::kAdded, Severity::kMedium),
          Event("container:docker:web-1:/etc/motd", DriftKind::kRemoved, Severity::kLow),
          Event("/etc/passwd", DriftKind::kModified, Severity::kHigh)});
    Post(w2_, kId2, "node-2", kT0 + 1,
         std::vector<ContainerInfo>{
             Ctr("db", "p1", "podman", "busybox:latest", "sha256:b1", 0, kTreeB),
             Ctr("dns/coredns", "a3", "containerd", "coredns:1.11", "sha256:c1", 0, kTreeA,
                 Pod("kube-system", "dns", "coredns"))},
         {});
  }

  std::string w1_, w2_;
};

TEST_F(ApiContainersTest, ListsContainersFleetWideWithFilters) {
  Seed();
  HttpResponse r = Call("GET", "/api/v1/containers?namespace=shop&drifted=true", read_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body,
            R"({"containers":[{"drift_known":true,"drifted":true,"events":1,"host":"node-1",)"
            R"("id":"a1","image":"nginx:1.25","image_digest":"sha256:n1",)"
            R"("image_tree":"0f1e2d3c4b5a69788796a5b4c3d2e1f0","labels":{)"
            R"("io.kubernetes.container.name":"nginx","io.kubernetes.pod.name":"shop-web",)"
            R"("io.kubernetes.pod.namespace":"shop"},"name":"shop-web/nginx","namespace":"shop",)"
            R"("pod":"shop-web","pod_container":"nginx","runtime":"containerd"}],)"
            R"("next_after":null})");
  auto names = [&](const std::string& query) {
    HttpResponse resp = Call("GET", "/api/v1/containers" + query, read_);
    EXPECT_EQ(resp.status, 200) << resp.body;
    std::string out;
    const value body = value::parse(resp.body);
    if (!body.has_array_field("containers")) return "no containers: " + resp.body;
    for (const value& c : body.at("containers").as_array()) {
      out += (out.empty() ? "" : " ") + c.at("host").as_string() + ":" + c.at("name").as_string();
    }
    return out;
  };
  EXPECT_EQ(names(""),
            "node-1:shop-web/nginx node-1:shop-web/envoy node-1:web-1 node-1:api node-2:db "
            "node-2:dns/coredns");
  EXPECT_EQ(names("?image=busybox:latest"), "node-1:web-1 node-2:db");
  EXPECT_EQ(names("?image=busybox:latest&digest=sha256:b1&runtime=podman"), "node-2:db");
  EXPECT_EQ(names("?pod=dns"), "node-2:dns/coredns");
  EXPECT_EQ(names("?host=node-2&drifted=false"), "node-2:db node-2:dns/coredns");
  EXPECT_EQ(names("?drifted=true"), "node-1:shop-web/nginx node-1:web-1");
  EXPECT_EQ(names("?runtime=cri-o"), "");
  EXPECT_EQ(names("?host=nobody"), "");

  // Pages: next_after continues strictly after the page's last container.
  value page = value::parse(Call("GET", "/api/v1/containers?limit=4", read_).body);
  ASSERT_EQ(page["containers"].size(), 4u);
  EXPECT_EQ(page["next_after"].as_string(), "node-1/3");
  EXPECT_EQ(names("?limit=4&after=node-1/3"), "node-2:db node-2:dns/coredns");
  EXPECT_TRUE(value::parse(Call("GET", "/api/v1/containers?limit=2&after=node-1/3", read_).body)
                  .at("next_after")
                  .is_null());

  auto error = [&](const std::string& query) {
    HttpResponse resp = Call("GET", "/api/v1/containers" + query, read_);
    const value body = value::parse(resp.body);
    if (!body.has_string_field("detail")) return std::to_string(resp.status) + " " + resp.body;
    return std::to_string(resp.status) + " " + body.at("detail").as_string();
  };
  EXPECT_EQ(error("?drifted=yes"), "400 drifted: expected true or false, got 'yes'");
  EXPECT_EQ(error("?color=red"), "400 unknown query parameter 'color'");
  EXPECT_EQ(error("?limit=0"), "400 limit: expected a positive integer");
  EXPECT_EQ(error("?after=node-1"),
            "400 after: not a next_after value of this API (HOST/POSITION); start without it");
  EXPECT_EQ(error("?after=node-1/x"),
            "400 after: not a next_after value of this API (HOST/POSITION); start without it");
  EXPECT_EQ(error("?after=no%20host/1"),
            "400 after: not a next_after value of this API (HOST/POSITION); start without it");
  EXPECT_EQ(error("?host=no%20such"), "400 host: expected 1-128 characters of A-Z a-z 0-9 . _ -");
  EXPECT_EQ(Call("GET", "/api/v1/containers", enroll_).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/containers", w1_).status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/containers", admin_, "{}").status, 405);
  EXPECT_EQ(Call("GET", "/api/v1/containers", "").status, 401);
}

TEST_F(ApiContainersTest, KubernetesGroupsNamespacesPodsContainers) {
  Seed();
  HttpResponse r = Call("GET", "/api/v1/kubernetes", read_);
  ASSERT_EQ(r.status, 200) << r.body;
  const value v = value::parse(r.body);
  EXPECT_EQ(v.at("containers").as_integer(), 3);
  EXPECT_FALSE(v.at("truncated").as_bool());
  const auto& nss = v.at("namespaces").as_array();
  ASSERT_EQ(nss.size(), 2u);
  EXPECT_EQ(nss.at(0).at("namespace").as_string(), "kube-system");
  EXPECT_EQ(nss.at(0).at("containers").as_integer(), 1);
  EXPECT_EQ(nss.at(0).at("drifted").as_integer(), 0);
  const value& shop = nss.at(1);
  EXPECT_EQ(shop.at("namespace").as_string(), "shop");
  EXPECT_EQ(shop.at("containers").as_integer(), 2);
  EXPECT_EQ(shop.at("drifted").as_integer(), 1);
  EXPECT_EQ(shop.at("events").as_integer(), 1);
  ASSERT_EQ(shop.at("pods").size(), 1u);
  const value& pod = shop.at("pods").at(0);
  EXPECT_EQ(pod.at("pod").as_string(), "shop-web");
  EXPECT_EQ(pod.at("hosts").serialize(), R"(["node-1"])");
  EXPECT_EQ(pod.at("drifted").as_integer(), 1);
  EXPECT_EQ(pod.at("events").as_integer(), 1);
  ASSERT_EQ(pod.at("containers").size(), 2u);
  EXPECT_EQ(pod.at("containers").at(0).at("pod_container").as_string(), "nginx");
  EXPECT_EQ(pod.at("containers").at(1).at("pod_container").as_string(), "envoy");

  const value only = value::parse(Call("GET", "/api/v1/kubernetes?namespace=shop", read_).body);
  ASSERT_EQ(only.at("namespaces").size(), 1u);
  EXPECT_EQ(only.at("namespaces").at(0).at("namespace").as_string(), "shop");
  EXPECT_EQ(Call("GET", "/api/v1/kubernetes?limit=5", read_).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/kubernetes?drifted=1", read_).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/kubernetes", enroll_).status, 403);
}

TEST_F(ApiContainersTest, ImagesCountEveryRuntimeAndSprawl) {
  Seed();
  const value v = value::parse(Call("GET", "/api/v1/images", read_).body);
  EXPECT_EQ(v.at("distinct_images").as_integer(), 5);
  EXPECT_EQ(v.at("distinct_digests").as_integer(), 5);
  EXPECT_EQ(v.at("sprawled").as_integer(), 1);  // busybox: two trees
  EXPECT_EQ(v.at("runtimes").serialize(),
            R"([{"containers":3,"digests":3,"drifted":1,"images":3,"runtime":"containerd"},)"
            R"({"containers":1,"digests":1,"drifted":1,"images":1,"runtime":"docker"},)"
            R"({"containers":1,"digests":1,"drifted":0,"images":1,"runtime":"driftwatch"},)"
            R"({"containers":1,"digests":1,"drifted":0,"images":1,"runtime":"podman"}])");
  const value& busybox = v.at("images").at(1);
  EXPECT_EQ(busybox.serialize(),
            R"({"containers":2,"digest":"sha256:b1","distinct_trees":2,"drifted":1,)"
            R"("host_ids":["node-1","node-2"],"hosts":2,"image":"busybox:latest","image_ids":[],)"
            R"("image_trees":["0f1e2d3c4b5a69788796a5b4c3d2e1f0",)"
            R"("ffeeddccbbaa99887766554433221100"],"runtimes":["docker","podman"]})");
}

TEST_F(ApiContainersTest, DriftEventsNameTheirContainerAsItWasAtTheReport) {
  Seed();
  auto events = [&](const std::string& query) {
    HttpResponse r = Call("GET", "/api/v1/drift?order=asc" + query, read_);
    EXPECT_EQ(r.status, 200) << r.body;
    return value::parse(r.body).at("events");
  };
  value e = events("&host=node-1");
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].at("container").serialize(),
            R"({"id":"a1","image":"nginx:1.25","image_digest":"sha256:n1",)"
            R"("name":"shop-web/nginx","namespace":"shop","pod":"shop-web",)"
            R"("runtime":"containerd"})");
  EXPECT_EQ(e[1].at("container").serialize(),
            R"({"id":"d1","image":"busybox:latest","image_digest":"sha256:b1","name":"web-1",)"
            R"("namespace":null,"pod":null,"runtime":"docker"})");
  EXPECT_EQ(e[2].at("container").at("id").as_string(), "d1");
  EXPECT_FALSE(e[3].has_field("container"));  // a host path

  // A realtime report carries no containers: the host's inventory names them.
  const char* kId3 = "33333333-3333-4333-8333-333333333333";
  Post(w1_, kId3, "node-1", kT0 + 5, std::nullopt,
       {Event("container:docker:web-1:/etc/issue", DriftKind::kModified, Severity::kLow),
        Event("container:docker:unknown:/etc/issue", DriftKind::kModified, Severity::kLow)},
       "realtime");
  e = events("&path=container:docker:*:/etc/issue");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].at("container").at("name").as_string(), "web-1");
  EXPECT_FALSE(e[1].has_field("container"));

  // The container is gone at the next check; its events keep its name.
  const char* kId4 = "44444444-4444-4444-8444-444444444444";
  Post(w1_, kId4, "node-1", kT0 + 10, std::vector<ContainerInfo>{}, {});
  EXPECT_EQ(value::parse(Call("GET", "/api/v1/containers?host=node-1", read_).body)
                .at("containers")
                .size(),
            0u);
  e = events("&path=container:containerd:*");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].at("container").at("pod").as_string(), "shop-web");
  const int64_t id = e[0].at("id").as_number().to_int64();
  e = value::parse(Call("GET",
                        "/api/v1/paths/history?path=container:containerd:shop-web/nginx:/etc/nginx/"
                        "nginx.conf",
                        read_)
                       .body)
          .at("events");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].at("id").as_number().to_int64(), id);
  EXPECT_EQ(e[0].at("container").at("namespace").as_string(), "shop");
}

}  // namespace
}  // namespace driftwatch::collector
