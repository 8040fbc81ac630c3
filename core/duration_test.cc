#include "core/duration.h"

#include <gtest/gtest.h>

namespace driftwatch {
namespace {

TEST(DurationTest, UnitsAndLimits) {
  EXPECT_EQ(*ParseDurationNs("250ms"), 250000000);
  EXPECT_EQ(*ParseDurationNs("2h"), int64_t{7200} * 1000000000);
  EXPECT_EQ(*ParseDurationNs("15"), int64_t{15} * 1000000000);
  EXPECT_EQ(*ParseDurationNs("0"), 0);
  EXPECT_EQ(*ParseDurationNs("90d"), int64_t{90} * 86400 * 1000000000);
  EXPECT_EQ(*ParseDurationNs("15m"), int64_t{900} * 1000000000);
  EXPECT_FALSE(ParseDurationNs("").ok());
  EXPECT_FALSE(ParseDurationNs("5x").ok());
  EXPECT_FALSE(ParseDurationNs("h").ok());
  EXPECT_FALSE(ParseDurationNs("3 weeks").ok());
  EXPECT_FALSE(ParseDurationNs("99999999999999999999d").ok());
  // Below the digit cap but beyond int64 nanoseconds (found by fuzzing).
  EXPECT_FALSE(ParseDurationNs("200000d").ok());
  EXPECT_EQ(*ParseDurationNs("106751d"), int64_t{106751} * 86400 * 1000000000);
}

}  // namespace
}  // namespace driftwatch
