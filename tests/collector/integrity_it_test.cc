// The collector's escrow of agent chains over real HTTP (docs/integrity.md
// "At the collector"): crafted reports carrying `chain` and `self`, the
// 200 answer's `chain`, integrity alerts, trust resets, and the collector's
// own event chain checked by `driftwatch-collector verify` after the store
// is edited behind its back (sqlite3, or psql on PostgreSQL).
#include "core/chain.h"
#include "tests/collector/harness.h"

namespace driftwatch::collector_it {
namespace {

using chain::BodyBuilder;
using chain::Record;

const std::string kRootA = "0123456789abcdef0123456789abcdef";
const std::string kRootB = "fedcba9876543210fedcba9876543210";

// An agent store's chain, as the agent would keep it.
struct AgentChain {
  std::vector<Record> records;
  std::vector<std::string> heads;
  std::string tag;  // in the ids of check records: another store's checks differ

  const std::string& HeadAt(int64_t seq) const {
    return seq == 0 ? chain::GenesisHead() : heads[static_cast<size_t>(seq - 1)];
  }
  void Append(std::string_view kind, std::string body) {
    Record r{static_cast<int64_t>(records.size()) + 1, std::string(kind),
             1700000000000000000 + static_cast<int64_t>(records.size()), std::move(body)};
    heads.push_back(chain::NextHead(HeadAt(r.seq - 1), chain::RecordHash(r)));
    records.push_back(std::move(r));
  }
  void Baseline(int64_t revision, const std::string& root,
                std::string_view kind = chain::kBaseline) {
    Append(kind, BodyBuilder()
                     .Str("name", "default")
                     .Int("revision", revision)
                     .Str("snapshot", "s" + std::to_string(revision))
                     .Str("root", root)
                     .Str("rules", "r")
                     .Str("author", "root")
                     .Str("reason", "")
                     .Build());
  }
  void Check(int64_t revision, const std::string& root) {
    Append(chain::kCheck, BodyBuilder()
                              .Str("check", "c" + tag + std::to_string(records.size()))
                              .Str("baseline", "default")
                              .Int("revision", revision)
                              .Str("baseline_root", root)
                              .Str("root", root)
                              .Int("events", 0)
                              .Str("events_digest", chain::Sha256Hex(""))
                              .Build());
  }
  // A copy holding the first n records.
  AgentChain Prefix(int64_t n) const {
    AgentChain c;
    c.records.assign(records.begin(), records.begin() + n);
    c.heads.assign(heads.begin(), heads.begin() + n);
    return c;
  }
  chain::ReportChain Section(int64_t from, int64_t to) const {
    chain::ReportChain c;
    c.from = from;
    c.length = to;
    c.head = HeadAt(to);
    for (int64_t s = from + 1; s <= to; ++s) c.records.push_back(records[s - 1]);
    return c;
  }
};

chain::SelfDigests Self(char exe, char rules, char config, std::string version) {
  return {std::string(64, exe), std::string(64, rules), std::string(64, config),
          std::move(version)};
}

struct Report {
  // A constructor rather than an aggregate: the cases name only the leading
  // fields they need.
  Report(int id, std::optional<chain::ReportChain> chain = std::nullopt,
         std::optional<chain::SelfDigests> self = std::nullopt, std::vector<DriftEvent> events = {},
         std::optional<std::vector<PackageInfo>> packages = std::nullopt)
      : id(id),
        chain(std::move(chain)),
        self(std::move(self)),
        events(std::move(events)),
        packages(std::move(packages)) {}
  int id = 0;
  std::optional<chain::ReportChain> chain;
  std::optional<chain::SelfDigests> self;
  std::vector<DriftEvent> events;
  std::optional<std::vector<PackageInfo>> packages;
};

class IntegrityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(c_.Start()) << testutil::Run("cat " + Q(c_.log())).out;
    read_ = c_.Token("read");
    admin_ = c_.Token("admin");
    agent_ = c_.EnrollApi(c_.Token("enroll"), "web-1");
    ASSERT_FALSE(agent_.empty());
  }

