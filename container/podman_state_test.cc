#include "container/podman_state.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include "core/sqlite.h"
#include "tests/testing/bolt_builder.h"
#include "tests/testing/mem_host.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::container {
namespace {

using testutil::BoltBucket;

const std::string kCtr(64, 'c');
const std::string kCrio(64, 'e');
const std::string kImage(64, 'a');
const std::string kTop(64, '2');
const std::string kBase(64, '1');
const std::string kOwn(64, '3');
const std::string kCrioOwn(64, '4');
const std::string kDigest = "sha256:" + std::string(64, 'd');

const char kConfig[] = R"({"id":"cccc","name":"db","RawImageName":"raw/busybox",
 "rootfsImageID":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
 "rootfsImageName":"localhost/rtstate/busybox:1","labels":{"tier":"db","app":"shop"},
 "namedVolumes":[{"volumeName":"pvol","dest":"/data","options":["rw"]},{"volumeName":"x","dest":"rel"}],
 "spec":{"ociVersion":"1.0.2-dev","mounts":[{"destination":"/mnt/bind","type":"bind","source":"/srv/bind"},
   {"destination":"/proc","type":"proc","source":"proc"}]}})";

const char kState[] = R"({"state":3,"pid":4242,"startedTime":"2026-12-05T15:15:30.801400767Z",
 "bindMounts":{"/etc/hosts":"/run/x/hosts","/run/.containerenv":"/run/x/.containerenv"}})";

TEST(PodmanStateTest, ParsesStorageFiles) {
  auto cs =
      ParseStorageContainers(R"([{"id":")" + kCtr + R"(","names":["db","alias"],"image":")" +
                             kImage + R"(","layer":")" + kOwn +
                             R"(","metadata":"{\"image-name\":\"localhost/bb:1\",\"name\":\"db\"}"},
      {"names":["no-id"]},{"id":"x","metadata":"{broken"}])");
  ASSERT_TRUE(cs.ok()) << cs.status().message();
  EXPECT_EQ(*cs,
            (std::vector<StorageContainer>{{kCtr, {"db", "alias"}, kImage, kOwn, "localhost/bb:1"},
                                           {"x", {}, "", "", ""}}));
  auto images = ParseStorageImages(R"([{"id":")" + kImage + R"(","digest":")" + kDigest +
                                   R"(","names":["localhost/bb:1"],"layer":")" + kTop +
                                   R"("},{"id":"b","digest":"md5:x"}])");
  ASSERT_TRUE(images.ok());
  EXPECT_EQ(*images, (std::vector<StorageImage>{{kImage, kDigest, {"localhost/bb:1"}, kTop},
                                                {"b", "", {}, ""}}));
  auto layers = ParseStorageLayers(R"([{"id":"a"},{"id":"b","parent":"a"}])");
  ASSERT_TRUE(layers.ok());
  EXPECT_EQ(*layers, (std::map<std::string, std::string>{{"a", ""}, {"b", "a"}}));
  for (const char* bad : {"{}", "", "[", "null"}) {
    EXPECT_EQ(ParseStorageContainers(bad).status().code(), StatusCode::kCorruption) << bad;
    EXPECT_EQ(ParseStorageImages(bad).status().code(), StatusCode::kCorruption) << bad;
    EXPECT_EQ(ParseStorageLayers(bad).status().code(), StatusCode::kCorruption) << bad;
  }
}

TEST(PodmanStateTest, ParsesLibpodConfigAndState) {
  RuntimeContainer c;
  ASSERT_TRUE(ApplyLibpodConfig(kConfig, &c).ok());
  ASSERT_TRUE(ApplyLibpodState(kState, &c).ok());
  RuntimeContainer want;
  want.name = "db";
  want.image = "localhost/rtstate/busybox:1";
  want.image_id = "sha256:" + kImage;
  want.labels = {{"app", "shop"}, {"tier", "db"}};
  want.pid = 4242;
  want.running = true;
  want.started_ns = 1796483730801400767LL;
  want.mounts = {{"/data", "pvol", "volume"},
                 {"/etc/hosts", "/run/x/hosts", "bind"},
                 {"/mnt/bind", "/srv/bind", "bind"},
                 {"/run/.containerenv", "/run/x/.containerenv", "bind"}};
  EXPECT_EQ(c, want);

  RuntimeContainer stopped;
  ASSERT_TRUE(
      ApplyLibpodState(R"({"state":6,"pid":0,"startedTime":"2026-12-05T15:15:30Z"})", &stopped)
          .ok());
  EXPECT_FALSE(stopped.running);
  EXPECT_EQ(stopped.started_ns, 0);
  EXPECT_EQ(ApplyLibpodConfig("[]", &c).code(), StatusCode::kCorruption);
  EXPECT_EQ(ApplyLibpodState("{", &c).code(), StatusCode::kCorruption);
}

