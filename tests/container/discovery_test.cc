// `driftwatch containers`: this launcher's containers and one started by
// another launcher (unshare + overlay mount + chroot) are found, with their
// upper-layer drift.
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <chrono>
#include <thread>

#include "agent/store.h"
#include "cli/image_tree.h"
#include "container/discovery.h"
#include "tests/container/fixture.h"
// After gtest: cpprest defines a U() macro that gtest's headers would see.
#include <cpprest/json.h>

namespace driftwatch::container::testing {
namespace {

using DiscoveryTest = ContainerTest;

web::json::value FindBy(const web::json::value& list, const std::string& key,
                        const std::string& value) {
  for (const auto& v : list.as_array()) {
    if (v.has_field(key) && v.at(key).is_string() && v.at(key).as_string() == value) return v;
  }
  return web::json::value::null();
}

std::vector<std::string> EventLines(const web::json::value& c) {
  std::vector<std::string> out;
  for (const auto& e : c.at("events").as_array())
    out.push_back(e.at("kind").as_string() + " " + e.at("path").as_string());
  return out;
}

TEST_F(DiscoveryTest, FindsOwnContainersWithImageAndDrift) {
  mkdir((tmp_ + "/vol").c_str(), 0755);
  ASSERT_EQ(Cli({"run", "--detach", "--name", "own", "--volume", tmp_ + "/vol:/data", "bb", "--",
                 "/bin/sleep", "1000"})
                .code,
            0);
  ContainerRecord rec = Record("own");
  CliResult r = Cli({"containers", "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  web::json::value own = FindBy(web::json::value::parse(r.out), "name", "own");
  ASSERT_FALSE(own.is_null()) << r.out;
  EXPECT_EQ(own.at("runtime").as_string(), "driftwatch");
  EXPECT_EQ(own.at("id").as_string(), rec.id);
  EXPECT_EQ(own.at("pid").as_integer(), rec.pid);
  EXPECT_EQ(own.at("image").as_string(), "bb");
  EXPECT_EQ(own.at("image_digest").as_string(), rec.image_digest.Hex());
  EXPECT_EQ(own.at("root_fstype").as_string(), "overlay");
  EXPECT_EQ(own.at("image_tree").as_string(), rec.image_digest.Hex());
  EXPECT_EQ(own.at("excluded").serialize(), R"(["/data"])");
  EXPECT_FALSE(own.at("drifted").as_bool());

  Sh("own", "rm /etc/hosts && echo 1 > /etc/new && echo state > /data/x");
  r = Cli({"containers", "--format", "json"});
  own = FindBy(web::json::value::parse(r.out), "name", "own");
  ASSERT_FALSE(own.is_null()) << r.out;
  EXPECT_TRUE(own.at("drifted").as_bool());
  EXPECT_EQ(EventLines(own), (std::vector<std::string>{"removed /etc/hosts", "added /etc/new"}));
}

class OtherLauncherTest : public DiscoveryTest {
 protected:
  // Another runtime's way: private mount namespace, pid namespace, overlay
  // over the imported image, changes made from outside before chroot.
  // --kill-child ties the container's life to the unshare process this test
  // kills in TearDown. Returns false (with a skip) without unshare.
  bool StartOther() {
    lower_ = state_dir_ + "/images/bb/rootfs";
    upper_ = tmp_ + "/other/upper";
    const std::string work = tmp_ + "/other/work", merged = tmp_ + "/other/merged";
    for (const std::string& d : {tmp_ + "/other", upper_, work, merged}) mkdir(d.c_str(), 0755);
    const std::string script =
        "set -e; mount --make-rprivate /; mount -t overlay overlay -o lowerdir=" + lower_ +
        ",upperdir=" + upper_ + ",workdir=" + work + " " + merged + "; mount -t proc proc " +
        merged + "/proc; rm " + merged + "/etc/hosts; echo changed > " + merged +
        "/etc/passwd; mkdir " + merged + "/var; echo 1 > " + merged + "/var/state; exec chroot " +
        merged + " /bin/sleep 1000";
    pid_t pid = StartForeign(script);
    helpers_.push_back(pid);
    return true;
  }

  // The other launcher's container in `driftwatch containers --format json
  // ARGS...` once its changes are made; null when it never shows.
  web::json::value FindOther(const std::vector<std::string>& args = {}) {
    for (int i = 0; i < 100; ++i) {
      std::vector<std::string> cmd = {"containers", "--format", "json"};
      cmd.insert(cmd.end(), args.begin(), args.end());
      CliResult r = Cli(cmd);
      EXPECT_EQ(r.code, 0) << r.err;
      if (r.code != 0) break;
      const web::json::value list = web::json::value::parse(r.out);
      for (const auto& v : list.as_array()) {
        if (v.has_field("upper") && v.at("upper").as_string() == upper_ &&
            v.at("events").size() == 4 - excluded_events_)
          return v;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return web::json::value::null();
  }

  std::string lower_, upper_;
  size_t excluded_events_ = 0;
};

TEST_F(OtherLauncherTest, FindsAContainerOfAnotherLauncher) {
  if (access("/usr/bin/unshare", X_OK) != 0) GTEST_SKIP() << "needs unshare (util-linux)";
  ASSERT_TRUE(StartOther());
  web::json::value other = FindOther();
  ASSERT_FALSE(other.is_null()) << "the unshare container was not discovered";
  EXPECT_EQ(other.at("runtime").as_string(), "unknown");
  EXPECT_EQ(other.at("id").as_string().rfind("mntns-", 0), 0u);
  EXPECT_EQ(other.at("name").as_string(), "unknown:" + other.at("id").as_string());
  EXPECT_EQ(other.at("root_fstype").as_string(), "overlay");
  EXPECT_EQ(other.at("lower").size(), 1u);
  EXPECT_EQ(other.at("lower")[0].as_string(), lower_);
  EXPECT_TRUE(other.at("drifted").as_bool());
  EXPECT_EQ(EventLines(other),
            (std::vector<std::string>{"removed /etc/hosts", "modified /etc/passwd", "added /var",
                                      "added /var/state"}));
  auto e = other.at("events")[1];
  EXPECT_EQ(e.at("new").at("hash").as_string(), H("changed\n"));
}

// A Docker data root naming the same process: the container is joined to it
// by pid (its cgroup names no runtime), named, tied to its image, its volume
// left out of the drift, and the image baselined once in the agent store.
TEST_F(OtherLauncherTest, NamesAContainerFromTheRuntimesStateFiles) {
  if (access("/usr/bin/unshare", X_OK) != 0) GTEST_SKIP() << "needs unshare (util-linux)";
  ASSERT_TRUE(StartOther());
  web::json::value other = FindOther();
  ASSERT_FALSE(other.is_null()) << "the unshare container was not discovered";
  const int64_t pid = other.at("pid").as_number().to_int64();

  const std::string id(64, '7'), image_id = "sha256:" + std::string(64, '1'),
                                 digest = "sha256:" + std::string(64, '2');
  const std::string root = tmp_ + "/docker";
  WriteFile(root + "/containers/" + id + "/config.v2.json",
            R"({"ID": ")" + id + R"(", "Name": "/web-1", "Image": ")" + image_id +
                R"(", "Driver": "overlay2", "Config": {"Image": "bb:1", "Labels": {"app": "web",
                "io.kubernetes.pod.namespace": "shop"}}, "State": {"Running": true, "Pid": )" +
                std::to_string(pid) + R"(, "StartedAt": "2026-12-05T10:00:00.5Z"},
                "MountPoints": {"/var": {"Destination": "/var", "Type": "volume", "Name": "v1"}}})");
  WriteFile(root + "/containers/" + id + "/hostconfig.json", R"({"Tmpfs": {"/run": ""}})");
  WriteFile(root + "/image/overlay2/repositories.json", R"({"Repositories": {"bb": {"bb:1": ")" +
                                                            image_id + R"(", "bb@)" + digest +
                                                            R"(": ")" + image_id + R"("}}})");
  excluded_events_ = 2;  // /var and /var/state are the volume's
  web::json::value named = FindOther({"--docker-root", root, "--db", db_});
  ASSERT_FALSE(named.is_null()) << "not joined to its Docker state";
  EXPECT_EQ(named.at("runtime").as_string(), "docker");
  EXPECT_EQ(named.at("id").as_string(), id);
  EXPECT_EQ(named.at("name").as_string(), "web-1");
  EXPECT_EQ(named.at("image").as_string(), "bb:1");
  EXPECT_EQ(named.at("image_id").as_string(), image_id);
  EXPECT_EQ(named.at("image_digest").as_string(), digest);
  EXPECT_EQ(named.at("labels").serialize(),
            R"({"app":"web","io.kubernetes.pod.namespace":"shop"})");
  EXPECT_EQ(named.at("started").as_string(), "2026-12-05T10:00:00.500000000Z");
  EXPECT_EQ(named.at("pid").as_number().to_int64(), pid);
  EXPECT_EQ(named.at("excluded").serialize(), R"(["/run","/var"])");
  EXPECT_EQ(EventLines(named),
            (std::vector<std::string>{"removed /etc/hosts", "modified /etc/passwd"}));
  // The image tree: the lower layer as baselined, shared by later runs.
  const std::string tree = named.at("image_tree").as_string();
  EXPECT_EQ(tree.size(), 32u) << named.serialize();
  {
    auto store = agent::Store::Open(DefaultHost(), db_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto rows = (*store)->Baselines(std::string("image:bb:1@" + digest));
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    ASSERT_EQ(rows->size(), 1u);
    auto snap = (*store)->GetSnapshot((*rows)[0].snapshot_id);
    ASSERT_TRUE(snap.ok()) << snap.status().ToString();
    EXPECT_EQ(snap->root.Hex(), tree);
    EXPECT_EQ(snap->root_path, lower_);
  }
  // Baselined once: a second listing reuses it.
  web::json::value again = FindOther({"--docker-root", root, "--db", db_});
  ASSERT_FALSE(again.is_null());
  EXPECT_EQ(again.at("image_tree").as_string(), tree);
  auto store = agent::Store::Open(DefaultHost(), db_);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Baselines(std::string("image:bb:1@" + digest))->size(), 1u);
}

