// `driftwatch containers`: this launcher's containers and one started by
// another launcher (unshare + overlay mount + chroot) are found, with their
// upper-layer drift.
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <chrono>
#include <thread>

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
  ASSERT_EQ(Cli({"run", "--detach", "--name", "own", "bb", "--", "/bin/sleep", "1000"}).code, 0);
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
  EXPECT_FALSE(own.at("drifted").as_bool());

  Sh("own", "rm /etc/hosts && echo 1 > /etc/new");
  r = Cli({"containers", "--format", "json"});
  own = FindBy(web::json::value::parse(r.out), "name", "own");
  ASSERT_FALSE(own.is_null()) << r.out;
  EXPECT_TRUE(own.at("drifted").as_bool());
  EXPECT_EQ(EventLines(own), (std::vector<std::string>{"removed /etc/hosts", "added /etc/new"}));
}

TEST_F(DiscoveryTest, FindsAContainerOfAnotherLauncher) {
  if (access("/usr/bin/unshare", X_OK) != 0) GTEST_SKIP() << "needs unshare (util-linux)";
  const std::string lower = state_dir_ + "/images/bb/rootfs";
  const std::string upper = tmp_ + "/other/upper", work = tmp_ + "/other/work",
                    merged = tmp_ + "/other/merged";
  for (const std::string& d : {tmp_ + "/other", upper, work, merged}) mkdir(d.c_str(), 0755);
  // Another runtime's way: private mount namespace, pid namespace, overlay,
  // changes made from outside before chroot. --kill-child ties the
  // container's life to the unshare process this test kills in TearDown.
  const std::string script =
      "set -e; mount --make-rprivate /; mount -t overlay overlay -o lowerdir=" + lower +
      ",upperdir=" + upper + ",workdir=" + work + " " + merged + "; mount -t proc proc " + merged +
      "/proc; rm " + merged + "/etc/hosts; echo changed > " + merged + "/etc/passwd; mkdir " +
      merged + "/var; echo 1 > " + merged + "/var/state; exec chroot " + merged +
      " /bin/sleep 1000";
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
    int null_fd = open("/dev/null", O_RDWR);
    dup2(null_fd, 0);
    dup2(null_fd, 1);
    execl("/usr/bin/unshare", "unshare", "--mount", "--pid", "--fork", "--kill-child", "/bin/sh",
          "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  helpers_.push_back(pid);
  web::json::value other = web::json::value::null();
  for (int i = 0; i < 100 && other.is_null(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CliResult r = Cli({"containers", "--format", "json"});
    ASSERT_EQ(r.code, 0) << r.err;
    const web::json::value list = web::json::value::parse(r.out);
    for (const auto& v : list.as_array()) {
      if (v.has_field("upper") && v.at("upper").as_string() == upper && v.has_field("events"))
        other = v;
    }
  }
  ASSERT_FALSE(other.is_null()) << "the unshare container was not discovered";
  EXPECT_EQ(other.at("runtime").as_string(), "unknown");
  EXPECT_EQ(other.at("id").as_string().rfind("mntns-", 0), 0u);
  EXPECT_EQ(other.at("root_fstype").as_string(), "overlay");
  EXPECT_EQ(other.at("lower").size(), 1u);
  EXPECT_EQ(other.at("lower")[0].as_string(), lower);
  EXPECT_TRUE(other.at("drifted").as_bool());
  EXPECT_EQ(EventLines(other),
            (std::vector<std::string>{"removed /etc/hosts", "modified /etc/passwd", "added /var",
                                      "added /var/state"}));
  auto e = other.at("events")[1];
  EXPECT_EQ(e.at("new").at("hash").as_string(), H("changed\n"));
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
