#include "container/init.h"

#include <linux/capability.h>

#include <gtest/gtest.h>

#include <algorithm>

namespace driftwatch::container {
namespace {

TEST(InitTest, CapabilityNames) {
  struct Case {
    const char* name;
    int want;  // -1: refused
  } cases[] = {{"NET_RAW", CAP_NET_RAW},
               {"cap_net_raw", CAP_NET_RAW},
               {"CAP_SYS_PTRACE", CAP_SYS_PTRACE},
               {"chown", CAP_CHOWN},
               {"CHECKPOINT_RESTORE", 40},
               {"BPF", CAP_BPF},
               {"NET_RAWX", -1},
               {"", -1},
               {"CAP_", -1}};
  for (const Case& c : cases) {
    auto got = ParseCapability(c.name);
    if (c.want < 0) {
      EXPECT_FALSE(got.ok()) << c.name;
    } else {
      ASSERT_TRUE(got.ok()) << c.name << ": " << got.status().ToString();
      EXPECT_EQ(*got, c.want) << c.name;
    }
  }
}

TEST(InitTest, RawSocketsAndDevicesAreNotKeptByDefault) {
  const std::vector<int>& kept = KeptCapabilities();
  for (int c : {CAP_NET_RAW, CAP_MKNOD, CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SYS_PTRACE}) {
    EXPECT_EQ(std::count(kept.begin(), kept.end(), c), 0) << c;
  }
}

}  // namespace
}  // namespace driftwatch::container