  Answer Send(const Report& rep) {
    CheckResult r;
    r.target = "web-1";
    r.baseline = "default";
    r.baseline_revision = 1;
    r.finished_ns = 1700000000000000000 + int64_t{rep.id} * 1000000000;
    r.started_ns = r.finished_ns - 1000000;
    r.events = rep.events;
    r.chain = rep.chain;
    r.self = rep.self;
    if (rep.packages) {
      PackageInventory p;
      p.list = *rep.packages;
      p.count = static_cast<int64_t>(p.list.size());
      p.full = true;
      p.digest = HashBytes(PackageInventoryText(p.list));
      r.packages = p;
    }
    value v = CheckResultToJson(r);
    v["format"] = value::number(1);
    v["report_id"] = value(Uuid(rep.id));
    v["host_id"] = value("web-1");
    v["agent_version"] = value("it");
    v["sent"] = value(FormatRfc3339Nanos(r.finished_ns));
    return Http("POST", c_.url() + "/api/v1/reports", agent_, v.serialize());
  }
  // The answer's chain field, as (held, head, state).
  static std::tuple<int64_t, std::string, std::string> ChainOf(const Answer& a) {
    const value j = a.json();
    if (!j.has_field("chain")) return {-1, "", "(none)"};
    const value& c = j.at("chain");
    return {c.at("held").as_number().to_int64(), c.at("head").as_string(),
            c.at("state").as_string()};
  }
  std::vector<value> Alerts(const std::string& query = "host=web-1&open=true") {
    Answer a = c_.Get("/api/v1/integrity?" + query, read_);
    EXPECT_EQ(a.status, 200) << a.body;
    std::vector<value> out;
    if (a.status != 200) return out;
    const value j = a.json();
    for (const value& x : j.at("alerts").as_array()) out.push_back(x);
    return out;
  }
  int64_t Reports() {
    Answer a = c_.Get("/api/v1/hosts/web-1", read_);
    return a.json().at("reports").as_number().to_int64();
  }
  testutil::RunResult Cli(const std::string& args) {
    return testutil::Run(Q(CollectorBin()) + " " + args + " " + c_.StoreFlags() + " 2>&1");
  }

  TempDir dir_;
  Collector c_{dir_};
  std::string read_, admin_, agent_;
};

TEST_F(IntegrityTest, AdoptsExtendsAndAsksForAResend) {
  AgentChain a;
  a.Baseline(1, kRootA);
  a.Check(1, kRootA);
  Answer r = Send({1, a.Section(0, 2)});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ChainOf(r), std::make_tuple(int64_t{2}, a.HeadAt(2), std::string("adopted")));

  a.Check(1, kRootA);
  r = Send({2, a.Section(2, 3)});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ChainOf(r), std::make_tuple(int64_t{3}, a.HeadAt(3), std::string("ok")));

  // The agent thinks the collector holds more than it does.
  a.Check(1, kRootA);
  a.Check(1, kRootA);
  r = Send({3, a.Section(4, 5)});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ChainOf(r), std::make_tuple(int64_t{3}, a.HeadAt(3), std::string("resend")));
  r = Send({4, a.Section(3, 5)});
  EXPECT_EQ(ChainOf(r), std::make_tuple(int64_t{5}, a.HeadAt(5), std::string("ok")));

  // A duplicate report gets its original answer and changes nothing.
  r = Send({1, a.Section(0, 2)});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.json().at("duplicate").as_bool());
  EXPECT_EQ(ChainOf(r), std::make_tuple(int64_t{2}, a.HeadAt(2), std::string("adopted")));

  Answer ch = c_.Get("/api/v1/hosts/web-1/chain", read_);
  ASSERT_EQ(ch.status, 200) << ch.body;
  const value j = ch.json();
  EXPECT_EQ(j.at("agent_chain").at("held").as_number().to_int64(), 5);
  EXPECT_EQ(j.at("agent_chain").at("head").as_string(), a.HeadAt(5));
  EXPECT_EQ(j.at("agent_chain").at("epoch").as_number().to_int64(), 1);
  EXPECT_TRUE(Alerts().empty());
  EXPECT_EQ(Reports(), 4);
  // A report without a chain has no chain in its answer.
  r = Send({5});
  EXPECT_EQ(std::get<2>(ChainOf(r)), "(none)");
}

