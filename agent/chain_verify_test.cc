// store verify against stores edited the way an intruder would, with the
// sqlite3 tool.
#include "agent/chain_verify.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "agent/store.h"
#include "core/chain.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::agent {
namespace {

using driftwatch::testutil::TempDir;
using driftwatch::testutil::WriteFile;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Entry File(const std::string& name, const std::string& content) {
  Entry e;
  e.name = name;
  e.type = EntryType::kFile;
  e.mask = kAttrType | kAttrPerm | kAttrHash;
  e.mode = 0644;
  e.content = Hasher::Of(HashAlgo::kXxh128, content);
  return e;
}

// A store with a baseline (revision 1, by alice), a check of it that found
// a planted file, and a restore; then closed, for sqlite3 to edit.
struct Fixture {
  TempDir dir;
  std::string db = dir / "agent.db";
  Hash128 base_root, check_root, base_etc;
  int64_t base_snapshot = 0, check_snapshot = 0, check_id = 0;

  Fixture() {
    auto opened = Store::Open(DefaultHost(), db);
    EXPECT_TRUE(opened.ok()) << opened.status().message();
    Store& s = **opened;
    base_etc = Put(s, Tree{{File("passwd", "root:x")}});
    base_root = Put(s, Tree{{Dir("etc", base_etc)}});
    const Hash128 check_etc = Put(s, Tree{{File("backdoor", "nc -l"), File("passwd", "root:x")}});
    check_root = Put(s, Tree{{Dir("etc", check_etc)}});
    base_snapshot = Snapshot(s, "baseline", base_root);
    EXPECT_TRUE(s.AddBaseline("default", base_snapshot, 100, "alice", "first").ok());
    check_snapshot = Snapshot(s, "check", check_root);
    DriftEvent ev;
    ev.path = "/etc/backdoor";
    ev.kind = DriftKind::kAdded;
    ev.severity = Severity::kCritical;
    ev.rule = "/etc/**";
    ev.new_entry = File("backdoor", "nc -l");
    auto id = s.RecordCheck(CheckRow{0, check_snapshot, "default", 1, 150, 200}, {ev});
    EXPECT_TRUE(id.ok()) << id.status().message();
    check_id = *id;
    RestoreRow r{0,         300, "root", "ticket 9",
                 "default", 1,   0,      {{"/etc/backdoor", "remove", "", true}}};
    EXPECT_TRUE(s.RecordRestore(r).ok());
  }
  static Entry Dir(const std::string& name, const Hash128& subtree) {
    Entry e;
    e.name = name;
    e.type = EntryType::kDir;
    e.mask = kAttrType;
    e.subtree = subtree;
    return e;
  }
  static Hash128 Put(Store& s, const Tree& t) {
    const std::string bytes = SerializeTree(t);
    const Hash128 id = TreeHash(bytes);
    EXPECT_TRUE(s.Put(id, bytes).ok());
    return id;
  }
  static int64_t Snapshot(Store& s, const std::string& kind, const Hash128& root) {
    SnapshotRow row;
    row.kind = kind;
    row.target = "web-1";
    row.rules_hash = "f00d";
    row.root = root;
    auto id = s.AddSnapshot(row);
    EXPECT_TRUE(id.ok()) << id.status().message();
    return *id;
  }
  // Runs `sql` with the sqlite3 tool, as someone with the file would.
  void Sqlite3(const std::string& sql) {
    const std::string script = dir / "edit.sql";
    WriteFile(script, sql);
    const std::string cmd = "sqlite3 -bail '" + db + "' < '" + script + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  StoreVerification Verify() {
    auto v = VerifyStore(DefaultHost(), db);
    EXPECT_TRUE(v.ok()) << v.status().message();
    return v.ok() ? *v : StoreVerification{};
  }
};

std::vector<std::string> Lines(const StoreVerification& v) {
  std::vector<std::string> out;
  for (const VerifyFinding& f : v.findings) {
    out.push_back(std::to_string(f.seq) + " " + f.kind + " " + std::to_string(f.time_ns) + ": " +
                  f.what);
  }
  return out;
}

TEST(ChainVerifyTest, AStoreKeptByDriftwatchIsClean) {
  Fixture f;
  StoreVerification v = f.Verify();
  EXPECT_THAT(Lines(v), ElementsAre());
  EXPECT_TRUE(v.clean());
  EXPECT_EQ(v.length, 3);
  EXPECT_EQ(v.head.size(), 64u);
  EXPECT_EQ(v.baselines, 1);
  EXPECT_EQ(v.checks, 1);
  EXPECT_EQ(v.restores, 1);
  EXPECT_EQ(v.trees, 2);  // the baseline's root and its etc
}

TEST(ChainVerifyTest, FindsARevisionAcceptedIntoTheTablesWithoutItsRecord) {
  Fixture f;
  // The check's snapshot, holding the backdoor, made revision 2.
  f.Sqlite3(
      "INSERT INTO snapshots(kind, target, root_path, rules_hash, root, created_ns, files, dirs,"
      " others, files_hashed, bytes_hashed, duration_ns, warnings, subtrees, packages)"
      " SELECT 'baseline', target, root_path, rules_hash, root, created_ns, files, dirs, others,"
      " files_hashed, bytes_hashed, duration_ns, warnings, subtrees, packages"
      " FROM snapshots WHERE id = " +
      std::to_string(f.check_snapshot) +
      ";\n"
      "INSERT INTO baselines(name, revision, snapshot_id, created_ns, author, reason)"
      " VALUES('default', 2, last_insert_rowid(), 400, 'mallory', 'routine');\n");
  StoreVerification v = f.Verify();
  EXPECT_THAT(Lines(v),
              ElementsAre("0 baselines 0: baseline 'default' revision 2 (snapshot 3, root " +
                          f.check_root.Hex() +
                          ", by 'mallory') has no chain record: it was added outside "
                          "driftwatch"));
}

TEST(ChainVerifyTest, FindsAChangedBaselineSnapshotRoot) {
  Fixture f;
  f.Sqlite3("UPDATE snapshots SET root = (SELECT root FROM snapshots WHERE id = " +
            std::to_string(f.check_snapshot) + ") WHERE id = " + std::to_string(f.base_snapshot) +
            ";\n");
  StoreVerification v = f.Verify();
  EXPECT_THAT(
      Lines(v),
      ElementsAre("1 baseline 100: baseline 'default' revision 1: root is '" + f.check_root.Hex() +
                      "' in the table, '" + f.base_root.Hex() + "' in the chain",
                  "2 check 200: check " + std::to_string(f.check_id) + ": baseline_root is '" +
                      f.check_root.Hex() + "' in the table, '" + f.base_root.Hex() +
                      "' in the chain"));
}

TEST(ChainVerifyTest, FindsADeletedCheck) {
  Fixture f;
  f.Sqlite3("DELETE FROM events; DELETE FROM checks WHERE id = " + std::to_string(f.check_id) +
            ";\n");
  StoreVerification v = f.Verify();
  EXPECT_THAT(Lines(v), ElementsAre("2 check 200: check " + std::to_string(f.check_id) +
                                    " is in the chain but not in the checks table (deleted?)"));
}

TEST(ChainVerifyTest, FindsAnEditedEvent) {
  Fixture f;
  f.Sqlite3("UPDATE events SET severity = 'low';\n");
  StoreVerification v = f.Verify();
  ASSERT_EQ(v.findings.size(), 1u);
  EXPECT_EQ(v.findings[0].seq, 2);
  EXPECT_THAT(v.findings[0].what,
              HasSubstr("check " + std::to_string(f.check_id) + ": events_digest is '"));
}

TEST(ChainVerifyTest, FindsADeletedChainRecord) {
  Fixture f;
  // The check and its record both go; the trigger first.
  f.Sqlite3(
      "DROP TRIGGER chain_no_delete; DELETE FROM chain WHERE seq = 2;"
      " DELETE FROM events; DELETE FROM checks;\n");
  StoreVerification v = f.Verify();
  EXPECT_THAT(Lines(v), ElementsAre("3 restore 300: follows record 1: record(s) 2 are missing "
                                    "(deleted?)"));
  EXPECT_EQ(v.length, 2);
}

TEST(ChainVerifyTest, FindsAnEditedChainBody) {
  Fixture f;
  f.Sqlite3(
      "DROP TRIGGER chain_no_update;"
      " UPDATE chain SET body = replace(body, 'alice', 'mallory') WHERE seq = 1;"
      " UPDATE baselines SET author = 'mallory';\n");
  StoreVerification v = f.Verify();
  ASSERT_EQ(v.findings.size(), 1u) << testing::PrintToString(Lines(v));
  EXPECT_EQ(v.findings[0].seq, 1);
  EXPECT_EQ(v.findings[0].kind, "baseline");
  EXPECT_EQ(v.findings[0].time_ns, 100);
  EXPECT_THAT(v.findings[0].what, HasSubstr("this record, or the head before it, was changed"));
}

TEST(ChainVerifyTest, FindsADamagedBaselineTree) {
  Fixture f;
  f.Sqlite3("UPDATE trees SET data = data || x'00' WHERE id = x'" + f.base_etc.Hex() + "';\n");
  StoreVerification v = f.Verify();
  ASSERT_EQ(v.findings.size(), 1u);
  EXPECT_EQ(v.findings[0].kind, "trees");
  EXPECT_THAT(v.findings[0].what,
              HasSubstr("tree " + f.base_etc.Hex() +
                        " (of baseline 'default' revision 1) is damaged: its bytes hash to "));
}

TEST(ChainVerifyTest, AStoreWithoutAChainCannotBeVerified) {
  Fixture f;
  f.Sqlite3(
      "DROP TABLE chain; UPDATE schema_versions SET version = 5 WHERE component = 'store';\n");
  auto v = VerifyStore(DefaultHost(), f.db);
  EXPECT_EQ(v.status().code(), StatusCode::kUnsupported);
  EXPECT_THAT(v.status().message(), HasSubstr("has no chain"));
  auto missing = VerifyStore(DefaultHost(), f.dir / "none.db");
  EXPECT_FALSE(missing.ok());
}

}  // namespace
}  // namespace driftwatch::agent