// A root that is no overlay (Docker's vfs driver keeps full copies): the
// container's root is scanned through /proc/PID/root and compared with the
// image's baseline, recorded from the image's own copy on first sight.
TEST_F(DiscoveryTest, ComparesAFullCopyRootWithItsImage) {
  if (access("/usr/bin/unshare", X_OK) != 0) GTEST_SKIP() << "needs unshare (util-linux)";
  const std::string root = tmp_ + "/docker", image_copy = root + "/vfs/dir/cache1",
                    rootfs = root + "/vfs/dir/ctr1";
  const std::string lower = state_dir_ + "/images/bb/rootfs";
  for (const std::string& d : {root, root + "/vfs", root + "/vfs/dir"}) mkdir(d.c_str(), 0700);
  ASSERT_EQ(
      system(("cp -a " + lower + " " + image_copy + " && cp -a " + lower + " " + rootfs).c_str()),
      0);
  WriteFile(rootfs + "/etc/passwd", "changed\n");
  WriteFile(rootfs + "/etc/new", "new\n");
  WriteFile(rootfs + "/.dockerenv", "");
  WriteFile(rootfs + "/data/state", "volume data\n");
  ASSERT_EQ(unlink((rootfs + "/etc/hosts").c_str()), 0);
  const std::string script =
      "set -e; mount --make-rprivate /; exec chroot " + rootfs + " /bin/sleep 1000";
  pid_t helper = fork();
  if (helper == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int null_fd = open("/dev/null", O_RDWR);
    dup2(null_fd, 0);
    dup2(null_fd, 1);
    execl("/usr/bin/unshare", "unshare", "--mount", "--pid", "--fork", "--kill-child", "/bin/sh",
          "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  helpers_.push_back(helper);
  // The chroot's pid: the lowest of the mount namespace whose root is rootfs.
  int64_t pid = 0;
  for (int i = 0; i < 100 && pid == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CliResult r = Cli({"containers", "--format", "json"});
    ASSERT_EQ(r.code, 0) << r.err;
    const web::json::value list = web::json::value::parse(r.out);
    for (const auto& v : list.as_array()) {
      char link[4096];
      const std::string at = "/proc/" + std::to_string(v.at("pid").as_integer()) + "/root";
      ssize_t n = readlink(at.c_str(), link, sizeof(link));
      if (n > 0 && std::string(link, static_cast<size_t>(n)) == rootfs)
        pid = v.at("pid").as_integer();
    }
  }
  ASSERT_NE(pid, 0) << "the chroot container was not discovered";
  const std::string id(64, '9'), image_id = "sha256:" + std::string(64, '3'),
                                 chain = "sha256:" + std::string(64, '4');
  WriteFile(root + "/containers/" + id + "/config.v2.json",
            R"({"ID": ")" + id + R"(", "Name": "/full-copy-1", "Image": ")" + image_id +
                R"(", "Driver": "vfs", "Config": {"Image": "bb:1"}, "State": {"Running": true,
                "Pid": )" +
                std::to_string(pid) +
                R"(}, "MountPoints": {"/data": {"Destination": "/data", "Type": "volume",
                "Name": "v1"}}})");
  WriteFile(root + "/image/vfs/layerdb/mounts/" + id + "/parent", chain);
  WriteFile(root + "/image/vfs/layerdb/sha256/" + chain.substr(7) + "/cache-id", "cache1");
  CliResult r = Cli({"containers", "--format", "json", "--docker-root", root, "--db", db_});
  ASSERT_EQ(r.code, 0) << r.err;
  web::json::value c = FindBy(web::json::value::parse(r.out), "id", id);
  ASSERT_FALSE(c.is_null()) << r.out;
  EXPECT_EQ(c.at("runtime").as_string(), "docker");
  EXPECT_EQ(c.at("name").as_string(), "full-copy-1");
  EXPECT_EQ(c.at("excluded").serialize(), R"(["/data"])");
  EXPECT_TRUE(c.at("drift_known").as_bool()) << c.serialize();
  // /etc/hosts is the runtime's (ignored by the container rules), /.dockerenv
  // Docker's marker, /data the volume.
  EXPECT_EQ(EventLines(c), (std::vector<std::string>{"added /etc/new", "modified /etc/passwd"}));
  EXPECT_NE(r.err.find("image baseline 'image:bb:1@" + image_id + "' recorded from 1 layer(s)"),
            std::string::npos)
      << r.err;
  auto store = agent::Store::Open(DefaultHost(), db_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto rows = (*store)->Baselines(std::string("image:bb:1@" + image_id));
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  auto snap = (*store)->GetSnapshot((*rows)[0].snapshot_id);
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->root_path, image_copy);
  EXPECT_EQ(c.at("image_tree").as_string(), snap->root.Hex());
  // Nothing else is recorded for it: no container baseline of its own.
  auto own = (*store)->Baselines(std::string("container:docker:" + id));
  ASSERT_TRUE(own.ok());
  EXPECT_TRUE(own->empty());
}

