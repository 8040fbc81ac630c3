#include "collector/store_rows.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace driftwatch::collector::store_rows {
namespace {

// A row of text columns; a missing column is NULL. Booleans as SQLite
// stores them.
struct FakeRow {
  std::map<int, std::string> cols;
  std::string Text(int col) const {
    auto it = cols.find(col);
    return it == cols.end() ? "" : it->second;
  }
  int64_t Int(int col) const { return std::stoll("0" + Text(col)); }
  bool Bool(int col) const { return Int(col) != 0; }
};

const char* kRoot = "000102030405060708090a0b0c0d0e0f";

TEST(StoreRowsTest, ReadsAHostRow) {
  FakeRow r{{{0, "web-1"},
             {1, "web"},
             {4, "5"},
             {8, "3"},
             {10, kRoot},
             {11, std::string("{\"/etc\": \"") + kRoot + "\", \"/usr\": \"" + kRoot + "\"}"},
             {12, "7"},
             {16, "{}"},
             {19, "too big"}}};
  HostRecord h = ReadHost(r);
  EXPECT_EQ(h.id, "web-1");
  EXPECT_EQ(h.group, "web");
  EXPECT_EQ(h.enrolled_ns, 5);
  EXPECT_EQ(h.baseline_revision, 3);
  EXPECT_EQ(h.root.Hex(), kRoot);
  ASSERT_EQ(h.subtrees.size(), 2u);
  EXPECT_EQ(h.subtrees[0].first, "/etc");
  EXPECT_EQ(h.subtrees[0].second.Hex(), kRoot);
  EXPECT_EQ(h.reports, 7);
  EXPECT_EQ(h.last_summary_json, "{}");
  EXPECT_EQ(h.last_refused_reason, "too big");
}

TEST(StoreRowsTest, UndecodableStoredValuesReadAsEmpty) {
  for (const char* subtrees : {"", "not json", "[]", "{\"/etc\": 1}", "{\"/etc\": \"zz\"}"}) {
    HostRecord h = ReadHost(FakeRow{{{10, "nothex"}, {11, subtrees}}});
    EXPECT_TRUE(h.root.IsZero()) << subtrees;
    EXPECT_TRUE(h.subtrees.empty()) << subtrees;
  }
}

TEST(StoreRowsTest, ReadsCommandsAlertsAndTokens) {
  CommandRecord c =
      ReadCommand(FakeRow{{{0, "4"}, {2, "accept"}, {6, "1"}, {8, "[\"/etc/a\", \"/etc/b\"]"}}});
  EXPECT_EQ(c.id, 4);
  EXPECT_EQ(c.kind, "accept");
  EXPECT_TRUE(c.ok);
  EXPECT_EQ(c.paths, (std::vector<std::string>{"/etc/a", "/etc/b"}));
  EXPECT_FALSE(ReadCommand(FakeRow{}).ok);

  PendingAlert a = ReadAlert(FakeRow{{{0, "1"}, {1, "pager"}, {2, "9"}, {4, "9"}, {9, "{}"}}});
  EXPECT_EQ(a.route, "pager");
  EXPECT_EQ(a.event_id, 9);
  EXPECT_EQ(a.event.id, 9);
  EXPECT_EQ(a.event.event_json, "{}");

  auto token = ReadToken(FakeRow{{{0, "agent"}, {1, "web-1"}, {2, "2"}}});
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->role, Role::kAgent);
  EXPECT_EQ(token->host_id, "web-1");
  EXPECT_EQ(token->limits.uses_left, 2);
  auto bad = ReadToken(FakeRow{{{0, "root"}}});
  EXPECT_EQ(bad.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(bad.status().message(), "tokens: unknown role root");
}

}  // namespace
}  // namespace driftwatch::collector::store_rows
