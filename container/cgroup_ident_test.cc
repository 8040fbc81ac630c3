#include "container/cgroup_ident.h"

#include <gtest/gtest.h>

namespace driftwatch::container {
namespace {

const std::string kHex(64, 'a');
const std::string kHex2 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST(CgroupIdentTest, IdentifiesRuntimes) {
  struct Case {
    std::string path;
    std::optional<ContainerIdentity> want;
  };
  const Case cases[] = {
      {"/docker/" + kHex, ContainerIdentity{"docker", kHex}},
      {"/system.slice/docker-" + kHex2 + ".scope", ContainerIdentity{"docker", kHex2}},
      {"/machine.slice/libpod-" + kHex + ".scope", ContainerIdentity{"podman", kHex}},
      {"/machine.slice/libpod-" + kHex + ".scope/container", ContainerIdentity{"podman", kHex}},
      {"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + kHex2 + ".scope",
       ContainerIdentity{"podman", kHex2}},
      {"/libpod_parent/libpod-" + kHex, ContainerIdentity{"podman", kHex}},
      {"/machine.slice/libpod-conmon-" + kHex + ".scope", std::nullopt},
      {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-" +
           kHex + ".scope",
       ContainerIdentity{"containerd", kHex}},
      {"/kubepods/besteffort/pod12-34/" + kHex2, ContainerIdentity{"containerd", kHex2}},
      {"/kubepods.slice/kubepods-pod1.slice/crio-" + kHex + ".scope",
       ContainerIdentity{"cri-o", kHex}},
      {"/kubepods.slice/crio-conmon-" + kHex + ".scope", std::nullopt},
      {"/lxc/web01", ContainerIdentity{"lxc", "web01"}},
      {"/lxc.payload/web02/init.scope", ContainerIdentity{"lxc", "web02"}},
      {"/lxc.payload.web03", ContainerIdentity{"lxc", "web03"}},
      {"/machine.slice/systemd-nspawn@deb12.service/payload", ContainerIdentity{"nspawn", "deb12"}},
      {"/machine.slice/machine-deb13.scope", ContainerIdentity{"nspawn", "deb13"}},
      {"/driftwatch/c0ffee", ContainerIdentity{"driftwatch", "c0ffee"}},
      {"/", std::nullopt},
      {"/user.slice/user-0.slice/session-3.scope", std::nullopt},
      {"/system.slice/docker.service", std::nullopt},
      {"/docker/not-hex", std::nullopt},
      {"/system.slice/docker-" + kHex.substr(1) + ".scope", std::nullopt},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(IdentifyCgroupPath(c.path), c.want) << c.path;
  }
}

TEST(CgroupIdentTest, ParsesFileAndPrefersV2Line) {
  std::string text = "12:pids:/docker/" + kHex + "\n1:name=systemd:/docker/" + kHex +
                     "\n0::/system.slice/docker-" + kHex2 + ".scope\n";
  auto lines = ParseProcCgroup(text);
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 3u);
  EXPECT_EQ((*lines)[0], (CgroupLine{"12", "pids", "/docker/" + kHex}));
  EXPECT_EQ((*lines)[2], (CgroupLine{"0", "", "/system.slice/docker-" + kHex2 + ".scope"}));
  EXPECT_EQ(IdentifyContainer(*lines), (ContainerIdentity{"docker", kHex2}));

  auto host = ParseProcCgroup("0::/init.scope\n1:name=systemd:/init.scope\n");
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(IdentifyContainer(*host), std::nullopt);
}

TEST(CgroupIdentTest, RejectsMalformed) {
  auto got = ParseProcCgroup("0::/\nno colons here\n");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kCorruption);
  EXPECT_NE(got.status().message().find("cgroup:2:"), std::string::npos);
}

}  // namespace
}  // namespace driftwatch::container
