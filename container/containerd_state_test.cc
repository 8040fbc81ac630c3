#include "container/containerd_state.h"

#include <gtest/gtest.h>

#include "tests/testing/bolt_builder.h"
#include "tests/testing/mem_host.h"

namespace driftwatch::container {
namespace {

using testutil::BoltBucket;

const std::string kManifest = "sha256:" + std::string(64, 'b');
const std::string kIndex = "sha256:" + std::string(64, 'c');
const std::string kConfig = "sha256:" + std::string(64, 'f');
const std::string kLayer = "sha256:" + std::string(64, '1');

std::string Any(const std::string& type, const std::string& value) {
  auto field = [](char tag, const std::string& s) {
    std::string out(1, tag);
    size_t n = s.size();
    do {
      out.push_back(static_cast<char>((n & 0x7f) | (n > 0x7f ? 0x80 : 0)));
      n >>= 7;
    } while (n != 0);
    return out + s;
  };
  return field(0x0a, type) + field(0x12, value);
}

const char kSpec[] = R"({"ociVersion":"1.0.2-dev","mounts":[
  {"destination":"/proc","type":"proc","source":"proc"},
  {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid"]},
  {"destination":"/dev/mqueue","type":"mqueue","source":"mqueue"},
  {"destination":"/sys","type":"sysfs","source":"sysfs"},
  {"destination":"/mnt/bind","type":"none","source":"/srv/bind","options":["rbind","rw"]},
  {"destination":"/etc/hosts","type":"bind","source":"/var/lib/kubelet/pods/x/etc-hosts"},
  {"destination":"relative","type":"bind","source":"/x"}],
 "annotations":{"io.kubernetes.cri.sandbox-name":"web-7d9","io.kubernetes.cri.sandbox-namespace":"shop",
   "io.kubernetes.cri.container-name":"nginx"}})";

TEST(ContainerdStateTest, ReadsAProtobufAny) {
  const std::string spec(300, 'x');  // a two-byte length
  // AnyValue's view points into its input, which must outlive it.
  const std::string any = Any("types.containerd.io/opencontainers/runtime-spec/1/Spec", spec);
  auto v = AnyValue(any, "opencontainers/runtime-spec/1/Spec");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(*v, spec);
  EXPECT_EQ(AnyValue(Any("containerd.runc.v1.Options", ""), "runtime-spec/1/Spec").status().code(),
            StatusCode::kNotFound);
  std::string cut = Any("t", spec).substr(0, 40);
  EXPECT_EQ(AnyValue(cut, "t").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(AnyValue("\x08\x01", "t").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(AnyValue(std::string("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12), "t")
                .status()
                .code(),
            StatusCode::kCorruption);
}

TEST(ContainerdStateTest, SpecGivesMountsAndCriLabels) {
  RuntimeContainer c;
  c.labels = {{"io.kubernetes.pod.name", "from-label"}};
  ASSERT_TRUE(ApplyOciSpec(kSpec, &c).ok());
  EXPECT_EQ(c.mounts,
            (std::vector<RuntimeMount>{{"/dev", "tmpfs", "tmpfs"},
                                       {"/etc/hosts", "/var/lib/kubelet/pods/x/etc-hosts", "bind"},
                                       {"/mnt/bind", "/srv/bind", "bind"}}));
  // A label the container has wins over the annotation.
  EXPECT_EQ(c.labels, (std::vector<std::pair<std::string, std::string>>{
                          {"io.kubernetes.container.name", "nginx"},
                          {"io.kubernetes.pod.name", "from-label"},
                          {"io.kubernetes.pod.namespace", "shop"}}));
  EXPECT_EQ(ApplyOciSpec("[]", &c).code(), StatusCode::kCorruption);
  EXPECT_EQ(ApplyOciSpec("{", &c).code(), StatusCode::kCorruption);
}

TEST(ContainerdStateTest, ManifestsAndIndexes) {
  auto m = ParseImageManifest(R"({"schemaVersion":2,"config":{"digest":")" + kConfig +
                              R"("},"layers":[]})");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->config, kConfig);
  auto idx =
      ParseImageManifest(R"({"manifests":[{"digest":")" + kIndex +
                         R"(","platform":{"os":"linux","architecture":"arm64"}},{"digest":")" +
                         kManifest + R"(","platform":{"os":"linux","architecture":"amd64"}}]})");
  ASSERT_TRUE(idx.ok());
  EXPECT_EQ(idx->next, kManifest);
  EXPECT_EQ(idx->config, "");
  EXPECT_FALSE(ParseImageManifest(R"({"config":{"digest":"md5:1"}})").ok());
  EXPECT_FALSE(ParseImageManifest(R"({"manifests":[]})").ok());
  EXPECT_FALSE(ParseImageManifest("null").ok());
}

