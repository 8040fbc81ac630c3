#include "collector/fleet_containers.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "collector/inventory.h"
#include "tests/testing/container_row.h"

namespace driftwatch::collector {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

ContainerInfo Row(std::string name, std::string id, std::string runtime, Labels labels = {}) {
  ContainerInfo c = testing::ContainerRow(std::move(name), std::move(id), std::move(runtime),
                                          "busybox:latest", "sha256:aa", true, 1);
  c.labels = std::move(labels);
  return c;
}

TEST(FleetContainersTest, LabelsRoundTripSortedAndBadTextGivesNone) {
  const Labels labels = {{"a", "1"}, {"io.kubernetes.pod.name", "web-7d9"}, {"z", "\"q\" 'x'"}};
  EXPECT_EQ(LabelsFromJson(LabelsToJson(labels)), labels);
  EXPECT_EQ(LabelsToJson({}), "{}");
  EXPECT_EQ(LabelsFromJson(R"({"b": "2", "a": "1"})"), (Labels{{"a", "1"}, {"b", "2"}}));
  EXPECT_TRUE(LabelsFromJson("").empty());
  EXPECT_TRUE(LabelsFromJson("[1]").empty());
  EXPECT_TRUE(LabelsFromJson("{not json").empty());
  // A value that is not a string is skipped, the rest kept.
  EXPECT_EQ(LabelsFromJson(R"({"a": 1, "b": "x"})"), (Labels{{"b", "x"}}));
}

TEST(FleetContainersTest, KubernetesIdentityFromTheCriLabels) {
  const KubernetesIdentity k = KubernetesOf({{"io.kubernetes.container.name", "nginx"},
                                             {"io.kubernetes.pod.name", "web-7d9"},
                                             {"io.kubernetes.pod.namespace", "shop"},
                                             {"other", "x"}});
  EXPECT_EQ(k.k8s_namespace, "shop");
  EXPECT_EQ(k.pod, "web-7d9");
  EXPECT_EQ(k.container, "nginx");
  const KubernetesIdentity none = KubernetesOf({{"app", "web"}});
  EXPECT_EQ(none.k8s_namespace, "");
  EXPECT_EQ(none.pod, "");
  EXPECT_EQ(none.container, "");
}

TEST(FleetContainersTest, FleetRowAndEventReference) {
  ContainerInfo c = Row("web-7d9/nginx", "0123456789abcdef", "containerd",
                        {{"io.kubernetes.pod.name", "web-7d9"},
                         {"io.kubernetes.pod.namespace", "shop"},
                         {"io.kubernetes.container.name", "nginx"}});
  c.image_id = "sha256:bb";
  const web::json::value row = FleetContainerJson(MakeFleetContainer("node-1", 3, c));
  EXPECT_EQ(
      row.serialize(),
      R"({"drift_known":true,"drifted":true,"events":1,"host":"node-1","id":"0123456789abcdef",)"
      R"("image":"busybox:latest","image_digest":"sha256:aa","image_id":"sha256:bb",)"
      R"("labels":{"io.kubernetes.container.name":"nginx","io.kubernetes.pod.name":"web-7d9",)"
      R"("io.kubernetes.pod.namespace":"shop"},"name":"web-7d9/nginx","namespace":"shop",)"
      R"("pod":"web-7d9","pod_container":"nginx","runtime":"containerd"})");
  EXPECT_EQ(ContainerRefJson(c).serialize(),
            R"({"id":"0123456789abcdef","image":"busybox:latest","image_digest":"sha256:aa",)"
            R"("name":"web-7d9/nginx","namespace":"shop","pod":"web-7d9","runtime":"containerd"})");
  const ContainerInfo plain = Row("web-1", "c1", "docker");
  EXPECT_EQ(ContainerRefJson(plain).serialize(),
            R"({"id":"c1","image":"busybox:latest","image_digest":"sha256:aa","name":"web-1",)"
            R"("namespace":null,"pod":null,"runtime":"docker"})");
  const web::json::value prow = FleetContainerJson(MakeFleetContainer("h", 0, plain));
  EXPECT_TRUE(prow.at("namespace").is_null());
  EXPECT_TRUE(prow.at("pod").is_null());
  EXPECT_TRUE(prow.at("pod_container").is_null());
}

TEST(FleetContainersTest, ContainerLabelOfSplitsAtTheFirstColonSlash) {
  EXPECT_EQ(ContainerLabelOf("container:docker:web-1:/etc/nginx/nginx.conf"), "docker:web-1");
  EXPECT_EQ(ContainerLabelOf("container:web:/etc/x"), "web");
  EXPECT_EQ(ContainerLabelOf("container:containerd:web-7d9/nginx:/etc/a:/b"),
            "containerd:web-7d9/nginx");
  EXPECT_EQ(ContainerLabelOf("container::/etc/x"), "");
  EXPECT_EQ(ContainerLabelOf("container:web"), "");
  EXPECT_EQ(ContainerLabelOf("/etc/passwd"), "");
  EXPECT_EQ(ContainerLabelOf("pkg:dpkg/libc6:amd64"), "");
}

TEST(FleetContainersTest, IndexFindsTheContainerAnEventNames) {
  const std::vector<ContainerInfo> report = {
      Row("web", "d1", "driftwatch"),                            // this launcher's: its name
      Row("web", "e2", "docker"),                                // docker's "web": docker:web
      Row("docker:0123456789ab", "0123456789abcdef", "docker"),  // unnamed: as `check` names it
      Row("db", "f3", "podman"),
      Row("shop-7d9/nginx", "a4", "containerd"),
      Row("podman:db", "f5", "podman"),  // a name already in label form
  };
  const ContainerIndex index(report);
  auto id_of = [&](const std::string& path) {
    const ContainerInfo* c = index.Find(path);
    return c == nullptr ? std::string("none") : c->id;
  };
  EXPECT_EQ(id_of("container:web:/etc/x"), "d1");
  EXPECT_EQ(id_of("container:docker:web:/etc/x"), "e2");
  EXPECT_EQ(id_of("container:docker:0123456789ab:/etc/x"), "0123456789abcdef");
  // The first of two containers claiming the same label keeps it.
  EXPECT_EQ(id_of("container:podman:db:/var/lib/x"), "f3");
  EXPECT_EQ(id_of("container:containerd:shop-7d9/nginx:/etc/nginx/nginx.conf"), "a4");
  // A label given as the short id of a named container.
  EXPECT_EQ(id_of("container:podman:f3:/x"), "f3");
  EXPECT_EQ(id_of("container:docker:gone:/etc/x"), "none");
  EXPECT_EQ(id_of("/etc/passwd"), "none");
  EXPECT_TRUE(ContainerIndex({}).empty());
}

TEST(FleetContainersTest, ImagesCountRuntimesIdsAndTrees) {
  auto row = [](std::string image, std::string digest, std::string host, int64_t events,
                std::string runtime, std::string id, std::string tree) {
    return ImageRow{std::move(image),   std::move(digest), std::move(host), events,
                    std::move(runtime), std::move(id),     std::move(tree)};
  };
  const std::vector<ImageUsage> got = AggregateImages({
      row("busybox:latest", "sha256:aa", "h1", 2, "docker", "sha256:i1", "t1"),
      row("busybox:latest", "sha256:aa", "h2", 0, "podman", "sha256:i1", "t2"),
      row("busybox:latest", "sha256:aa", "h2", 0, "docker", "", ""),
      row("nginx", "", "h1", 1, "containerd", "sha256:i9", "t9"),
  });
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].image, "busybox:latest");
  EXPECT_EQ(got[0].hosts, 2);
  EXPECT_EQ(got[0].containers, 3);
  EXPECT_EQ(got[0].drifted, 1);
  EXPECT_EQ(got[0].runtimes, (std::vector<RuntimeCount>{{"docker", 2, 1}, {"podman", 1, 0}}));
  EXPECT_EQ(got[0].image_ids, (std::vector<std::string>{"sha256:i1"}));
  EXPECT_EQ(got[0].image_trees, (std::vector<std::string>{"t1", "t2"}));
  EXPECT_EQ(got[1].image, "nginx");
  EXPECT_EQ(got[1].runtimes, (std::vector<RuntimeCount>{{"containerd", 1, 1}}));
  EXPECT_EQ(got[1].image_trees, (std::vector<std::string>{"t9"}));
}

}  // namespace
}  // namespace driftwatch::collector
