#include "core/chain.h"

#include "core/chain_json.h"
#include "core/drift_json.h"

#include <gtest/gtest.h>

namespace driftwatch::chain {
namespace {

std::vector<Record> ThreeRecords() {
  return {
      {1, std::string(kAgentStart), 10, BodyBuilder().Str("exe", "ab").Build()},
      {2, std::string(kBaseline), 20,
       BodyBuilder().Str("name", "default").Int("revision", 1).Build()},
      {3, std::string(kCheck), 30, BodyBuilder().Int("check", 7).Bool("ok", true).Build()},
  };
}

TEST(ChainTest, BodyIsCanonical) {
  const std::string a =
      BodyBuilder().Int("b", -3).Str("a", "x\"\\\n\x01").StrList("c", {"p", "q"}).Build();
  const std::string b =
      BodyBuilder().StrList("c", {"p", "q"}).Str("a", "x\"\\\n\x01").Int("b", -3).Build();
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, R"({"a":"x\"\\\u000a\u0001","b":-3,"c":["p","q"]})");
  auto parsed = ParseBody(a);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->at("a"), "x\"\\\n\x01");
  EXPECT_EQ(parsed->at("b"), "-3");
  EXPECT_EQ(parsed->at("c"), "p\nq");
  EXPECT_EQ(ParseBody("{}")->size(), 0u);
  EXPECT_FALSE(ParseBody("{\"a\":1} ").ok());
  EXPECT_FALSE(ParseBody("{\"a\":{}}").ok());
  EXPECT_FALSE(ParseBody("[]").ok());
}

TEST(ChainTest, HeadsMatchSha256OfTheirParts) {
  // RecordHash is SHA-256 of the documented text (echo -n ... | sha256sum).
  const Record r{1, "check", 5, "{}"};
  EXPECT_EQ(RecordHash(r), Sha256Hex("driftwatch-chain-1\n1\ncheck\n5\n{}"));
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const std::string head = NextHead(GenesisHead(), RecordHash(r));
  EXPECT_EQ(head.size(), 64u);
  EXPECT_EQ(NextHead("zz", RecordHash(r)), "");
}

TEST(ChainTest, FirstMismatchFindsEditsGapsAndReorders) {
  auto records = ThreeRecords();
  std::vector<std::string> heads;
  ASSERT_EQ(FirstMismatch(GenesisHead(), 0, records, {}, &heads), 3u);
  ASSERT_EQ(heads.size(), 3u);
  EXPECT_EQ(FirstMismatch(GenesisHead(), 0, records, heads), 3u);

  auto edited = records;
  edited[1].body = BodyBuilder().Str("name", "default").Int("revision", 2).Build();
  EXPECT_EQ(FirstMismatch(GenesisHead(), 0, edited, heads), 1u);

  auto gap = records;
  gap.erase(gap.begin() + 1);
  EXPECT_EQ(FirstMismatch(GenesisHead(), 0, gap, {}), 1u);

  auto redated = records;
  redated[2].time_ns = 31;
  EXPECT_EQ(FirstMismatch(GenesisHead(), 0, redated, heads), 2u);

  // A suffix checks against the head before it.
  std::vector<Record> tail(records.begin() + 1, records.end());
  std::vector<std::string> tail_heads(heads.begin() + 1, heads.end());
  EXPECT_EQ(FirstMismatch(heads[0], 1, tail, tail_heads), 2u);
  EXPECT_EQ(FirstMismatch(GenesisHead(), 1, tail, tail_heads), 0u);
}

TEST(ChainTest, ReportFieldsRoundTripAndAreChecked) {
  CheckResult r;
  r.target = "web-1";
  r.baseline = "default";
  ReportChain c;
  c.from = 1;
  c.length = 3;
  auto records = ThreeRecords();
  c.records.assign(records.begin() + 1, records.end());
  c.head = std::string(64, 'a');
  r.chain = c;
  r.self = SelfDigests{std::string(64, 'b'), "", std::string(64, 'c'), "0.1.0"};
  const auto json = CheckResultToJson(r);
  auto back = CheckResultFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->chain, r.chain);
  EXPECT_EQ(back->self, r.self);

  auto bad = [&](auto mutate) {
    auto j = json;
    mutate(j);
    auto res = CheckResultFromJson(j);
    return res.ok() ? std::string("accepted") : res.status().message();
  };
  EXPECT_NE(bad([](auto& j) { j["chain"]["from"] = web::json::value::number(0); }), "accepted");
  EXPECT_NE(bad([](auto& j) { j["chain"]["records"][0]["seq"] = web::json::value::number(5); }),
            "accepted");
  EXPECT_NE(bad([](auto& j) { j["chain"]["head"] = web::json::value::string("AB"); }), "accepted");
  EXPECT_NE(bad([](auto& j) { j["self"]["exe"] = web::json::value::string("xyz"); }), "accepted");
  EXPECT_NE(bad([](auto& j) {
              j["chain"]["records"][0]["body"] =
                  web::json::value::string(std::string(kMaxBodyBytes + 1, 'x'));
            }),
            "accepted");
  // Absent stays absent.
  CheckResult plain;
  plain.target = "t";
  plain.baseline = "b";
  auto p = CheckResultFromJson(CheckResultToJson(plain));
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->chain.has_value());
  EXPECT_FALSE(p->self.has_value());
}

}  // namespace
}  // namespace driftwatch::chain
