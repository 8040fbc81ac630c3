// driftwatch against the real runtimes: a private dockerd, containerd and
// podman in a tmpfs sandbox, the busybox image imported into each, named
// and labelled containers with a volume, a bind mount and a tmpfs, the same
// mutations made inside each; then `driftwatch containers --format json`
// must name each container as the runtime's inspect does and report the
// drift its diff reports (containerd, which has none: the mutations made
// and the upper dir's contents), nothing from the mounts. Each runtime is
// skipped with its reason when it cannot run here.
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/runtimes/oracle.h"
#include "tests/runtimes/rows.h"
#include "tests/runtimes/runtimes_env.h"

namespace driftwatch::rt {
namespace {

using web::json::value;

::testing::Environment* const kEnv = ::testing::AddGlobalTestEnvironment(&RuntimesEnv::Get());

// The kubernetes labels CRI sets, as a test container carries them.
Labels KubeLabels(const std::string& ns, const std::string& pod, const std::string& container) {
  return {{"io.kubernetes.container.name", container},
          {"io.kubernetes.pod.name", pod},
          {"io.kubernetes.pod.namespace", ns}};
}

// docker and podman: drift equal to the runtime's own diff, directories
// aside, which equals the mutations made; nothing from the mounts.
void ExpectDriftLikeRuntimeDiff(const value& row, const ExecResult& diff, const Identity& want,
                                const ContainerSpec& spec) {
  ASSERT_EQ(diff.code, 0) << Describe(diff);
  std::vector<std::string> bad;
  auto lines = ParseRuntimeDiff(diff.out, &bad);
  EXPECT_TRUE(bad.empty()) << "unexpected diff lines:\n" << diff.out;
  const Changes runtime = FilesOfRuntimeDiff(lines, "/proc/" + std::to_string(want.pid) + "/root",
                                             RuntimesEnv::Get().image_dir());
  EXPECT_EQ(runtime, MutationDrift()) << "the runtime's diff:\n" << diff.out;
  ExpectMountsLeftOut(row, spec);
  ASSERT_TRUE(row.has_field("events") && row.at("events").is_array()) << row.serialize();
  EXPECT_EQ(FilesOfEvents(row.at("events")), runtime)
      << "driftwatch's events: " << row.at("events").serialize() << "\nthe runtime's diff:\n"
      << diff.out;
}

class DockerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!env_.skip().empty()) GTEST_SKIP() << env_.skip();
    std::string why;
    docker_ = env_.docker(&why);
    if (docker_ == nullptr) GTEST_SKIP() << "docker cannot run here: " << why;
  }

  // Runs `spec`, mutates it; the runtime's identity of it.
  Identity Start(const ContainerSpec& spec) {
    std::string err;
    const std::string id = docker_->Run(spec, kImageRef, &err);
    EXPECT_FALSE(id.empty()) << err;
    ExecResult m =
        docker_->Sh(spec.name, MutationScript(spec.volume_dest, spec.bind_dest, spec.tmpfs_dest));
    EXPECT_EQ(m.code, 0) << Describe(m);
    Identity want = docker_->Inspect(spec.name, &err);
    EXPECT_TRUE(err.empty()) << err;
    EXPECT_EQ(want.id, id);
    return want;
  }

  RuntimesEnv& env_ = RuntimesEnv::Get();
  Docker* docker_ = nullptr;
};

TEST_F(DockerTest, NamedContainerMatchesInspectAndDiff) {
  ContainerSpec spec;
  spec.name = "web-1";
  spec.labels = KubeLabels("shop", "web-7d9", "nginx");
  spec.labels.insert(spec.labels.begin(), {"app", "web"});
  spec.bind_src = env_.NewDir(spec.name);
  const Identity want = Start(spec);
  if (HasFailure()) return;
  EXPECT_EQ(want.labels.size(), 4u);
  std::string err;
  const value list = ContainersJson({"--docker-root", docker_->data_root()}, &err);
  ASSERT_TRUE(err.empty()) << err;
  const value row = FindById(list, want.id);
  ASSERT_FALSE(row.is_null()) << "container " << want.id << " not listed: " << list.serialize();
  ExpectIdentity(row, want, "docker", "web-1");
  ExpectDriftLikeRuntimeDiff(row, docker_->Diff(spec.name), want, spec);
}

TEST_F(DockerTest, DataRootFoundFromTheDaemonsCommandLine) {
  // No --docker-root: the private dockerd's --data-root is read from its
  // command line in /proc.
  ContainerSpec spec;
  spec.name = "web-auto";
  spec.labels = {{"app", "auto"}};
  spec.bind_src = env_.NewDir(spec.name);
  const Identity want = Start(spec);
  if (HasFailure()) return;
  std::string err;
  const value list = ContainersJson({}, &err);
  ASSERT_TRUE(err.empty()) << err;
  const value row = FindById(list, want.id);
  ASSERT_FALSE(row.is_null()) << "container " << want.id << " not listed: " << list.serialize();
  ExpectIdentity(row, want, "docker", "web-auto");
  ExpectDriftLikeRuntimeDiff(row, docker_->Diff(spec.name), want, spec);
}

class PodmanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!env_.skip().empty()) GTEST_SKIP() << env_.skip();
    std::string why;
    podman_ = env_.podman(&why);
    if (podman_ == nullptr) GTEST_SKIP() << "podman cannot run here: " << why;
  }
  RuntimesEnv& env_ = RuntimesEnv::Get();
  Podman* podman_ = nullptr;
};

TEST_F(PodmanTest, NamedContainerMatchesInspectAndDiff) {
  ContainerSpec spec;
  spec.name = "db-1";
  spec.labels = {{"app", "db"}, {"tier", "back"}};
  spec.bind_src = env_.NewDir(spec.name);
  std::string err;
  const std::string id = podman_->Run(spec, kImageRef, &err);
  ASSERT_FALSE(id.empty()) << err;
  ExecResult m =
      podman_->Sh(spec.name, MutationScript(spec.volume_dest, spec.bind_dest, spec.tmpfs_dest));
  ASSERT_EQ(m.code, 0) << Describe(m);
  const Identity want = podman_->Inspect(spec.name, &err);
  ASSERT_TRUE(err.empty()) << err;
  ASSERT_EQ(want.id, id);
  const value list = ContainersJson({"--storage-root", podman_->storage_root()}, &err);
  ASSERT_TRUE(err.empty()) << err;
  const value row = FindById(list, want.id);
  ASSERT_FALSE(row.is_null()) << "container " << want.id << " not listed: " << list.serialize();
  ExpectIdentity(row, want, "podman", "db-1");
  ExpectDriftLikeRuntimeDiff(row, podman_->Diff(spec.name), want, spec);
}

class ContainerdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!env_.skip().empty()) GTEST_SKIP() << env_.skip();
    std::string why;
    containerd_ = env_.containerd(&why);
    if (containerd_ == nullptr) GTEST_SKIP() << "containerd cannot run here: " << why;
  }

  // ctr has no diff: the drift must be the mutations made, and what the
  // writable layer holds.
  void RunAndCompare(const ContainerSpec& spec, const std::string& want_name) {
    std::string err;
    const std::string ref = std::string("docker.io/") + kImageRef;
    ASSERT_FALSE(containerd_->Run(spec, ref, &err).empty()) << err;
    ExecResult m =
        containerd_->Sh(spec, MutationScript(spec.volume_dest, spec.bind_dest, spec.tmpfs_dest));
    ASSERT_EQ(m.code, 0) << Describe(m);
    const Identity want = containerd_->Inspect(spec, &err);
    ASSERT_TRUE(err.empty()) << err;
    ASSERT_EQ(want.image, ref);
    ASSERT_NE(want.pid, 0);
    const value list = ContainersJson(
        {"--containerd-root", containerd_->root(), "--containerd-state", containerd_->state()},
        &err);
    ASSERT_TRUE(err.empty()) << err;
    const value row = FindById(list, want.id);
    ASSERT_FALSE(row.is_null()) << "container " << want.id << " not listed: " << list.serialize();
    ExpectIdentity(row, want, "containerd", want_name);
    const std::string upper = UpperDirOf(want.pid);
    ASSERT_FALSE(upper.empty()) << "no overlay root for pid " << want.pid;
    const Changes in_upper = FilesOfUpperDir(upper, env_.image_dir());
    EXPECT_EQ(in_upper, MutationDrift()) << "the upper dir " << upper;
    ExpectMountsLeftOut(row, spec);
    ASSERT_TRUE(row.has_field("events") && row.at("events").is_array()) << row.serialize();
    EXPECT_EQ(FilesOfEvents(row.at("events")), MutationDrift()) << row.at("events").serialize();
  }

  RuntimesEnv& env_ = RuntimesEnv::Get();
  Containerd* containerd_ = nullptr;
};

TEST_F(ContainerdTest, KubernetesContainerNamedByPodAndContainer) {
  ContainerSpec spec;
  spec.name = "k8s-web";
  spec.nspace = "k8s.io";
  spec.labels = KubeLabels("shop", "web-7d9", "nginx");
  spec.bind_src = env_.NewDir(spec.name);
  RunAndCompare(spec, "web-7d9/nginx");
}

TEST_F(ContainerdTest, PlainContainerNamedByItsId) {
  ContainerSpec spec;
  spec.name = "plain-1";
  spec.labels = {{"app", "plain"}};
  spec.bind_src = env_.NewDir(spec.name);
  RunAndCompare(spec, "plain-1");
}

}  // namespace
}  // namespace driftwatch::rt