// Several image layers are baselined as overlayfs merges them (through a
// private read-only overlay mount): the same tree as one directory holding
// the merged content, recorded once per image.
TEST_F(DiscoveryTest, AnImageOfSeveralLayersIsBaselinedAsMerged) {
  const std::string lower = state_dir_ + "/images/bb/rootfs";
  const std::string base = tmp_ + "/layers/c0", top = tmp_ + "/layers/c1",
                    merged = tmp_ + "/layers/merged";
  mkdir((tmp_ + "/layers").c_str(), 0700);
  ASSERT_EQ(system(("cp -a " + lower + " " + base + " && cp -a " + lower + " " + merged).c_str()),
            0);
  WriteFile(top + "/etc/extra", "extra\n");
  ASSERT_EQ(mknod((top + "/etc/passwd").c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
  ASSERT_EQ(chmod((top + "/etc").c_str(), 0755), 0);
  ASSERT_EQ(chmod(top.c_str(), 0755), 0);
  WriteFile(merged + "/etc/extra", "extra\n");
  ASSERT_EQ(unlink((merged + "/etc/passwd").c_str()), 0);
  // The merged view's directories carry the top layer's attributes.
  struct stat st;
  ASSERT_EQ(stat((top + "/etc").c_str(), &st), 0);
  ASSERT_EQ(chmod((merged + "/etc").c_str(), st.st_mode & 07777), 0);

  auto container = [](const std::string& image_id, std::vector<std::string> layers) {
    DiscoveredContainer c;
    c.runtime = "docker";
    c.id = std::string(64, 'c');
    c.layers = OverlayLayers{};
    RuntimeContainer rc;
    rc.runtime = "docker";
    rc.image = "bb:layers";
    rc.image_id = image_id;
    rc.image_layers = std::move(layers);
    c.identity = rc;
    return c;
  };
  const std::string stacked_id = "sha256:" + std::string(64, '5'),
                    flat_id = "sha256:" + std::string(64, '6');
  cli::ImageTrees images(cli::TreeBaselineOptions{db_, "", "test"});
  std::vector<std::string> warnings;
  auto stacked = images.OverlayImageTree(container(stacked_id, {top, base}), &warnings);
  ASSERT_TRUE(stacked.ok()) << stacked.status().ToString();
  auto flat = images.OverlayImageTree(container(flat_id, {merged}), &warnings);
  ASSERT_TRUE(flat.ok()) << flat.status().ToString();
  EXPECT_EQ(*stacked, *flat);
  EXPECT_EQ(warnings, (std::vector<std::string>{
                          "image baseline 'image:bb:layers@" + stacked_id +
                              "' recorded from 2 layer(s) (first sight)",
                          "image baseline 'image:bb:layers@" + flat_id +
                              "' recorded from 1 layer(s) (first sight)",
                      }));
  // Once per image: a new check reads the baseline back, scanning nothing.
  cli::ImageTrees later(cli::TreeBaselineOptions{db_, "", "test"});
  std::vector<std::string> none;
  auto again = later.OverlayImageTree(container(stacked_id, {tmp_ + "/gone"}), &none);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, *stacked);
  EXPECT_TRUE(none.empty());
  // No mount is left behind on the host.
  auto f = container::ReadSmallFile(DefaultHost(), "/proc/self/mountinfo", kMaxMountInfoBytes);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->find("driftwatch-image-"), std::string::npos);
}

