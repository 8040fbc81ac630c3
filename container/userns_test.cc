#include "container/userns.h"

#include <gtest/gtest.h>

namespace driftwatch::container {
namespace {

TEST(ParseIdRange, AcceptsAndRefuses) {
  struct Case {
    const char* text;
    bool ok;
    IdRange want;
  };
  const Case cases[] = {
      {"100000:65536", true, {100000, 65536}},
      {"1:1", true, {1, 1}},
      {"4294901759:65535", true, {4294901759u, 65535}},  // ends at 4294967293
      {"4294901759:65536", true, {4294901759u, 65536}},  // ends at 4294967294
      {"4294901760:65536", false, {}},                   // would reach 4294967295
      {"0:65536", false, {}},                            // container root = host root
      {"100000:0", false, {}},
      {"100000", false, {}},
      {":65536", false, {}},
      {"100000:", false, {}},
      {"-1:10", false, {}},
      {"100000:65536:1", false, {}},
      {"1e5:10", false, {}},
      {"99999999999:1", false, {}},
      {" 100000:10", false, {}},
  };
  for (const Case& c : cases) {
    auto r = ParseIdRange(c.text);
    EXPECT_EQ(r.ok(), c.ok) << c.text;
    if (r.ok() && c.ok) {
      EXPECT_EQ(*r, c.want) << c.text;
    }
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(r.status().message().find(c.text), std::string::npos) << r.status().ToString();
    }
  }
}

TEST(FindSubordinateRange, FirstValidLineOfTheUser) {
  const char* text =
      "alice:100000:65536\n"
      "root:garbage\n"
      "rootless:300000:65536\n"
      "root:231072:65536\n"
      "root:400000:10\n";
  auto r = FindSubordinateRange(text, "root");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (IdRange{231072, 65536}));
  EXPECT_EQ(FindSubordinateRange(text, "alice"), (IdRange{100000, 65536}));
  EXPECT_FALSE(FindSubordinateRange(text, "bob").has_value());
  EXPECT_FALSE(FindSubordinateRange("", "root").has_value());
  EXPECT_FALSE(FindSubordinateRange("root:0:65536", "root").has_value());
  EXPECT_EQ(FindSubordinateRange("root:5:6", "root"), (IdRange{5, 6}));  // no trailing newline
}

TEST(ContainerViewId, MapsOnlyIdsInsideTheRange) {
  const IdRange r{100000, 65536};
  EXPECT_EQ(ContainerViewId(100000, r), 0u);
  EXPECT_EQ(ContainerViewId(101000, r), 1000u);
  EXPECT_EQ(ContainerViewId(165535, r), 65535u);
  EXPECT_EQ(ContainerViewId(165536, r), 165536u);
  EXPECT_EQ(ContainerViewId(99999, r), 99999u);
  EXPECT_EQ(ContainerViewId(0, r), 0u);
  EXPECT_EQ(ContainerViewId(100000, IdRange{}), 100000u);
}

TEST(ContainerRecordJson, KeepsTheUserNamespaceRange) {
  ContainerRecord r;
  r.name = "c";
  r.userns = IdRange{200000, 1000};
  auto back = ContainerRecordFromJson(ContainerRecordToJson(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->userns, r.userns);
  // Records written before --userns existed have no such fields.
  auto old = ContainerRecordFromJson(R"({"version":1,"name":"c"})");
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->userns.enabled());
  auto bad = ContainerRecordFromJson(
      R"({"version":1,"name":"c","userns_host":4294967295,"userns_count":9})");
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace driftwatch::container
