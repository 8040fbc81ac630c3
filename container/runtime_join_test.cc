#include "container/runtime_join.h"

#include <gtest/gtest.h>

#include "container/discovery.h"

namespace driftwatch::container {
namespace {

RuntimeContainer Rc(std::string runtime, std::string id, std::string name, pid_t pid) {
  RuntimeContainer c;
  c.runtime = std::move(runtime);
  c.id = std::move(id);
  c.name = std::move(name);
  c.pid = pid;
  c.running = pid > 0;
  return c;
}

const std::string kWebId = std::string(64, 'a');
const std::string kDbId = std::string(64, 'b');

RuntimeInventory Fleet() {
  RuntimeInventory inv;
  inv.containers = {Rc("containerd", "redis", "", 700), Rc("docker", kWebId, "web-1", 500),
                    Rc("podman", kDbId, "db", 600)};
  return inv;
}

TEST(RuntimeJoinTest, MatchesByRuntimeAndIdFirst) {
  RuntimeInventory inv = Fleet();
  // The cgroup's (runtime, id) wins over a pid that another container has.
  const RuntimeContainer* m = MatchRuntimeContainer(inv, "docker", kWebId, 600, 0, {});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->name, "web-1");
  // Same id under another runtime is no match by id; the pid decides.
  m = MatchRuntimeContainer(inv, "podman", kWebId, 600, 0, {});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->name, "db");
}

TEST(RuntimeJoinTest, MatchesByPidWhenTheCgroupNamesNoRuntime) {
  // ctr run: cgroup /default/redis names no runtime; discovery says unknown.
  const RuntimeInventory inv = Fleet();
  const RuntimeContainer* m =
      MatchRuntimeContainer(inv, "unknown", "mntns-4026532001", 700, 4026532001, {});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->runtime, "containerd");
  EXPECT_EQ(m->id, "redis");
}

TEST(RuntimeJoinTest, MatchesByMountNamespaceOfTheRuntimePid) {
  // The runtime's pid is not the namespace's lowest pid (a helper came first).
  std::map<pid_t, uint64_t> ns{{500, 11}, {600, 22}, {700, 33}};
  const RuntimeInventory inv = Fleet();
  const RuntimeContainer* m = MatchRuntimeContainer(inv, "unknown", "", 450, 22, ns);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->name, "db");
}

TEST(RuntimeJoinTest, NoMatchForAContainerNoRuntimeKnows) {
  std::map<pid_t, uint64_t> ns{{500, 11}};
  const RuntimeInventory inv = Fleet();
  EXPECT_EQ(MatchRuntimeContainer(inv, "lxc", "box", 900, 99, ns), nullptr);
  EXPECT_EQ(MatchRuntimeContainer(RuntimeInventory{}, "docker", kWebId, 500, 11, ns), nullptr);
  // A stopped container (pid 0) never matches by pid.
  RuntimeInventory stopped;
  stopped.containers = {Rc("docker", kWebId, "old", 0)};
  EXPECT_EQ(MatchRuntimeContainer(stopped, "unknown", "", 0, 0, {{0, 0}}), nullptr);
}

TEST(RuntimeJoinTest, ExcludedDestinationsAreCleanSortedAndUnique) {
  std::vector<RuntimeMount> mounts = {{"/var/lib/data/", "vol1", "volume"},
                                      {"/etc/nginx//conf.d", "/srv/conf", "bind"},
                                      {"/tmp", "", "tmpfs"},
                                      {"/var/lib/data", "vol1", "volume"},
                                      {"relative", "x", "bind"},
                                      {"/", "/srv/root", "bind"},
                                      {"/a/../etc", "/x", "bind"},
                                      {"/run/./secrets", "/s", "bind"}};
  EXPECT_EQ(
      ExcludedDestinations(mounts),
      (std::vector<std::string>{"/etc/nginx/conf.d", "/run/secrets", "/tmp", "/var/lib/data"}));
}

TEST(RuntimeJoinTest, RuntimeNames) {
  EXPECT_EQ(RuntimeName(Rc("docker", kWebId, "web-1", 1)), "web-1");
  EXPECT_EQ(RuntimeName(Rc("podman", kDbId, "db", 1)), "db");
  EXPECT_EQ(RuntimeName(Rc("docker", kWebId, "", 1)), "");
  // containerd: the Kubernetes pod and container, else the id.
  RuntimeContainer k8s = Rc("containerd", kWebId, "", 1);
  k8s.labels = {{"io.kubernetes.container.name", "nginx"},
                {"io.kubernetes.pod.name", "shop-7d9f"},
                {"io.kubernetes.pod.namespace", "shop"}};
  EXPECT_EQ(RuntimeName(k8s), "shop-7d9f/nginx");
  EXPECT_EQ(RuntimeName(Rc("containerd", "redis", "", 1)), "redis");
  k8s.labels = {{"io.kubernetes.pod.name", "shop-7d9f"}};
  EXPECT_EQ(RuntimeName(k8s), kWebId);
  // Names an event path cannot carry are not used.
  EXPECT_EQ(RuntimeName(Rc("docker", kWebId, "a:/b", 1)), "");
  EXPECT_EQ(RuntimeName(Rc("docker", kWebId, "a/b", 1)), "");
  EXPECT_EQ(RuntimeName(Rc("docker", kWebId, "a\nb", 1)), "");
  EXPECT_EQ(RuntimeName(Rc("docker", kWebId, std::string(254, 'x'), 1)), "");
  k8s.labels = {{"io.kubernetes.container.name", "c"}, {"io.kubernetes.pod.name", "p:/x"}};
  EXPECT_EQ(RuntimeName(k8s), kWebId);
}