TEST(PodmanStateTest, StorageRootsFromConmonConfigAndHomes) {
  testutil::MemHost host;
  host.PutFile("/etc/containers/storage.conf",
               "[storage]\ndriver = \"overlay\"\ngraphroot = \"/srv/containers\"\n");
  host.PutFile("/etc/passwd",
               "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n"
               "bob:x:1001:1001::/home/bob:/bin/bash\nbroken line\n");
  host.PutDir("/home/alice/.local/share/containers/storage");
  host.PutDir("/root/.local/share/containers/storage");  // root's is not rootless
  std::vector<std::vector<std::string>> conmons = {
      {"/usr/bin/conmon", "--api-version", "1", "-b",
       "/tmp/p/root/overlay-containers/" + kCtr + "/userdata", "--exit-command-arg", "--root",
       "--exit-command-arg", "/tmp/p/root", "--exit-command-arg", "--runroot"},
      {"conmon", "--bundle", "/var/lib/crio-store/overlay-containers/" + kCrio + "/userdata"},
  };
  EXPECT_EQ(StorageRoots(host, "/etc", conmons),
            (std::vector<std::string>{"/tmp/p/root", "/var/lib/crio-store", "/srv/containers",
                                      "/var/lib/containers/storage",
                                      "/home/alice/.local/share/containers/storage"}));
}

// A storage as podman 4.3 and CRI-O leave it: a running podman container, a
// stopped one, a CRI-O container, a buildah working container.
class StorageRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string stopped(64, 'f'), buildah(64, '9');
    host_.PutFile(kRoot + "/overlay-containers/containers.json",
                  R"([{"id":")" + kCtr + R"(","names":["db"],"image":")" + kImage +
                      R"(","layer":")" + kOwn + R"("},{"id":")" + stopped +
                      R"(","names":["old"],"image":")" + kImage + R"(","layer":"5"},{"id":")" +
                      kCrio + R"(","names":["k8s_nginx_web"],"image":")" + kImage +
                      R"(","layer":")" + kCrioOwn + R"("},{"id":")" + buildah +
                      R"(","names":["work"],"image":")" + kImage + R"(","layer":"6"}])");
    host_.PutFile(
        kRoot + "/overlay-images/images.json",
        R"([{"id":")" + kImage + R"(","digest":")" + kDigest + R"(","layer":")" + kTop + R"("}])");
    host_.PutFile(kRoot + "/overlay-layers/layers.json",
                  R"([{"id":")" + kBase + R"("},{"id":")" + kTop + R"(","parent":")" + kBase +
                      R"("},{"id":")" + kOwn + R"(","parent":")" + kTop + R"("},{"id":")" +
                      kCrioOwn + R"(","parent":")" + kTop + R"("}])");
    BoltBucket db;
    db.Sub("runtime-config").Put("run-root", "/run/containers/storage");
    db.Sub("ctr").Sub(kCtr).Put("config", kConfig).Put("state", kState);
    db.Sub("ctr").Sub(stopped).Put("config", R"({"name":"old"})").Put("state", R"({"state":6})");
    host_.PutFile(kRoot + "/libpod/bolt_state.db", testutil::BuildBoltFile(db));
    host_.PutFile(kRoot + "/overlay-containers/" + kCrio + "/userdata/config.json",
                  R"({"annotations":{"io.kubernetes.cri-o.ContainerType":"container",
          "io.kubernetes.cri-o.ImageName":"docker.io/library/nginx:1",
          "io.kubernetes.cri-o.Labels":"{\"io.kubernetes.container.name\":\"nginx\",\"io.kubernetes.pod.name\":\"web\",\"io.kubernetes.pod.namespace\":\"shop\"}"},
          "mounts":[{"destination":"/etc/hosts","type":"bind","source":"/run/h"}]})");
    host_.PutFile("/run/containers/storage/overlay-containers/" + kCrio + "/userdata/pidfile",
                  "5151\n");
    host_.PutFile(kRoot + "/overlay-containers/" + buildah + "/userdata/config.json",
                  R"({"annotations":{}})");
    host_.PutDir("/proc/4242");
    host_.PutDir("/proc/5151");
  }
  const std::string kRoot = "/var/lib/containers/storage";
  testutil::MemHost host_;
};