TEST_F(IntegrityTest, AForkAlertsOnceKeepsTheReportAndATrustResetAdoptsAgain) {
  AgentChain a;
  a.Baseline(1, kRootA);
  a.Check(1, kRootA);
  a.Check(1, kRootA);
  ASSERT_EQ(std::get<2>(ChainOf(Send({1, a.Section(0, 3)}))), "adopted");
  // Record 2 rewritten (and every head after it).
  AgentChain b = a.Prefix(1);
  b.Baseline(2, kRootB, chain::kAccept);
  b.Check(2, kRootB);
  b.Check(2, kRootB);
  Answer r = Send({2, b.Section(1, 4), std::nullopt, {Added("/etc/planted")}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ChainOf(r), std::make_tuple(int64_t{3}, a.HeadAt(3), std::string("alert")));
  EXPECT_EQ(Reports(), 2);  // the report is stored all the same
  r = Send({3, b.Section(1, 4)});
  EXPECT_EQ(std::get<2>(ChainOf(r)), "alert");

  std::vector<value> open = Alerts();
  ASSERT_EQ(open.size(), 1u) << "a fork seen again is not raised twice";
  EXPECT_EQ(open[0].at("kind").as_string(), "fork");
  EXPECT_EQ(open[0].at("severity").as_string(), "critical");
  EXPECT_EQ(open[0].at("host").as_string(), "web-1");
  EXPECT_EQ(open[0].at("seq").as_number().to_int64(), 2);
  const std::string detail = open[0].at("detail").as_string();
  EXPECT_NE(detail.find(a.HeadAt(2)), std::string::npos) << detail;
  EXPECT_NE(detail.find(b.HeadAt(2)), std::string::npos) << detail;
  Answer hosts = c_.Get("/api/v1/hosts", read_);
  EXPECT_EQ(hosts.json().at("hosts").at(0).at("integrity_alerts").as_number().to_int64(), 1);

  // Only an admin resets trust, with a reason.
  value body = value::object();
  body["reason"] = value("store restored from backup after incident 42");
  EXPECT_EQ(
      Http("POST", c_.url() + "/api/v1/hosts/web-1/trust-reset", read_, body.serialize()).status,
      403);
  EXPECT_EQ(Http("POST", c_.url() + "/api/v1/hosts/web-1/trust-reset", admin_, "{}").status, 400);
  EXPECT_EQ(
      Http("POST", c_.url() + "/api/v1/hosts/nope/trust-reset", admin_, body.serialize()).status,
      404);
  r = Http("POST", c_.url() + "/api/v1/hosts/web-1/trust-reset", admin_, body.serialize());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json().at("epoch").as_number().to_int64(), 2);
  EXPECT_TRUE(Alerts().empty());
  std::vector<value> all = Alerts("host=web-1");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_FALSE(all[0].at("open").as_bool());
  EXPECT_NE(all[0].at("resolution").as_string().find("incident 42"), std::string::npos);

  // The new epoch holds nothing: the agent sends its chain from the start.
  r = Send({4, b.Section(3, 4)});
  EXPECT_EQ(ChainOf(r), std::make_tuple(int64_t{0}, chain::GenesisHead(), std::string("resend")));
  r = Send({5, b.Section(0, 4)});
  EXPECT_EQ(ChainOf(r), std::make_tuple(int64_t{4}, b.HeadAt(4), std::string("adopted")));
  Answer ch = c_.Get("/api/v1/hosts/web-1/chain", read_);
  EXPECT_EQ(ch.json().at("agent_chain").at("epoch_reason").as_string(),
            "store restored from backup after incident 42");
}

