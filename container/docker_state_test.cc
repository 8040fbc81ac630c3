#include "container/docker_state.h"

#include <gtest/gtest.h>

#include "core/chain.h"
#include "tests/testing/mem_host.h"

namespace driftwatch::container {
namespace {

const std::string kId(64, 'c');
const std::string kImage = "sha256:" + std::string(64, '1');
const std::string kDigest = "sha256:" + std::string(64, 'd');
const std::string kChainTop = "sha256:" + std::string(64, '7');
const std::string kChainBase = "sha256:" + std::string(64, '6');

std::string ConfigJson(const std::string& id, bool running,
                       const std::string& driver = "overlay2") {
  return R"({"State":{"Running":)" + std::string(running ? "true" : "false") + R"(,"Pid":)" +
         (running ? "4242" : "0") +
         R"(,"StartedAt":"2026-12-05T15:10:17.427201105Z","FinishedAt":"0001-01-01T00:00:00Z"},
 "ID":")" +
         id + R"(","Created":"2026-12-05T15:10:17.09645984Z",
 "Config":{"Image":"dwtest/busybox:1","Labels":{"z":"last","app":"web","io.kubernetes.pod.name":"p"}},
 "Image":")" +
         kImage + R"(","Name":"/web-1","Driver":")" + driver + R"(",
 "MountPoints":{"/data":{"Source":"/var/lib/docker/volumes/vol1/_data","Destination":"/data","RW":true,"Name":"vol1","Driver":"local","Type":"volume"},
   "/mnt/bind":{"Source":"/srv/bind","Destination":"/mnt/bind","RW":true,"Name":"","Type":"bind"}},
 "HostnamePath":"/var/lib/docker/containers/)" +
         id + R"(/hostname",
 "HostsPath":"/var/lib/docker/containers/)" +
         id + R"(/hosts","ShmPath":"",
 "ResolvConfPath":"/var/lib/docker/containers/)" +
         id + R"(/resolv.conf"})";
}

TEST(DockerStateTest, ParsesConfig) {
  auto c = ParseDockerConfig(ConfigJson(kId, true));
  ASSERT_TRUE(c.ok()) << c.status().message();
  RuntimeContainer want;
  want.runtime = "docker";
  want.id = kId;
  want.name = "web-1";
  want.image = "dwtest/busybox:1";
  want.image_id = kImage;
  want.labels = {{"app", "web"}, {"io.kubernetes.pod.name", "p"}, {"z", "last"}};
  want.started_ns = 1796483417427201105LL;
  want.pid = 4242;
  want.running = true;
  want.storage_driver = "overlay2";
  const std::string dir = "/var/lib/docker/containers/" + kId;
  want.mounts = {{"/data", "vol1", "volume"},
                 {"/etc/hostname", dir + "/hostname", "bind"},
                 {"/etc/hosts", dir + "/hosts", "bind"},
                 {"/etc/resolv.conf", dir + "/resolv.conf", "bind"},
                 {"/mnt/bind", "/srv/bind", "bind"}};
  EXPECT_EQ(*c, want);
}

TEST(DockerStateTest, StoppedContainerHasNoPid) {
  auto c = ParseDockerConfig(ConfigJson(kId, false));
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->running);
  EXPECT_EQ(c->pid, 0);
}

TEST(DockerStateTest, RejectsUnknownFormats) {
  const std::string cases[] = {
      "",
      "[]",
      "{",
      R"({"Name":"/x"})",  // no ID: a format we do not know
      R"({"ID":"abc"})",   // not a 64-hex id
      R"({"ID":12})",
      std::string(200, '[') + std::string(200, ']'),  // nested too deep
  };
  for (const std::string& text : cases) {
    auto c = ParseDockerConfig(text);
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().code(), StatusCode::kCorruption) << text;
    EXPECT_NE(c.status().message().find("config.v2.json"), std::string::npos);
  }
}

TEST(DockerStateTest, ToleratesOddFieldTypes) {
  auto c = ParseDockerConfig(R"({"ID":")" + kId +
                             R"(","Name":7,"Config":{"Labels":{"a":1,"b":"x"},"Image":null},
      "State":{"Running":"yes","Pid":-3,"StartedAt":"never"},"Image":"nope","MountPoints":[]})");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->name, "");
  EXPECT_EQ(c->image, "");
  EXPECT_EQ(c->image_id, "");
  EXPECT_EQ(c->labels, (std::vector<std::pair<std::string, std::string>>{{"b", "x"}}));
  EXPECT_FALSE(c->running);
  EXPECT_EQ(c->started_ns, 0);
  EXPECT_TRUE(c->mounts.empty());
}