TEST_F(StorageRootTest, ReadsPodmanAndCrioContainers) {
  RuntimeInventory inv;
  ReadStorageRoot(host_, kRoot, "/proc", true, &inv);
  EXPECT_TRUE(inv.notes.empty()) << inv.notes[0];
  ASSERT_EQ(inv.containers.size(), 2u);
  const RuntimeContainer& p = inv.containers[0];
  EXPECT_EQ(p.runtime, "podman");
  EXPECT_EQ(p.id, kCtr);
  EXPECT_EQ(p.name, "db");
  EXPECT_EQ(p.image, "localhost/rtstate/busybox:1");
  EXPECT_EQ(p.image_id, "sha256:" + kImage);
  EXPECT_EQ(p.image_digest, kDigest);
  EXPECT_EQ(p.pid, 4242);
  EXPECT_EQ(p.storage_driver, "overlay");
  EXPECT_EQ(p.image_layers, (std::vector<std::string>{kRoot + "/overlay/" + kTop + "/diff",
                                                      kRoot + "/overlay/" + kBase + "/diff"}));
  EXPECT_EQ(p.mounts.size(), 4u);
  EXPECT_EQ(p.note, "");

  const RuntimeContainer& o = inv.containers[1];
  EXPECT_EQ(o.runtime, "cri-o");
  EXPECT_EQ(o.id, kCrio);
  EXPECT_EQ(o.name, "web/nginx");
  EXPECT_EQ(o.image, "docker.io/library/nginx:1");
  EXPECT_EQ(o.image_id, "sha256:" + kImage);
  EXPECT_EQ(o.pid, 5151);
  EXPECT_EQ(o.labels, (std::vector<std::pair<std::string, std::string>>{
                          {"io.kubernetes.container.name", "nginx"},
                          {"io.kubernetes.pod.name", "web"},
                          {"io.kubernetes.pod.namespace", "shop"}}));
  EXPECT_EQ(o.mounts, (std::vector<RuntimeMount>{{"/etc/hosts", "/run/h", "bind"}}));
  EXPECT_EQ(o.image_layers, p.image_layers);

  RuntimeInventory all;
  ReadStorageRoot(host_, kRoot, "/proc", false, &all);
  ASSERT_EQ(all.containers.size(), 3u);  // not buildah's
  EXPECT_EQ(all.containers[1].name, "old");
  EXPECT_FALSE(all.containers[1].running);
}

TEST_F(StorageRootTest, AProcessThatIsGoneIsNotRunning) {
  host_.Erase("/proc/4242");
  RuntimeInventory inv;
  ReadStorageRoot(host_, kRoot, "/proc", true, &inv);
  ASSERT_EQ(inv.containers.size(), 1u);
  EXPECT_EQ(inv.containers[0].runtime, "cri-o");
}

TEST_F(StorageRootTest, DamagedFilesAreNotes) {
  host_.PutFile(kRoot + "/overlay-layers/layers.json", "{");
  std::string db = *host_.Contents(kRoot + "/libpod/bolt_state.db");
  db[4096 + 16 + 4] = 9;  // meta 1 of an unknown version, meta 0 still good
  db[16 + 4] = 9;
  host_.PutFile(kRoot + "/libpod/bolt_state.db", db);
  RuntimeInventory inv;
  ReadStorageRoot(host_, kRoot, "/proc", true, &inv);
  EXPECT_EQ(inv.notes, (std::vector<std::string>{
                           "podman: " + kRoot + "/libpod/bolt_state.db: unknown bbolt version 9"}));
  // Without libpod's database only CRI-O's container is known; its note
  // says why it has no layers.
  ASSERT_EQ(inv.containers.size(), 1u);
  EXPECT_EQ(inv.containers[0].runtime, "cri-o");
  EXPECT_NE(inv.containers[0].note.find(kRoot + "/overlay-layers/layers.json: bad JSON"),
            std::string::npos)
      << inv.containers[0].note;

  host_.PutFile(kRoot + "/overlay-containers/containers.json", "[{]");
  RuntimeInventory broken;
  ReadStorageRoot(host_, kRoot, "/proc", true, &broken);
  EXPECT_TRUE(broken.containers.empty());
  ASSERT_EQ(broken.notes.size(), 2u);
  EXPECT_NE(broken.notes[1].find(kRoot + "/overlay-containers/containers.json: bad JSON"),
            std::string::npos)
      << broken.notes[1];
}