TEST_F(IntegrityTest, ARewoundStoreAlertsThenForksWhenItGrows) {
  AgentChain a;
  a.Baseline(1, kRootA);
  for (int i = 0; i < 4; ++i) a.Check(1, kRootA);
  ASSERT_EQ(std::get<2>(ChainOf(Send({1, a.Section(0, 5)}))), "adopted");
  // The store put back from a copy of 3 records, acked at 2.
  Answer r = Send({2, a.Section(2, 3)});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ChainOf(r), std::make_tuple(int64_t{5}, a.HeadAt(5), std::string("alert")));
  std::vector<value> open = Alerts();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].at("kind").as_string(), "rewind");
  EXPECT_EQ(open[0].at("seq").as_number().to_int64(), 3);
  EXPECT_NE(open[0].at("detail").as_string().find(a.HeadAt(5)), std::string::npos);
  // It checks on: its new records differ from the ones the collector holds.
  AgentChain b = a.Prefix(3);
  b.tag = "-restored-";
  b.Check(1, kRootA);
  b.Check(1, kRootA);
  b.Check(1, kRootA);
  r = Send({3, b.Section(2, 6)});
  EXPECT_EQ(std::get<2>(ChainOf(r)), "alert");
  open = Alerts();
  ASSERT_EQ(open.size(), 2u);
  EXPECT_EQ(open[0].at("kind").as_string(), "fork");  // newest first
  EXPECT_EQ(open[0].at("seq").as_number().to_int64(), 4);
}

TEST_F(IntegrityTest, ACheckAgainstABaselineOutsideTheChainAlerts) {
  AgentChain a;
  a.Baseline(1, kRootA);
  a.Check(1, kRootA);
  ASSERT_EQ(std::get<2>(ChainOf(Send({1, a.Section(0, 2)}))), "adopted");
  a.Check(1, kRootB);  // the baseline's tables edited: another root
  Answer r = Send({2, a.Section(2, 3)});
  EXPECT_EQ(ChainOf(r), std::make_tuple(int64_t{3}, a.HeadAt(3), std::string("alert")));
  std::vector<value> open = Alerts();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].at("kind").as_string(), "baseline-outside-chain");
  EXPECT_EQ(open[0].at("seq").as_number().to_int64(), 3);
  const std::string detail = open[0].at("detail").as_string();
  EXPECT_NE(detail.find(kRootA), std::string::npos) << detail;
  EXPECT_NE(detail.find(kRootB), std::string::npos) << detail;
}

TEST_F(IntegrityTest, AHeadTheRecordsDoNotGiveIsAForkAndTheReportIsKept) {
  AgentChain a;
  a.Baseline(1, kRootA);
  a.Check(1, kRootA);
  chain::ReportChain bad = a.Section(0, 2);
  bad.head = a.HeadAt(1);
  Answer r = Send({1, bad, std::nullopt, {Added("/etc/x")}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(std::get<2>(ChainOf(r)), "alert");
  EXPECT_EQ(Reports(), 1);
  EXPECT_EQ(AllDrift(c_, read_, "host=web-1").size(), 1u);
  std::vector<value> open = Alerts();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].at("kind").as_string(), "fork");
  EXPECT_NE(open[0].at("detail").as_string().find(a.HeadAt(2)), std::string::npos);
  Answer ch = c_.Get("/api/v1/hosts/web-1/chain", read_);
  EXPECT_EQ(ch.json().at("agent_chain").at("held").as_number().to_int64(), 0);
  // The same chain with the right head is adopted; the alert stays open.
  r = Send({2, a.Section(0, 2)});
  EXPECT_EQ(std::get<2>(ChainOf(r)), "adopted");
  EXPECT_EQ(Alerts().size(), 1u);
}