TEST(DockerStateTest, ParsesHostConfigMounts) {
  std::vector<RuntimeMount> mounts;
  ASSERT_TRUE(ParseDockerHostConfig(
                  R"({"Binds":["vol1:/data","/srv/b:/mnt/b:ro","/anon","bad"],
                      "Mounts":[{"Type":"tmpfs","Target":"/scratch"},{"Type":"bind","Source":"/s","Target":"rel"}],
                      "Tmpfs":{"/run":"size=64m"}})",
                  &mounts)
                  .ok());
  EXPECT_EQ(mounts, (std::vector<RuntimeMount>{{"/data", "vol1", "volume"},
                                               {"/mnt/b", "/srv/b", "bind"},
                                               {"/anon", "", "volume"},
                                               {"/scratch", "", "tmpfs"},
                                               {"/run", "tmpfs", "tmpfs"}}));
  EXPECT_EQ(ParseDockerHostConfig("[1]", &mounts).code(), StatusCode::kCorruption);
}

TEST(DockerStateTest, RepositoriesAndDigests) {
  const std::string other = "sha256:" + std::string(64, '2');
  const std::string other_digest = "sha256:" + std::string(64, 'e');
  auto refs = ParseDockerRepositories(
      R"({"Repositories":{"busybox":{"busybox:latest":")" + kImage + R"(","busybox@)" + kDigest +
      R"(":")" + kImage + R"("},"mirror/busybox":{"mirror/busybox@)" + other_digest + R"(":")" +
      kImage + R"("},"alpine":{"alpine:3":")" + other + R"("}}})");
  ASSERT_TRUE(refs.ok()) << refs.status().message();
  EXPECT_EQ(refs->size(), 4u);
  EXPECT_EQ(DockerRepoDigest(*refs, "busybox:latest", kImage), kDigest);
  EXPECT_EQ(DockerRepoDigest(*refs, "mirror/busybox", kImage), other_digest);
  // An image id given as the reference: any digest of that image.
  EXPECT_EQ(DockerRepoDigest(*refs, kImage, kImage), kDigest);
  EXPECT_EQ(DockerRepoDigest(*refs, "alpine:3", other), "");
  EXPECT_FALSE(ParseDockerRepositories(R"({"Repos":{}})").ok());
  EXPECT_FALSE(ParseDockerRepositories("nope").ok());
}

TEST(DockerStateTest, DataRootsFromDaemonJsonAndCommandLines) {
  testutil::MemHost host;
  host.PutFile("/etc/docker/daemon.json", R"({"data-root":"/srv/docker"})");
  host.PutFile("/opt/d.json", R"({"graph":"/old/docker"})");
  std::vector<std::vector<std::string>> dockerds = {
      {"/usr/sbin/dockerd", "--data-root", "/tmp/d1", "-H", "unix:///x"},
      {"dockerd", "--data-root=/tmp/d2/", "--config-file", "/opt/d.json"},
      {"dockerd", "-g", "/tmp/d1"},
  };
  EXPECT_EQ(DockerDataRoots(host, "/etc", dockerds),
            (std::vector<std::string>{"/tmp/d1", "/tmp/d2", "/old/docker", "/srv/docker",
                                      "/var/lib/docker"}));
  host.PutFile("/etc/docker/daemon.json", "{broken");
  EXPECT_EQ(DockerDataRoots(host, "/etc", {}), (std::vector<std::string>{"/var/lib/docker"}));
}

// A data root as Docker 20.10 lays it out: two running containers, one
// stopped, one of an unknown format, the image's two layers.
class DockerRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    host_.PutFile(kRoot + "/image/overlay2/repositories.json",
                  R"({"Repositories":{"dwtest/busybox":{"dwtest/busybox:1":")" + kImage +
                      R"(","dwtest/busybox@)" + kDigest + R"(":")" + kImage + R"("}}})");
    const std::string db = kRoot + "/image/overlay2/layerdb";
    host_.PutFile(db + "/mounts/" + kId + "/parent", kChainTop);
    host_.PutFile(db + "/mounts/" + kId + "/mount-id", "m1");
    host_.PutFile(db + "/sha256/" + kChainTop.substr(7) + "/cache-id", "top");
    host_.PutFile(db + "/sha256/" + kChainTop.substr(7) + "/parent", kChainBase + "\n");
    host_.PutFile(db + "/sha256/" + kChainBase.substr(7) + "/cache-id", "base");
    host_.PutFile(kRoot + "/containers/" + kId + "/config.v2.json", ConfigJson(kId, true));
    host_.PutFile(kRoot + "/containers/" + kId + "/hostconfig.json",
                  R"({"Binds":["vol1:/data"],"Tmpfs":{"/run":""}})");
  }
  const std::string kRoot = "/var/lib/docker";
  testutil::MemHost host_;
};