DiscoveredContainer Found(std::string runtime, std::string id) {
  DiscoveredContainer c;
  c.pid = 4242;
  c.runtime = std::move(runtime);
  c.id = std::move(id);
  return c;
}

TEST(RuntimeJoinTest, LabelsAndNamesAsEventPathsCarryThem) {
  DiscoveredContainer web = Found("docker", kWebId);
  web.identity = Rc("docker", kWebId, "web-1", 4242);
  EXPECT_EQ(ContainerLabel(web), "docker:web-1");
  EXPECT_EQ(ContainerName(web), "web-1");

  DiscoveredContainer pod = Found("containerd", kDbId);
  pod.identity = Rc("containerd", kDbId, "", 4242);
  pod.identity->labels = {{"io.kubernetes.container.name", "nginx"},
                          {"io.kubernetes.pod.name", "shop-1"}};
  EXPECT_EQ(ContainerLabel(pod), "containerd:shop-1/nginx");
  EXPECT_EQ(ContainerName(pod), "shop-1/nginx");

  DiscoveredContainer unnamed = Found("docker", kWebId);
  unnamed.identity = Rc("docker", kWebId, "", 4242);
  EXPECT_EQ(ContainerLabel(unnamed), "docker:aaaaaaaaaaaa");
  EXPECT_EQ(ContainerName(unnamed), "docker:aaaaaaaaaaaa");

  DiscoveredContainer plain = Found("cri-o", kDbId);
  EXPECT_EQ(ContainerLabel(plain), "cri-o:bbbbbbbbbbbb");
  DiscoveredContainer chroot = Found("unknown", "mntns-4026532001");
  EXPECT_EQ(ContainerLabel(chroot), "unknown:mntns-4026532001");

  DiscoveredContainer own = Found("driftwatch", "0123abcd");
  own.name = "web";
  EXPECT_EQ(ContainerLabel(own), "web");
  EXPECT_EQ(ContainerName(own), "web");
}

TEST(RuntimeJoinTest, ContainerInfoCarriesTheWholeIdentity) {
  DiscoveredContainer c = Found("docker", kWebId);
  RuntimeContainer rc = Rc("docker", kWebId, "web-1", 4242);
  rc.image = "busybox:latest";
  rc.image_id = "sha256:" + std::string(64, 'c');
  rc.image_digest = "sha256:" + std::string(64, 'd');
  rc.labels = {{"b", "2"}, {"a", "1"}};
  rc.started_ns = 1'700'000'000'000'000'000;
  rc.note = "hostconfig.json: unreadable";
  c.identity = rc;
  c.image = rc.image;
  c.excluded = {"/data", "/etc/app"};
  c.image_tree = std::string(32, 'e');
  c.drift_known = true;
  c.events.resize(3);
  c.note = "";
  ContainerInfo info = ContainerInfoOf(c);
  ContainerInfo want;
  want.name = "web-1";
  want.id = kWebId;
  want.runtime = "docker";
  want.image = "busybox:latest";
  want.image_digest = rc.image_digest;
  want.drift_known = true;
  want.events = 3;
  want.image_id = rc.image_id;
  want.image_tree = std::string(32, 'e');
  want.labels = {{"a", "1"}, {"b", "2"}};
  want.started_ns = rc.started_ns;
  want.pid = 4242;
  want.excluded = {"/data", "/etc/app"};
  want.note = "hostconfig.json: unreadable";
  EXPECT_EQ(info, want);

  // Unknown drift: no event count, the discovery's note after the runtime's.
  c.drift_known = false;
  c.note = "root is btrfs, scan failed";
  info = ContainerInfoOf(c);
  EXPECT_EQ(info.events, 0);
  EXPECT_EQ(info.note, "hostconfig.json: unreadable; root is btrfs, scan failed");

  // This launcher's container: its image digest is its tree.
  DiscoveredContainer own = Found("driftwatch", "0123abcd");
  own.name = "web";
  own.image = "nginx:1.25";
  own.image_digest = Hash128{0x0102030405060708ull, 0x090a0b0c0d0e0f10ull};
  info = ContainerInfoOf(own);
  EXPECT_EQ(info.image_digest, own.image_digest.Hex());
  EXPECT_EQ(info.image_tree, own.image_digest.Hex());
  EXPECT_EQ(info.image_id, "");
}

