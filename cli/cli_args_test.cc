#include "cli/cli_args.h"

#include <gtest/gtest.h>

#include "cli/output.h"

namespace driftwatch::cli {
namespace {

const std::vector<FlagSpec> kSpecs = {{"db"}, {"path", true, true}, {"quiet", false}};

TEST(ArgsTest, ParsesFlagsPositionalsAndRest) {
  auto a = Args::Parse({"show", "--db", "x.db", "--path=/etc/**", "--path", "/usr/**", "--quiet",
                        "NAME", "--", "--db", "y"},
                       kSpecs);
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->GetOr("db", ""), "x.db");
  EXPECT_EQ(a->GetAll("path"), (std::vector<std::string>{"/etc/**", "/usr/**"}));
  EXPECT_TRUE(a->Has("quiet"));
  EXPECT_EQ(a->positional(), (std::vector<std::string>{"show", "NAME"}));
  EXPECT_EQ(a->rest(), (std::vector<std::string>{"--db", "y"}));
}

TEST(ArgsTest, RejectsMistakes) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const Case cases[] = {
      {{"--bogus"}, "unknown flag --bogus"},
      {{"--db"}, "flag --db needs a value"},
      {{"--db", "a", "--db", "b"}, "flag --db given twice"},
      {{"--quiet=yes"}, "flag --quiet takes no value"},
  };
  for (const Case& c : cases) {
    auto a = Args::Parse(c.args, kSpecs);
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.status().message(), c.message);
  }
}

TEST(OutputTest, ParsesSinceForms) {
  const int64_t now = 1'000'000 * 1'000'000'000LL;
  EXPECT_EQ(ParseSince("24h", now).value(), now - 86400 * 1'000'000'000LL);
  EXPECT_EQ(ParseSince("7d", now).value(), now - 7 * 86400 * 1'000'000'000LL);
  EXPECT_EQ(ParseSince("2026-11-01T00:00:00Z", now).value(), 1793491200LL * 1'000'000'000LL);
  EXPECT_FALSE(ParseSince("yesterday", now).ok());
}

TEST(OutputTest, FormatsEventsCompactly) {
  DriftEvent e;
  e.path = "/etc/pass\nwd";
  e.kind = DriftKind::kModified;
  e.changed = kAttrPerm;
  Entry o, n;
  o.mask = n.mask = kAttrType | kAttrPerm;
  o.mode = 0644;
  n.mode = 0600;
  e.old_entry = o;
  e.new_entry = n;
  e.severity = Severity::kHigh;
  EXPECT_EQ(FormatEvent(e), "M /etc/pass\\nwd  perm 0644 -> 0600  [high]");
}

}  // namespace
}  // namespace driftwatch::cli