TEST_F(DockerRootTest, ReadsRunningContainersWithImageLayers) {
  const std::string stopped(64, 'a');
  host_.PutFile(kRoot + "/containers/" + stopped + "/config.v2.json", ConfigJson(stopped, false));
  RuntimeInventory inv;
  ReadDockerRoot(host_, kRoot, true, &inv);
  EXPECT_TRUE(inv.notes.empty());
  ASSERT_EQ(inv.containers.size(), 1u);
  const RuntimeContainer& c = inv.containers[0];
  EXPECT_EQ(c.id, kId);
  EXPECT_EQ(c.name, "web-1");
  EXPECT_EQ(c.image_digest, kDigest);
  EXPECT_EQ(c.image_layers, (std::vector<std::string>{kRoot + "/overlay2/top/diff",
                                                      kRoot + "/overlay2/base/diff"}));
  ASSERT_EQ(c.mounts.size(), 6u);
  EXPECT_EQ(c.mounts[0], (RuntimeMount{"/data", "vol1", "volume"}));
  EXPECT_EQ(c.mounts[5], (RuntimeMount{"/run", "tmpfs", "tmpfs"}));
  EXPECT_EQ(c.note, "");

  RuntimeInventory all;
  ReadDockerRoot(host_, kRoot, false, &all);
  ASSERT_EQ(all.containers.size(), 2u);
  EXPECT_EQ(all.containers[0].id, stopped);
  EXPECT_FALSE(all.containers[0].running);
}

TEST_F(DockerRootTest, LayersFromTheImageConfigWhenTheMountRecordIsGone) {
  host_.Erase(kRoot + "/image/overlay2/layerdb/mounts");
  host_.Erase(kRoot + "/image/overlay2/layerdb/sha256/" + kChainTop.substr(7));
  // The base layer's chain id is its diff id; the next is sha256("BASE DIFF").
  const std::string top_diff = "sha256:" + std::string(64, '9');
  host_.PutFile(
      kRoot + "/image/overlay2/imagedb/content/sha256/" + kImage.substr(7),
      R"({"rootfs":{"type":"layers","diff_ids":[")" + kChainBase + R"(",")" + top_diff + R"("]}})");
  const std::string top = chain::Sha256Hex(kChainBase + " " + top_diff);
  host_.PutFile(kRoot + "/image/overlay2/layerdb/sha256/" + top + "/cache-id", "top2");
  host_.PutFile(kRoot + "/image/overlay2/layerdb/sha256/" + top + "/parent", kChainBase);
  RuntimeInventory inv;
  ReadDockerRoot(host_, kRoot, true, &inv);
  ASSERT_EQ(inv.containers.size(), 1u);
  EXPECT_EQ(
      inv.containers[0].image_layers,
      (std::vector<std::string>{kRoot + "/overlay2/top2/diff", kRoot + "/overlay2/base/diff"}));
  EXPECT_EQ(inv.containers[0].note, "");

  // A layer the database does not have is named in the note.
  host_.Erase(kRoot + "/image/overlay2/layerdb/sha256/" + top);
  RuntimeInventory missing;
  ReadDockerRoot(host_, kRoot, true, &missing);
  ASSERT_EQ(missing.containers.size(), 1u);
  EXPECT_TRUE(missing.containers[0].image_layers.empty());
  EXPECT_NE(missing.containers[0].note.find("image layers: "), std::string::npos);
  EXPECT_NE(missing.containers[0].note.find(top + "/cache-id"), std::string::npos)
      << missing.containers[0].note;
}

TEST_F(DockerRootTest, CorruptFilesBecomeNotesNotFailures) {
  const std::string bad(64, 'b');
  host_.PutFile(kRoot + "/containers/" + bad + "/config.v2.json", R"({"Name":"/old"})");
  host_.PutFile(kRoot + "/containers/" + kId + "/hostconfig.json", "{");
  host_.PutFile(kRoot + "/image/overlay2/layerdb/sha256/" + kChainBase.substr(7) + "/parent",
                kChainTop);  // a loop
  host_.PutFile(kRoot + "/containers/not-an-id/config.v2.json", "junk");
  RuntimeInventory inv;
  ReadDockerRoot(host_, kRoot, true, &inv);
  ASSERT_EQ(inv.notes.size(), 1u);
  EXPECT_EQ(inv.notes[0], "docker: " + kRoot + "/containers/" + bad +
                              "/config.v2.json: no 64-hex \"ID\" (unknown format)");
  ASSERT_EQ(inv.containers.size(), 1u);
  EXPECT_NE(inv.containers[0].note.find("hostconfig.json: bad JSON"), std::string::npos)
      << inv.containers[0].note;
  EXPECT_NE(inv.containers[0].note.find("loops"), std::string::npos) << inv.containers[0].note;
  EXPECT_TRUE(inv.containers[0].image_layers.empty());
  EXPECT_EQ(inv.containers[0].image_digest, kDigest);
}

TEST_F(DockerRootTest, AbsentRootAddsNothing) {
  RuntimeInventory inv;
  ReadDockerRoot(host_, "/nowhere", true, &inv);
  EXPECT_TRUE(inv.containers.empty());
  EXPECT_TRUE(inv.notes.empty());
}

}  // namespace
}  // namespace driftwatch::container