TEST(RuntimeJoinTest, ContainerInfoKeepsTheWireLimits) {
  DiscoveredContainer c = Found("docker", kWebId);
  RuntimeContainer rc = Rc("docker", kWebId, "web-1", 4242);
  for (size_t i = 0; i < kMaxContainerLabels + 10; ++i)
    rc.labels.emplace_back("k" + std::to_string(1000 + i), "v");
  rc.labels.emplace_back("zz-big", std::string(kMaxContainerLabelBytes + 1, 'x'));
  rc.note = std::string(kMaxContainerNoteBytes - 1, 'n') + "\xc3\xa9tat";  // é across the limit
  c.identity = rc;
  for (size_t i = 0; i < kMaxContainerExcluded + 5; ++i)
    c.excluded.push_back("/v" + std::to_string(i));
  ContainerInfo info = ContainerInfoOf(c);
  EXPECT_EQ(info.labels.size(), kMaxContainerLabels);
  EXPECT_EQ(info.excluded.size(), kMaxContainerExcluded);
  EXPECT_EQ(info.note, std::string(kMaxContainerNoteBytes - 1, 'n'));
}

}  // namespace
TEST(RuntimeJoinTest, OnlyLibpodsOwnMtabLinkIsRuntimeMade) {
  DriftEvent mtab;
  mtab.path = "/etc/mtab";
  mtab.kind = DriftKind::kAdded;
  mtab.new_entry = Entry{};
  mtab.new_entry->type = EntryType::kSymlink;
  mtab.new_entry->link_target = "/proc/mounts";
  EXPECT_TRUE(IsRuntimeMadeEvent("podman", {}, mtab));
  EXPECT_TRUE(IsRuntimeMadeEvent("cri-o", {}, mtab));
  // Docker and containerd make no such link: there it is drift.
  EXPECT_FALSE(IsRuntimeMadeEvent("docker", {}, mtab));
  EXPECT_FALSE(IsRuntimeMadeEvent("containerd", {}, mtab));
  DriftEvent elsewhere = mtab;
  elsewhere.new_entry->link_target = "/tmp/fake-mounts";
  EXPECT_FALSE(IsRuntimeMadeEvent("podman", {}, elsewhere));
  DriftEvent file = mtab;
  file.new_entry->type = EntryType::kFile;
  EXPECT_FALSE(IsRuntimeMadeEvent("podman", {}, file));
  DriftEvent modified = mtab;
  modified.kind = DriftKind::kModified;
  modified.old_entry = *mtab.new_entry;
  EXPECT_FALSE(IsRuntimeMadeEvent("podman", {}, modified));
  DriftEvent other = mtab;
  other.path = "/etc/mtab2";
  EXPECT_FALSE(IsRuntimeMadeEvent("podman", {}, other));
}

TEST(RuntimeJoinTest, DirectoriesMadeToHoldAMountPointAreRuntimeMade) {
  auto added_dir = [](const std::string& path) {
    DriftEvent e;
    e.path = path;
    e.kind = DriftKind::kAdded;
    e.new_entry = Entry{};
    e.new_entry->type = EntryType::kDir;
    return e;
  };
  const std::vector<std::string> excluded = {"/data", "/run/.containerenv", "/srv/a/b"};
  EXPECT_TRUE(IsRuntimeMadeEvent("podman", excluded, added_dir("/run")));
  EXPECT_TRUE(IsRuntimeMadeEvent("docker", excluded, added_dir("/srv")));
  EXPECT_TRUE(IsRuntimeMadeEvent("docker", excluded, added_dir("/srv/a")));
  // The mount point itself is excluded by the diff; a sibling, a prefix
  // that is not a parent, or a file is drift.
  EXPECT_FALSE(IsRuntimeMadeEvent("docker", excluded, added_dir("/dat")));
  EXPECT_FALSE(IsRuntimeMadeEvent("docker", excluded, added_dir("/srv/a/c")));
  EXPECT_FALSE(IsRuntimeMadeEvent("docker", excluded, added_dir("/opt")));
  DriftEvent file = added_dir("/run");
  file.new_entry->type = EntryType::kFile;
  EXPECT_FALSE(IsRuntimeMadeEvent("podman", excluded, file));
  DriftEvent changed = added_dir("/run");
  changed.kind = DriftKind::kModified;
  changed.old_entry = *changed.new_entry;
  EXPECT_FALSE(IsRuntimeMadeEvent("podman", excluded, changed));
  EXPECT_FALSE(IsRuntimeMadeEvent("podman", {}, added_dir("/run")));
}

}  // namespace driftwatch::container
