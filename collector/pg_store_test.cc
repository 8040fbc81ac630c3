// Pure parts of the PostgreSQL store: month partitions, glob translation,
// store URLs, migrations list. The store itself is tested against a real
// server in tests/pg/.
#include <gtest/gtest.h>

#include <limits>

#include "collector/pg_schema.h"
#include "collector/pg_store.h"
#include "collector/store_url.h"

namespace driftwatch::collector {
namespace {

constexpr int64_t kSec = 1000000000LL;

TEST(PgSchemaTest, MonthOfCoversCalendarMonthsUtc) {
  // 2026-11-27T16:40:00Z
  EventMonth m = MonthOf(1795797600LL * kSec);
  EXPECT_EQ(m.year, 2026);
  EXPECT_EQ(m.month, 11);
  EXPECT_EQ(m.start_ns, 1793491200LL * kSec);  // 2026-11-01
  EXPECT_EQ(m.end_ns, 1796083200LL * kSec);    // 2026-12-01
  EXPECT_EQ(PartitionName(m), "events_y2026m11");

  EventMonth dec = MonthOf(1796083200LL * kSec - 1);  // last ns of November
  EXPECT_EQ(dec.month, 11);
  EventMonth jan = MonthOf(1798761600LL * kSec);  // 2027-01-01
  EXPECT_EQ(PartitionName(jan), "events_y2027m01");
  EXPECT_EQ(MonthOf(1798761600LL * kSec - 1).end_ns, jan.start_ns);  // December ends there

  EventMonth epoch = MonthOf(0);
  EXPECT_EQ(PartitionName(epoch), "events_y1970m01");
  EXPECT_EQ(epoch.start_ns, 0);
  EXPECT_EQ(epoch.end_ns, 31LL * 86400 * kSec);
  EventMonth before = MonthOf(-1);
  EXPECT_EQ(PartitionName(before), "events_y1969m12");
  EXPECT_EQ(before.end_ns, 0);
  EXPECT_EQ(before.start_ns, -31LL * 86400 * kSec);

  EXPECT_EQ(MonthOf(std::numeric_limits<int64_t>::max()).end_ns,
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(MonthOf(std::numeric_limits<int64_t>::min()).start_ns,
            std::numeric_limits<int64_t>::min());
}

TEST(PgSchemaTest, PartitionNamesRoundTrip) {
  auto m = ParsePartitionName("events_y2024m02");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->year, 2024);
  EXPECT_EQ(m->month, 2);
  EXPECT_EQ(m->end_ns - m->start_ns, 29LL * 86400 * kSec);  // leap year
  EXPECT_FALSE(ParsePartitionName("events_y2024m13"));
  EXPECT_FALSE(ParsePartitionName("events_y2024m02x"));
  EXPECT_FALSE(ParsePartitionName("events"));
  EXPECT_FALSE(ParsePartitionName("hosts_y2024m02"));
  EXPECT_FALSE(ParsePartitionName("events_y1500m01"));
}

TEST(PgSchemaTest, GlobToRegexFollowsSqliteGlob) {
  struct Case {
    const char* glob;
    std::optional<std::string> regex;
  };
  const Case cases[] = {
      {"/etc/*", "^/etc/.*$"},
      {"/etc/?ost", "^/etc/.ost$"},
      {"/a.b+c(d)|e$f^g{1}\\", "^/a\\.b\\+c\\(d\\)\\|e\\$f\\^g\\{1\\}\\\\$"},
      {"/x[ab]", "^/x[ab]$"},
      {"/x[^a-c]", "^/x[^a-c]$"},
      {"/x[]a]", "^/x[\\]a]$"},
      {"/x[a\\[]", "^/x[a\\\\\\[]$"},
      {"/x[ab", std::nullopt},
      {"", "^$"},
  };
  for (const Case& c : cases) EXPECT_EQ(GlobToRegex(c.glob), c.regex) << c.glob;
}

TEST(PgSchemaTest, MigrationsAreOrderedAndEndAtCurrentVersion) {
  const auto& all = PgMigrations();
  ASSERT_FALSE(all.empty());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].version, static_cast<int>(i) + 1);
  EXPECT_EQ(all.back().version, kPgSchemaVersion);
}

TEST(StoreUrlTest, ParsesSchemes) {
  auto s = ParseStoreUrl("sqlite:///var/lib/driftwatch/c.db");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, StoreUrl::Kind::kSqlite);
  EXPECT_EQ(s->target, "/var/lib/driftwatch/c.db");
  auto p = ParseStoreUrl("postgresql://driftwatch@db.example/driftwatch");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, StoreUrl::Kind::kPostgres);
  EXPECT_EQ(p->target, "postgresql://driftwatch@db.example/driftwatch");
  EXPECT_EQ(ParseStoreUrl("postgres://h/db")->kind, StoreUrl::Kind::kPostgres);
  EXPECT_EQ(ParseStoreUrl("sqlite://relative.db").status().message(),
            "--store sqlite://relative.db: expected sqlite:///absolute/path/to/file.db");
  EXPECT_EQ(ParseStoreUrl("mysql://x").status().message(),
            "--store mysql://x: expected sqlite:///PATH or postgresql://USER@HOST/DB");
  EXPECT_TRUE(HavePostgres());
}

TEST(StoreUrlTest, UnreachableServerIsUnavailable) {
  // Port 1 on loopback: nothing listens there.
  auto s = OpenStoreUrl("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", 1);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.status().message().rfind("postgresql: cannot connect: ", 0), 0u)
      << s.status().message();
}

}  // namespace
}  // namespace driftwatch::collector
