// The collector's signatures on the API (api_signing.cc): its key on
// GET /signing-key and in enroll answers, commands signed for their host,
// and the signed statement answered to the ack of a baseline command
// (api_test_fixture.h).
#include <fcntl.h>
#include <sys/stat.h>

#include "collector/api_test_fixture.h"
#include "collector/signing_key.h"
#include "core/signed_statement.h"

namespace driftwatch::collector {
namespace {

using web::json::value;

class ApiSigningTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    auto keys = SigningKeys::Load(DefaultHost(), dir_, true);
    ASSERT_TRUE(keys.ok()) << keys.status().message();
    keys_ = std::make_shared<const SigningKeys>(std::move(keys).value());
  }
  std::shared_ptr<const SigningKeys> keys_;
};

TEST_F(ApiSigningTest, WithoutAKeyNothingIsSigned) {
  EXPECT_EQ(Call("GET", "/api/v1/signing-key", read_).status, 404);
  HttpResponse r = Call("POST", "/api/v1/enroll", enroll_, R"({"host":"a"})");
  ASSERT_EQ(r.status, 201);
  EXPECT_FALSE(value::parse(r.body).has_field("signing_key"));
}

TEST_F(ApiSigningTest, KeyIsPublishedAndCommandsAreSignedForTheirHost) {
  api_->SetSigningKeys(keys_);
  const sign::PublicKey& pub = keys_->key().Public();
  EXPECT_EQ(Call("GET", "/api/v1/signing-key", "").status, 401);
  HttpResponse r = Call("GET", "/api/v1/signing-key", read_);
  ASSERT_EQ(r.status, 200) << r.body;
  value k = value::parse(r.body);
  EXPECT_EQ(k.at("key_id").as_string(), pub.Id());
  EXPECT_EQ(k.at("public_key").as_string(), pub.Pem());
  r = Call("POST", "/api/v1/enroll", enroll_, R"({"host":"a"})");
  ASSERT_EQ(r.status, 201);
  value e = value::parse(r.body);
  EXPECT_EQ(e.at("signing_key").serialize(), k.serialize());
  const std::string a = e.at("token").as_string();

  ASSERT_EQ(Call("POST", "/api/v1/hosts/a/commands", admin_, R"({"command":"baseline"})").status,
            201);
  ASSERT_EQ(Call("POST", "/api/v1/hosts/a/accept", admin_, R"({"paths":["/etc/passwd"]})").status,
            201);
  value cmds = value::parse(Call("GET", "/api/v1/agents/commands", a).body).at("commands");
  ASSERT_EQ(cmds.size(), 2u) << cmds.serialize();
  for (const value& c : cmds.as_array()) {
    sign::CommandFields f;
    f.id = c.at("id").as_integer();
    f.host = "a";
    f.kind = c.at("command").as_string();
    if (c.has_field("paths")) {
      for (const value& p : c.at("paths").as_array()) f.paths.push_back(p.as_string());
    }
    const std::string sig = c.at("signature").as_string();
    EXPECT_TRUE(sign::VerifyCommand(pub, f, sig).ok()) << c.serialize();
    f.host = "b";  // the same command replayed to another host
    EXPECT_FALSE(sign::VerifyCommand(pub, f, sig).ok());
  }
  // The host's command list (read tokens) carries no signatures.
  value listed = value::parse(Call("GET", "/api/v1/hosts/a", read_).body).at("commands");
  EXPECT_FALSE(listed[0].has_field("signature"));
}

TEST_F(ApiSigningTest, AckOfABaselineCommandIsAnsweredWithItsSignedStatement) {
  api_->SetSigningKeys(keys_);
  const std::string a = Enroll("a", "");
  ASSERT_EQ(Call("POST", "/api/v1/hosts/a/commands", admin_, R"({"command":"baseline"})").status,
            201);
  ASSERT_EQ(Call("POST", "/api/v1/hosts/a/commands", admin_, R"({"command":"check-now"})").status,
            201);
  ASSERT_EQ(value::parse(Call("GET", "/api/v1/agents/commands", a).body).at("commands").size(), 2u);
  const std::string root = std::string(32, 'a'), rules = std::string(32, 'b');
  const std::string ack = R"({"ok":true,"detail":"baseline default revision 2","baseline":)"
                          R"({"name":"default","revision":2,"root":")" +
                          root + R"(","target":"web-1.example","rules":")" + rules + R"("}})";
  HttpResponse r = Call("POST", "/api/v1/agents/commands/1/ack", a, ack);
  ASSERT_EQ(r.status, 200) << r.body;
  value v = value::parse(r.body);
  const std::string file = v.at("baseline_signature").as_string();
  auto verified = sign::VerifySignedFile(file, {keys_->key().Public()},
                                         {"web-1.example", "default", 2, root, rules});
  EXPECT_TRUE(verified.ok()) << verified.status().message() << "\n" << file;
  // Once per command: a repeated ack is refused and signs nothing.
  r = Call("POST", "/api/v1/agents/commands/1/ack", a, ack);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body.find("baseline_signature"), std::string::npos);
  // A check-now command's ack is not signed, whatever it claims.
  r = Call("POST", "/api/v1/agents/commands/2/ack", a, ack);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"acknowledged":true,"id":2})");
}

TEST(SigningKeyTest, MadeOnceRefusedWhenOpenAndRotatedKeepingTheOld) {
  char tmpl[] = "/tmp/dw_signing_key_test.XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  Host& host = DefaultHost();
  EXPECT_EQ(SigningKeys::Load(host, dir, false).status().code(), StatusCode::kNotFound);
  auto made = SigningKeys::Load(host, dir, true);
  ASSERT_TRUE(made.ok()) << made.status().message();
  struct stat st {};
  ASSERT_EQ(stat((dir + "/signing.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = SigningKeys::Load(host, dir, true);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->key().Public(), made->key().Public());

  auto rotated = SigningKeys::Rotate(host, dir);
  ASSERT_TRUE(rotated.ok()) << rotated.status().message();
  EXPECT_FALSE(rotated->key().Public() == made->key().Public());
  ASSERT_EQ(rotated->retired().size(), 1u);
  EXPECT_EQ(rotated->retired()[0], made->key().Public());

  ASSERT_EQ(chmod((dir + "/signing.key").c_str(), 0640), 0);
  auto open = SigningKeys::Load(host, dir, true);
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(open.status().message().find("chmod 600"), std::string::npos)
      << open.status().message();
  std::system(("rm -rf " + dir).c_str());
}

TEST(SigningKeyTest, StateDirFollowsTheSqliteStore) {
  CollectorConfig c;
  EXPECT_EQ(StateDir(c, ""), kDefaultStateDir);
  EXPECT_EQ(StateDir(c, "/srv/k"), "/srv/k");
  c.db = "/data/c/collector.db";
  EXPECT_EQ(StateDir(c, ""), "/data/c");
  c.db.clear();
  c.store = "sqlite:///x/y.db";
  EXPECT_EQ(StateDir(c, ""), "/x");
  c.store = "postgresql://u@h/db";
  EXPECT_EQ(StateDir(c, ""), kDefaultStateDir);
}

}  // namespace
}  // namespace driftwatch::collector