TEST_F(IntegrityTest, SelfChangesAlertUnlessExplained) {
  ASSERT_EQ(Send({1, std::nullopt, Self('a', 'b', 'c', "0.1.0")}).status, 200);
  EXPECT_TRUE(Alerts("host=web-1").empty());
  // The binary swapped, same version: critical.
  ASSERT_EQ(Send({2, std::nullopt, Self('e', 'b', 'c', "0.1.0")}).status, 200);
  std::vector<value> open = Alerts();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].at("kind").as_string(), "exe");
  EXPECT_EQ(open[0].at("severity").as_string(), "critical");
  EXPECT_NE(open[0].at("detail").as_string().find(std::string(64, 'e')), std::string::npos);
  // An upgrade: listed, resolved at once.
  ASSERT_EQ(Send({3, std::nullopt, Self('f', 'b', 'c', "0.2.0")}).status, 200);
  EXPECT_EQ(Alerts().size(), 1u);
  std::vector<value> all = Alerts("host=web-1");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].at("severity").as_string(), "info");
  EXPECT_FALSE(all[0].at("open").as_bool());
  EXPECT_EQ(all[0].at("resolved_by").as_string(), "collector");
  // The package inventory shows driftwatch upgraded: explained too.
  ASSERT_EQ(Send({4,
                  std::nullopt,
                  Self('f', 'b', 'c', "0.2.0"),
                  {},
                  std::vector<PackageInfo>{{"dpkg", "driftwatch", "0.2.0-1", "amd64"}}})
                .status,
            200);
  Answer five = Send({5,
                      std::nullopt,
                      Self('9', 'b', 'c', "0.2.0"),
                      {},
                      std::vector<PackageInfo>{{"dpkg", "driftwatch", "0.2.0-2", "amd64"}}});
  ASSERT_EQ(five.status, 200) << five.body;
  EXPECT_EQ(Alerts().size(), 1u);
  all = Alerts("host=web-1");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_NE(all[0].at("resolution").as_string().find("0.2.0-2"), std::string::npos);
  // Rules changed without a record: high; with one: info.
  ASSERT_EQ(Send({6, std::nullopt, Self('9', 'd', 'c', "0.2.0")}).status, 200);
  open = Alerts();
  ASSERT_EQ(open.size(), 2u);
  EXPECT_EQ(open[0].at("kind").as_string(), "rules");
  EXPECT_EQ(open[0].at("severity").as_string(), "high");
  AgentChain a;
  a.Append(chain::kRules, BodyBuilder()
                              .Str("path", "/etc/driftwatch/rules.yaml")
                              .Str("digest", std::string(64, '7'))
                              .Str("fingerprint", "f")
                              .Build());
  ASSERT_EQ(Send({7, a.Section(0, 1), Self('9', '7', 'c', "0.2.0")}).status, 200);
  EXPECT_EQ(Alerts().size(), 2u);
  all = Alerts("host=web-1");
  EXPECT_EQ(all[0].at("kind").as_string(), "rules");
  EXPECT_EQ(all[0].at("severity").as_string(), "info");
}

