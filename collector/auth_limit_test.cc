#include "collector/auth_limit.h"

#include <gtest/gtest.h>

namespace driftwatch::collector {
namespace {

constexpr int64_t kSec = 1000000000;

TEST(AuthFailureLimiterTest, BurstThenOneAttemptPerRefill) {
  AuthFailureLimiter l(3, kSec);
  const int64_t t = 1000 * kSec;
  EXPECT_EQ(l.WaitNs("10.0.0.1", t), 0);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(l.WaitNs("10.0.0.1", t), 0) << i;
    l.Failed("10.0.0.1", t);
  }
  EXPECT_EQ(l.WaitNs("10.0.0.1", t), kSec);
  EXPECT_EQ(l.WaitNs("10.0.0.1", t + kSec / 4), 3 * kSec / 4);
  EXPECT_EQ(l.WaitNs("10.0.0.2", t), 0) << "another address is not limited";
  EXPECT_EQ(l.WaitNs("10.0.0.1", t + kSec), 0);
  l.Failed("10.0.0.1", t + kSec);
  EXPECT_EQ(l.WaitNs("10.0.0.1", t + kSec), kSec);
  // After burst x refill without failures the whole burst is back.
  const int64_t later = t + 5 * kSec;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(l.WaitNs("10.0.0.1", later), 0) << i;
    l.Failed("10.0.0.1", later);
  }
  EXPECT_GT(l.WaitNs("10.0.0.1", later), 0);
}

TEST(AuthFailureLimiterTest, ClockGoingBackNeverBlocksForever) {
  AuthFailureLimiter l(1, kSec);
  const int64_t t = 1000 * kSec;
  l.Failed("a", t);
  EXPECT_EQ(l.WaitNs("a", t), kSec);
  // Set back by an hour: the wait is counted from the new clock.
  EXPECT_EQ(l.WaitNs("a", t - 3600 * kSec), kSec);
  EXPECT_EQ(l.WaitNs("a", t - 3600 * kSec + kSec), 0);
}

TEST(AuthFailureLimiterTest, MemoryIsBounded) {
  AuthFailureLimiter l(2, kSec, 100);
  const int64_t t = 1000 * kSec;
  for (int i = 0; i < 1000; ++i) {
    l.Failed("client-" + std::to_string(i), t);
    l.Failed("client-" + std::to_string(i), t);
  }
  EXPECT_LE(l.tracked(), 100u);
  EXPECT_GT(l.WaitNs("client-999", t), 0) << "the newest offender is still limited";
  // Refilled buckets are forgotten first.
  l.Failed("late", t + 10 * kSec);
  EXPECT_EQ(l.tracked(), 1u);
}

}  // namespace
}  // namespace driftwatch::collector
