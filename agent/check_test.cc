#include "agent/check.h"

#include <gtest/gtest.h>

namespace driftwatch::agent {
namespace {

DriftEvent At(const std::string& path, Severity s) {
  DriftEvent e;
  e.path = path;
  e.severity = s;
  return e;
}

std::vector<std::string> Paths(const CheckResult& r) {
  std::vector<std::string> out;
  for (const DriftEvent& e : r.events) out.push_back(e.path);
  return out;
}

TEST(MinSeverityTest, DropsOnlyWhatIsBelowAndKeepsTheOrder) {
  CheckResult all;
  all.events = {At("/c", Severity::kCritical), At("/l", Severity::kLow), At("/h", Severity::kHigh),
                At("/m", Severity::kMedium)};
  struct Case {
    const char* min;
    size_t dropped;
    std::vector<std::string> kept;
  };
  const Case cases[] = {
      {"info", 0, {"/c", "/l", "/h", "/m"}},
      {"low", 0, {"/c", "/l", "/h", "/m"}},
      {"medium", 1, {"/c", "/h", "/m"}},
      {"high", 2, {"/c", "/h"}},
      {"critical", 3, {"/c"}},
  };
  for (const Case& c : cases) {
    auto min = ParseMinSeverity(c.min);
    ASSERT_TRUE(min.ok()) << c.min;
    CheckResult r = all;
    EXPECT_EQ(DropBelowSeverity(*min, &r), c.dropped) << c.min;
    EXPECT_EQ(Paths(r), c.kept) << c.min;
  }
  auto bad = ParseMinSeverity("warning");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "unknown severity 'warning' (expected info, low, medium, high or critical)");
}

}  // namespace
}  // namespace driftwatch::agent
