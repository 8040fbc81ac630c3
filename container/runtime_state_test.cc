#include "container/runtime_state.h"

#include <gtest/gtest.h>

#include "tests/testing/bolt_builder.h"
#include "tests/testing/mem_host.h"

namespace driftwatch::container {
namespace {

std::string DockerConfig(const std::string& id, const std::string& name) {
  return R"({"ID":")" + id + R"(","Name":"/)" + name +
         R"(","Driver":"overlay2","Config":{"Image":"busybox"},"State":{"Running":true,"Pid":7}})";
}

TEST(RuntimeStateTest, NeedsAHost) {
  RuntimeReadOptions o;
  auto got = ReadRuntimes(o);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
}

TEST(RuntimeStateTest, EmptyHostHasNoContainersAndNoNotes) {
  testutil::MemHost host;
  RuntimeReadOptions o;
  o.host = &host;
  auto got = ReadRuntimes(o);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->containers.empty());
  EXPECT_TRUE(got->notes.empty());
}

TEST(RuntimeStateTest, DockerRootsFromDaemonCommandLineFlagsAndDefault) {
  testutil::MemHost host;
  const std::string a(64, 'a'), b(64, 'b'), c(64, 'c');
  host.PutFile("/var/lib/docker/containers/" + b + "/config.v2.json", DockerConfig(b, "dflt"));
  host.PutFile("/srv/d/containers/" + a + "/config.v2.json", DockerConfig(a, "from-cmdline"));
  host.PutFile("/opt/d/containers/" + c + "/config.v2.json", DockerConfig(c, "from-flag"));
  // The same container reached through a second root is listed once.
  host.PutSymlink("/srv/alias", "/srv/d");
  host.PutFile("/proc/1/cmdline", std::string("/sbin/init\0", 11));
  host.PutFile("/proc/812/cmdline", std::string("/usr/sbin/dockerd\0--data-root\0/srv/d\0", 38));
  host.PutFile("/proc/813/cmdline", std::string("/usr/bin/containerd\0", 20));
  RuntimeReadOptions o;
  o.host = &host;
  o.docker_roots = {"/opt/d", "/srv/alias"};
  auto got = ReadRuntimes(o);
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_EQ(got->containers.size(), 3u);
  EXPECT_EQ(got->containers[0].name, "from-cmdline");
  EXPECT_EQ(got->containers[1].name, "dflt");
  EXPECT_EQ(got->containers[2].name, "from-flag");
  for (const RuntimeContainer& rc : got->containers) {
    EXPECT_EQ(rc.runtime, "docker");
    EXPECT_EQ(rc.pid, 7);
  }
  EXPECT_TRUE(got->notes.empty());
}

// Every runtime's containers in one inventory, sorted by (runtime, id);
// each runtime's damage is its own note.
TEST(RuntimeStateTest, AllRuntimesSideBySide) {
  testutil::MemHost host;
  const std::string d(64, 'd'), p(64, 'e');
  host.PutFile("/var/lib/docker/containers/" + d + "/config.v2.json", DockerConfig(d, "web-1"));
  host.PutFile("/var/lib/docker/containers/" + std::string(64, 'b') + "/config.v2.json", "{}");

  testutil::BoltBucket meta;
  meta.Sub("v1").Sub("default").Sub("containers").Sub("ctr-1").Put("image", "busybox:1");
  host.PutFile("/ctrd/root/io.containerd.metadata.v1.bolt/meta.db", testutil::BuildBoltFile(meta));
  host.PutFile("/ctrd/state/io.containerd.runtime.v2.task/default/ctr-1/init.pid", "8");
  host.PutDir("/proc/8");
  host.PutDir("/proc/9");

  host.PutFile("/pm/overlay-containers/containers.json",
               R"([{"id":")" + p + R"(","names":["db"],"image":"","layer":""}])");
  testutil::BoltBucket db;
  db.Sub("ctr").Sub(p).Put("config", R"({"name":"db"})").Put("state", R"({"state":3,"pid":9})");
  host.PutFile("/pm/libpod/bolt_state.db", testutil::BuildBoltFile(db));

  RuntimeReadOptions o;
  o.host = &host;
  o.containerd_roots = {"/ctrd/root"};
  o.containerd_states = {"/ctrd/state"};
  o.storage_roots = {"/pm"};
  auto got = ReadRuntimes(o);
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_EQ(got->containers.size(), 3u);
  EXPECT_EQ(got->containers[0].runtime, "containerd");
  EXPECT_EQ(got->containers[0].name, "ctr-1");
  EXPECT_EQ(got->containers[0].pid, 8);
  EXPECT_EQ(got->containers[1].runtime, "docker");
  EXPECT_EQ(got->containers[1].name, "web-1");
  EXPECT_EQ(got->containers[2].runtime, "podman");
  EXPECT_EQ(got->containers[2].name, "db");
  EXPECT_EQ(got->containers[2].pid, 9);
  EXPECT_EQ(got->notes,
            (std::vector<std::string>{"docker: /var/lib/docker/containers/" + std::string(64, 'b') +
                                      "/config.v2.json: no 64-hex \"ID\" (unknown format)"}));
}

}  // namespace
}  // namespace driftwatch::container