// Podman 4.8 and later keep libpod's state in SQLite: the same documents in
// ContainerConfig and ContainerState. A real SQLite file, read through the
// real host.
TEST(PodmanSqliteTest, ReadsLibpodSqliteDatabase) {
  testutil::TempDir dir;
  const std::string root = dir.path();
  testutil::WriteFile(root + "/overlay-containers/containers.json",
                      R"([{"id":")" + kCtr + R"(","names":["db"],"image":")" + kImage +
                          R"(","layer":")" + kOwn + R"("}])");
  testutil::WriteFile(
      root + "/overlay-images/images.json",
      R"([{"id":")" + kImage + R"(","digest":")" + kDigest + R"(","layer":")" + kTop + R"("}])");
  testutil::WriteFile(
      root + "/overlay-layers/layers.json",
      R"([{"id":")" + kTop + R"("},{"id":")" + kOwn + R"(","parent":")" + kTop + R"("}])");
  testutil::WriteFile(root + "/libpod/.keep", "");
  const std::string pid = std::to_string(::getpid());  // a live process
  {
    auto db = sqlite::Db::Open(root + "/libpod/db.sql");
    ASSERT_TRUE(db.ok()) << db.status().message();
    ASSERT_TRUE((*db)
                    ->Exec(R"(
      CREATE TABLE DBConfig(ID INTEGER PRIMARY KEY, SchemaVersion INTEGER, OS TEXT, StaticDir TEXT,
                            TmpDir TEXT, GraphRoot TEXT, RunRoot TEXT, GraphDriver TEXT, VolumeDir TEXT);
      CREATE TABLE ContainerConfig(ID TEXT PRIMARY KEY NOT NULL, Name TEXT UNIQUE NOT NULL, PodID TEXT,
                                   JSON TEXT NOT NULL);
      CREATE TABLE ContainerState(ID TEXT PRIMARY KEY NOT NULL, State INTEGER NOT NULL, ExitCode INTEGER,
                                  JSON TEXT NOT NULL);
      INSERT INTO DBConfig(ID, RunRoot) VALUES (1, '/run/x');)")
                    .ok());
    auto ins = (*db)->Prepare("INSERT INTO ContainerConfig(ID, Name, JSON) VALUES (?, 'db', ?)");
    ASSERT_TRUE(ins.ok());
    ASSERT_TRUE(ins->Bind(1, kCtr).Bind(2, std::string_view(kConfig)).Run().ok());
    auto st = (*db)->Prepare("INSERT INTO ContainerState(ID, State, JSON) VALUES (?, 3, ?)");
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE(st->Bind(1, kCtr).Bind(2, R"({"state":3,"pid":)" + pid + "}").Run().ok());
  }
  RuntimeInventory inv;
  ReadStorageRoot(DefaultHost(), root, "/proc", true, &inv);
  EXPECT_TRUE(inv.notes.empty()) << inv.notes[0];
  ASSERT_EQ(inv.containers.size(), 1u);
  const RuntimeContainer& c = inv.containers[0];
  EXPECT_EQ(c.runtime, "podman");
  EXPECT_EQ(c.name, "db");
  EXPECT_EQ(c.image, "localhost/rtstate/busybox:1");
  EXPECT_EQ(c.image_digest, kDigest);
  EXPECT_EQ(c.pid, ::getpid());
  EXPECT_EQ(c.labels.size(), 2u);
  EXPECT_EQ(c.image_layers, (std::vector<std::string>{root + "/overlay/" + kTop + "/diff"}));
  EXPECT_EQ(c.note, "");

  // Not a libpod database: a note, nothing listed as podman's.
  testutil::WriteFile(root + "/libpod/db.sql", std::string(4096, 'x'));
  RuntimeInventory bad;
  ReadStorageRoot(DefaultHost(), root, "/proc", true, &bad);
  EXPECT_TRUE(bad.containers.empty());
  ASSERT_EQ(bad.notes.size(), 1u);
  EXPECT_TRUE(bad.notes[0].starts_with("podman: " + root + "/libpod/db.sql")) << bad.notes[0];
}

}  // namespace
}  // namespace driftwatch::container