TEST_F(IntegrityTest, TheCliResetsTrustAudited) {
  AgentChain a;
  a.Check(1, kRootA);  // no baseline record: outside the chain
  ASSERT_EQ(std::get<2>(ChainOf(Send({1, a.Section(0, 1)}))), "alert");
  ASSERT_EQ(Alerts().size(), 1u);
  auto r = Cli("host trust-reset web-1");
  EXPECT_NE(r.exit_code, 0) << "--reason is required";
  const std::string log = dir_ / "audit.log";
  WriteFile(dir_ / "c.yaml", "version: 1\nlog_file: " + log + "\n");
  r = Cli("host trust-reset web-1 --reason 'agent reinstalled' --config " + Q(dir_ / "c.yaml"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("epoch 2"), std::string::npos) << r.out;
  EXPECT_TRUE(Alerts().empty());
  const std::string audit = ReadAll(log);
  EXPECT_NE(audit.find("audit event=trust_reset outcome=ok via=cli"), std::string::npos) << audit;
  EXPECT_NE(audit.find("host=web-1 epoch=2 reason=\"agent reinstalled\""), std::string::npos)
      << audit;
  EXPECT_NE(Cli("host trust-reset nope --reason x").exit_code, 0);
}

TEST_F(IntegrityTest, VerifyFindsAnEditedEventRowAndAnExportedHeadRewritten) {
  for (int i = 1; i <= 3; ++i) {
    ASSERT_EQ(Send({i,
                    std::nullopt,
                    std::nullopt,
                    {Added("/etc/a" + std::to_string(i)), Added("/etc/b" + std::to_string(i))}})
                  .status,
              200);
  }
  Answer ch = c_.Get("/api/v1/hosts/web-1/chain", read_);
  ASSERT_EQ(ch.status, 200);
  EXPECT_EQ(ch.json().at("event_chain").at("length").as_number().to_int64(), 6);
  WriteFile(dir_ / "heads.json", ch.body);
  auto r = Cli("verify");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  r = Cli("verify --host web-1 --heads " + Q(dir_ / "heads.json"));
  EXPECT_EQ(r.exit_code, 0) << r.out;

  // The third event's path changed in the database.
  const std::vector<value> events = AllDrift(c_, read_, "host=web-1");
  ASSERT_EQ(events.size(), 6u);
  int64_t third = 0;
  for (const value& e : events) {
    if (e.at("path").as_string() == "/etc/a2") third = e.at("id").as_number().to_int64();
  }
  ASSERT_GT(third, 0);
  // Stored packed (event_body.h): the intruder writes a plain JSON body,
  // which readers take as it is.
  const std::string sql =
      "UPDATE events SET body = '{\"attributes\":[],\"kind\":\"added\",\"path\":\"/etc/zz\","
      "\"rule\":\"\",\"severity\":\"low\"}' WHERE id = " +
      std::to_string(third);
  testutil::RunResult edit =
      UsePostgres() ? testutil::Run("psql -q " + Q(c_.store_url()) + " -c " + Q(sql) + " 2>&1")
                    : testutil::Run("sqlite3 " + Q(c_.db()) + " " + Q(sql) + " 2>&1");
  ASSERT_EQ(edit.exit_code, 0) << edit.out;
  bool shown = false;  // beside the packed bodies of the other events
  for (const value& e : AllDrift(c_, read_, "host=web-1")) {
    shown = shown || e.at("path").as_string() == "/etc/zz";
  }
  EXPECT_TRUE(shown);
  r = Cli("verify");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("host web-1 event " + std::to_string(third) + " seq 3: event " +
                       std::to_string(third) + " (chain seq 3) does not fit"),
            std::string::npos)
      << r.out;

  // Every head after it recomputed by the intruder: only the exported copy tells.
  ASSERT_EQ(Send({4, std::nullopt, std::nullopt, {Added("/etc/c")}}).status, 200);
  const std::string gone = "DELETE FROM events WHERE host_id = 'web-1' AND chain_seq = 7";
  const std::string shrink =
      "UPDATE chain_hosts SET events_length = 6, events_head = (SELECT "
      "chain_head FROM events WHERE host_id = 'web-1' AND chain_seq = 6)";
  for (const std::string& q : {gone, shrink}) {
    edit = UsePostgres() ? testutil::Run("psql -q " + Q(c_.store_url()) + " -c " + Q(q) + " 2>&1")
                         : testutil::Run("sqlite3 " + Q(c_.db()) + " " + Q(q) + " 2>&1");
    ASSERT_EQ(edit.exit_code, 0) << edit.out;
  }
  WriteFile(dir_ / "later.json", R"({"host": "web-1", "event_chain": {"length": 7, "head": ")" +
                                     std::string(64, '0') + R"("}})");
  r = Cli("verify --heads " + Q(dir_ / "later.json"));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("past the stored chain's end (seq 6): events were removed"),
            std::string::npos)
      << r.out;
  WriteFile(dir_ / "bad.json", "[1]");
  r = Cli("verify --heads " + Q(dir_ / "bad.json"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
}

}  // namespace
}  // namespace driftwatch::collector_it