TEST_F(DiscoveryTest, StacksSeveralLowerLayersLikeOverlayfs) {
  // Two image layers as Docker stores them: the top one deletes, hides and adds.
  const std::string base = tmp_ + "/l0", top = tmp_ + "/l1";
  WriteFile(base + "/etc/a", "a\n");
  WriteFile(base + "/etc/b", "b\n");
  WriteFile(base + "/opt/x/old", "old\n");
  WriteFile(top + "/etc/c", "c\n");
  WriteFile(top + "/opt/x/new", "new\n");
  ASSERT_EQ(mknod((top + "/etc/a").c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
  ASSERT_EQ(setxattr((top + "/opt/x").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  auto view = OpenStackedLower(DefaultHost(), {top, base});
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ((*view)->List("/etc").value(), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ((*view)->List("/opt/x").value(), (std::vector<std::string>{"new"}));
  EXPECT_FALSE((*view)->Lookup("/etc/a").value().has_value());
  EXPECT_FALSE((*view)->Lookup("/opt/x/old").value().has_value());
  auto b = (*view)->Lookup("/etc/b").value();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->content.Hex(), H("b\n"));
  // An upper layer on top of the stack diffs against the merged lowers.
  UpperListing upper;
  UpperNode etc;
  etc.entry.type = EntryType::kDir;
  etc.entry.mode = 0755;
  upper.Add("/etc", etc);
  UpperNode wh;
  wh.entry.type = EntryType::kCharDev;
  wh.whiteout = true;
  upper.Add("/etc/c", wh);
  auto events = DiffUpperLayer(upper, **view, {});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].path, "/etc/c");
  EXPECT_EQ((*events)[0].kind, DriftKind::kRemoved);
}

}  // namespace
}  // namespace driftwatch::container::testing
