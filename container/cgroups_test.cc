#include "container/cgroups.h"

#include <gtest/gtest.h>

namespace driftwatch::container {
namespace {

MountInfo Mount(const std::string& point, const std::string& fstype, const std::string& opts) {
  MountInfo m;
  m.mount_point = point;
  m.fstype = fstype;
  m.super_options = opts;
  return m;
}

std::vector<MountInfo> Hybrid() {
  return {Mount("/", "ext4", "rw"),
          Mount("/sys/fs/cgroup", "tmpfs", "rw,mode=755"),
          Mount("/sys/fs/cgroup/cpu", "cgroup", "rw,cpu"),
          Mount("/sys/fs/cgroup/memory", "cgroup", "rw,memory"),
          Mount("/sys/fs/cgroup/pids", "cgroup", "rw,pids"),
          Mount("/sys/fs/cgroup/systemd", "cgroup", "rw,name=systemd"),
          Mount("/sys/fs/cgroup/unified", "cgroup2", "rw")};
}

TEST(CgroupsTest, DetectsLayouts) {
  // Hybrid: controllers in v1, an empty v2 tree beside them.
  EXPECT_EQ(DetectCgroupLayout(Hybrid(), ""),
            (CgroupLayout{"/sys/fs/cgroup/unified", false, false, "/sys/fs/cgroup/memory",
                          "/sys/fs/cgroup/pids"}));
  // Pure v2.
  EXPECT_EQ(DetectCgroupLayout({Mount("/sys/fs/cgroup", "cgroup2", "rw,nsdelegate")},
                               "cpuset cpu io memory pids\n"),
            (CgroupLayout{"/sys/fs/cgroup", true, true, "", ""}));
  // Pure v1, with memory and pids co-mounted.
  EXPECT_EQ(DetectCgroupLayout({Mount("/cg/mp", "cgroup", "rw,memory,pids")}, ""),
            (CgroupLayout{"", false, false, "/cg/mp", "/cg/mp"}));
  // No cgroups at all.
  EXPECT_EQ(DetectCgroupLayout({Mount("/", "ext4", "rw")}, ""), CgroupLayout{});
}

TEST(CgroupsTest, PlansHybrid) {
  auto steps = PlanCgroups(DetectCgroupLayout(Hybrid(), ""), "abc", {256u << 20, 64});
  std::vector<CgroupStep> want = {
      {"/sys/fs/cgroup/unified/driftwatch/abc", {}, true},
      {"/sys/fs/cgroup/memory/driftwatch/abc",
       {{"memory.limit_in_bytes", "268435456"}, {"memory.memsw.limit_in_bytes", "268435456"}},
       true},
      {"/sys/fs/cgroup/pids/driftwatch/abc", {{"pids.max", "64"}}, true},
  };
  EXPECT_EQ(steps, want);
}

TEST(CgroupsTest, PlansV2) {
  CgroupLayout l{"/sys/fs/cgroup", true, true, "", ""};
  std::vector<CgroupStep> want = {
      {"/sys/fs/cgroup", {{"cgroup.subtree_control", "+memory +pids"}}, false},
      {"/sys/fs/cgroup/driftwatch", {{"cgroup.subtree_control", "+memory +pids"}}, false},
      {"/sys/fs/cgroup/driftwatch/abc",
       {{"memory.max", "1024"}, {"memory.swap.max", "0"}, {"pids.max", "5"}},
       true},
  };
  EXPECT_EQ(PlanCgroups(l, "abc", {1024, 5}), want);
  // Without limits only membership remains.
  want[2].writes.clear();
  EXPECT_EQ(PlanCgroups(l, "abc", {}), want);
}

TEST(CgroupsTest, PlansV1) {
  CgroupLayout l{"", false, false, "/cg/memory", "/cg/pids"};
  std::vector<CgroupStep> want = {
      // memory + swap capped at the memory limit: no swap, as memory.swap.max
      // 0 on v2.
      {"/cg/memory/driftwatch/x",
       {{"memory.limit_in_bytes", "4096"}, {"memory.memsw.limit_in_bytes", "4096"}},
       true},
      {"/cg/pids/driftwatch/x", {}, true},
  };
  EXPECT_EQ(PlanCgroups(l, "x", {4096, 0}), want);
  // Only limits that were asked for.
  want[0].writes.clear();
  EXPECT_EQ(PlanCgroups(l, "x", {}), want);
}

TEST(CgroupsTest, OnlySwapFilesMayBeMissing) {
  EXPECT_TRUE(IsOptionalLimitFile("memory.swap.max"));
  EXPECT_TRUE(IsOptionalLimitFile("memory.memsw.limit_in_bytes"));
  EXPECT_FALSE(IsOptionalLimitFile("memory.limit_in_bytes"));
  EXPECT_FALSE(IsOptionalLimitFile("memory.max"));
  EXPECT_FALSE(IsOptionalLimitFile("pids.max"));
}

}  // namespace
}  // namespace driftwatch::container