TEST(ContainerdStateTest, DirsFromConfigAndCommandLines) {
  EXPECT_EQ(
      ParseContainerdConfig("version = 2\nroot = \"/r\"\n state='/s'\n[grpc]\nroot = \"/no\"\n"),
      (ContainerdDirs{"/r", "/s"}));
  testutil::MemHost host;
  host.PutFile("/opt/c.toml", "root = \"/c/root\"\nstate = \"/c/state\"\n");
  host.PutFile("/etc/containerd/config.toml", "root = \"/etc-root\"\n");
  std::vector<std::vector<std::string>> procs = {
      {"/usr/bin/containerd", "--config", "/opt/c.toml"},
      {"containerd", "-c", "/opt/c.toml", "--root", "/flag/root", "--state=/flag/state"},
      {"containerd"},
  };
  EXPECT_EQ(ContainerdDirsOf(host, "/etc", procs),
            (std::vector<ContainerdDirs>{{"/c/root", "/c/state"},
                                         {"/flag/root", "/flag/state"},
                                         {"/etc-root", "/run/containerd"},
                                         {"/var/lib/containerd", "/run/containerd"}}));
}

// A containerd root as containerd 1.6 lays it out (meta.db, the overlayfs
// snapshotter's metadata.db, the content store) and its state directory.
class ContainerdRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BoltBucket meta;
    BoltBucket& v1 = meta.Sub("v1");
    v1.Put("version", "\x03");
    for (const char* ns : {"default", "k8s.io", "moby"}) {
      BoltBucket& n = v1.Sub(ns);
      n.Sub("images").Sub("docker.io/library/busybox:1").Sub("target").Put("digest", kIndex);
      n.Sub("snapshots").Sub("overlayfs").Sub("layer-top").Put("name", std::string(ns) + "/2/top");
    }
    BoltBucket& c = v1.Sub("k8s.io").Sub("containers").Sub("abc123");
    c.Put("image", "docker.io/library/busybox:1")
        .Put("snapshotter", "overlayfs")
        .Put("snapshotKey", "abc123")
        .Put("spec", Any("types.containerd.io/opencontainers/runtime-spec/1/Spec", kSpec))
        .Put("createdat",
             std::string("\x01\x00\x00\x00\x0e\xe2\xa6!\x87\x0c\xfd\x95\x0c\xff\xff", 15));
    c.Sub("labels")
        .Put("io.cri-containerd.kind", "container")
        .Put("io.kubernetes.pod.name", "web-7d9");
    c.Sub("runtime").Put("name", "io.containerd.runc.v2");
    v1.Sub("k8s.io").Sub("snapshots").Sub("overlayfs").Sub("abc123").Put("name", "k8s.io/9/abc123");
    BoltBucket& plain = v1.Sub("default").Sub("containers").Sub("stopped-1");
    plain.Put("image", "docker.io/library/busybox:1").Put("snapshotter", "overlayfs");
    v1.Sub("moby").Sub("containers").Sub(std::string(64, 'd')).Put("image", "x");
    host_.PutFile(kMeta, testutil::BuildBoltFile(meta));

    BoltBucket snaps;
    BoltBucket& s = snaps.Sub("v1").Sub("snapshots");
    s.Sub("k8s.io/9/abc123").Put("id", "\x09").Put("kind", "\x02").Put("parent", "k8s.io/2/top");
    s.Sub("k8s.io/2/top").Put("id", std::string("\x96\x01", 2)).Put("parent", "k8s.io/1/base");
    s.Sub("k8s.io/1/base").Put("id", "\x01");
    host_.PutFile(kRoot + "/io.containerd.snapshotter.v1.overlayfs/metadata.db",
                  testutil::BuildBoltFile(snaps));

    const std::string blobs = kRoot + "/io.containerd.content.v1.content/blobs/sha256/";
    host_.PutFile(blobs + kIndex.substr(7),
                  R"({"manifests":[{"digest":")" + kManifest +
                      R"(","platform":{"os":"linux","architecture":"amd64"}}]})");
    host_.PutFile(blobs + kManifest.substr(7), R"({"config":{"digest":")" + kConfig + R"("}})");

    host_.PutFile("/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc123/init.pid", "4242");
    host_.PutDir("/proc/4242");
  }
  const std::string kRoot = "/var/lib/containerd";
  const std::string kMeta = kRoot + "/io.containerd.metadata.v1.bolt/meta.db";
  testutil::MemHost host_;
};

