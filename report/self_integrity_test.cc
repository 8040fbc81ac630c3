#include "report/self_integrity.h"

#include <gtest/gtest.h>

#include "agent/store_chain.h"
#include "rules/policy.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::report {
namespace {

using driftwatch::testutil::TempDir;
using driftwatch::testutil::WriteFile;

constexpr const char* kRules = R"(version: 1
rules:
  - path: /etc/**
    severity: high
)";

struct Fixture {
  TempDir dir;
  std::string db = dir / "state/agent.db";
  std::string rules = dir / "rules.yaml";
  std::string config = dir / "agent.yaml";

  Fixture() {
    WriteFile(rules, kRules);
    WriteFile(config, "version: 1\n");
  }
  std::vector<chain::Record> Records() {
    auto store = agent::Store::Open(DefaultHost(), db);
    EXPECT_TRUE(store.ok()) << store.status().message();
    auto all = (*store)->ChainRecords(0, 100);
    EXPECT_TRUE(all.ok());
    std::vector<chain::Record> out;
    for (auto& [r, head] : *all) out.push_back(r);
    return out;
  }
  std::vector<std::string> Kinds() {
    std::vector<std::string> out;
    for (const chain::Record& r : Records()) out.push_back(r.kind);
    return out;
  }
};

TEST(SelfIntegrityTest, DigestsAreOfTheFilesBytes) {
  Fixture f;
  auto self = SelfDigestsOf(DefaultHost(), "e", f.rules, f.dir / "missing.yaml");
  ASSERT_TRUE(self.ok()) << self.status().message();
  EXPECT_EQ(self->exe, "e");
  EXPECT_EQ(self->rules, chain::Sha256Hex(kRules));
  EXPECT_EQ(self->config, "");
  EXPECT_EQ(self->version, DRIFTWATCH_VERSION);
  EXPECT_EQ(ExeDigest(DefaultHost()).size(), 64u);
}

TEST(SelfIntegrityTest, RecordsWhatRunsWhenItStartsOrChanges) {
  Fixture f;
  Host& host = DefaultHost();
  CheckResult result;
  ASSERT_TRUE(StampSelf(host, f.db, "exe1", f.rules, f.config, /*start=*/true, &result).ok());
  auto policy = rules::LoadPolicyFile(host, f.rules);
  ASSERT_TRUE(policy.ok());
  auto records = f.Records();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].kind, "agent-start");
  EXPECT_EQ(records[0].body, R"({"exe":"exe1","version":")" DRIFTWATCH_VERSION R"("})");
  EXPECT_EQ(records[1].kind, "rules");
  EXPECT_EQ(records[1].body, R"({"digest":")" + chain::Sha256Hex(kRules) + R"(","fingerprint":")" +
                                 policy->Fingerprint().Hex() + R"(","path":")" + f.rules + R"("})");
  EXPECT_EQ(records[2].kind, "config");
  EXPECT_EQ(records[2].body, R"({"digest":")" + chain::Sha256Hex("version: 1\n") + R"(","path":")" +
                                 f.config + R"("})");
  ASSERT_TRUE(result.self.has_value());
  EXPECT_EQ(result.self->config, chain::Sha256Hex("version: 1\n"));

  // A command with nothing changed appends nothing.
  ASSERT_TRUE(StampSelf(host, f.db, "exe1", f.rules, f.config, false, &result).ok());
  EXPECT_EQ(f.Records().size(), 3u);
  // A changed configuration and a new executable do.
  WriteFile(f.config, "version: 1\ninterval: 5m\n");
  ASSERT_TRUE(StampSelf(host, f.db, "exe2", f.rules, f.config, false, &result).ok());
  EXPECT_EQ(f.Kinds(),
            (std::vector<std::string>{"agent-start", "rules", "config", "agent-start", "config"}));
  // The daemon's start is always recorded.
  ASSERT_TRUE(StampSelf(host, f.db, "exe2", f.rules, f.config, true, nullptr).ok());
  EXPECT_EQ(f.Records().size(), 6u);
  EXPECT_EQ(f.Records().back().kind, "agent-start");
}

TEST(SelfIntegrityTest, RecordsAnEnrollment) {
  Fixture f;
  ASSERT_TRUE(RecordEnroll(DefaultHost(), f.db, "http://c:1", "web-1", "web").ok());
  auto records = f.Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].kind, "enroll");
  EXPECT_EQ(records[0].body,
            R"({"collector":"http://c:1","group":"web","host":"web-1","signing_key":""})");
}

}  // namespace
}  // namespace driftwatch::report