TEST_F(ContainerdRootTest, ReadsRunningContainers) {
  RuntimeInventory inv;
  ReadContainerdRoot(host_, kRoot, {"/elsewhere", "/run/containerd"}, "/proc", true, &inv);
  EXPECT_TRUE(inv.notes.empty()) << inv.notes[0];
  ASSERT_EQ(inv.containers.size(), 1u);
  RuntimeContainer want;
  want.runtime = "containerd";
  want.id = "abc123";
  want.name = "web-7d9/nginx";
  want.nspace = "k8s.io";
  want.image = "docker.io/library/busybox:1";
  want.image_id = kConfig;
  want.image_digest = kIndex;
  want.labels = {{"io.cri-containerd.kind", "container"},
                 {"io.kubernetes.container.name", "nginx"},
                 {"io.kubernetes.pod.name", "web-7d9"},
                 {"io.kubernetes.pod.namespace", "shop"}};
  want.pid = 4242;
  want.running = true;
  want.mounts = {{"/dev", "tmpfs", "tmpfs"},
                 {"/etc/hosts", "/var/lib/kubelet/pods/x/etc-hosts", "bind"},
                 {"/mnt/bind", "/srv/bind", "bind"}};
  const std::string snaps = kRoot + "/io.containerd.snapshotter.v1.overlayfs/snapshots/";
  want.image_layers = {snaps + "150/fs", snaps + "1/fs"};
  want.storage_driver = "overlayfs";
  RuntimeContainer got = inv.containers[0];
  EXPECT_GT(got.started_ns, 0);  // the init.pid file's mtime
  got.started_ns = 0;
  EXPECT_EQ(got, want);
}

TEST_F(ContainerdRootTest, StoppedAndExitedContainers) {
  host_.Erase("/proc/4242");  // the task's process is gone
  RuntimeInventory running;
  ReadContainerdRoot(host_, kRoot, {"/run/containerd"}, "/proc", true, &running);
  EXPECT_TRUE(running.containers.empty());
  RuntimeInventory all;
  ReadContainerdRoot(host_, kRoot, {"/run/containerd"}, "/proc", false, &all);
  ASSERT_EQ(all.containers.size(), 2u);  // not the moby namespace's
  EXPECT_EQ(all.containers[0].id, "stopped-1");
  EXPECT_EQ(all.containers[0].name, "stopped-1");
  EXPECT_EQ(all.containers[0].nspace, "default");
  EXPECT_FALSE(all.containers[0].running);
  EXPECT_EQ(all.containers[0].image_digest, kIndex);
  EXPECT_EQ(all.containers[1].id, "abc123");
  EXPECT_FALSE(all.containers[1].running);
}

TEST_F(ContainerdRootTest, DamagedFilesAreNotes) {
  // The snapshotter's database and the manifest are unreadable: the
  // container is still listed, its note says what is missing.
  host_.PutFile(kRoot + "/io.containerd.snapshotter.v1.overlayfs/metadata.db", "garbage");
  host_.Erase(kRoot + "/io.containerd.content.v1.content/blobs/sha256/" + kManifest.substr(7));
  RuntimeInventory inv;
  ReadContainerdRoot(host_, kRoot, {"/run/containerd"}, "/proc", true, &inv);
  ASSERT_EQ(inv.containers.size(), 1u);
  const std::string& note = inv.containers[0].note;
  EXPECT_NE(note.find("image id: "), std::string::npos) << note;
  EXPECT_NE(note.find("image layers: " + kRoot +
                      "/io.containerd.snapshotter.v1.overlayfs/metadata.db: not a bbolt file"),
            std::string::npos)
      << note;
  EXPECT_EQ(inv.containers[0].image_digest, kIndex);
  EXPECT_TRUE(inv.containers[0].image_layers.empty());

  // An unknown bbolt version of meta.db: one note, no container.
  std::string meta = *host_.Contents(kMeta);
  for (size_t page : {0, 1}) {
    meta[page * 4096 + 16 + 4] = 3;
  }
  host_.PutFile(kMeta, meta);
  RuntimeInventory v3;
  ReadContainerdRoot(host_, kRoot, {"/run/containerd"}, "/proc", true, &v3);
  EXPECT_TRUE(v3.containers.empty());
  EXPECT_EQ(v3.notes,
            (std::vector<std::string>{"containerd: " + kMeta + ": unknown bbolt version 3"}));
}

TEST_F(ContainerdRootTest, AbsentRootAddsNothing) {
  RuntimeInventory inv;
  ReadContainerdRoot(host_, "/nowhere", {"/run/containerd"}, "/proc", true, &inv);
  EXPECT_TRUE(inv.containers.empty());
  EXPECT_TRUE(inv.notes.empty());
}

}  // namespace
}  // namespace driftwatch::container
