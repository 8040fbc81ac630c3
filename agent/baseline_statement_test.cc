// Signed baselines in a real agent store (SQLite file), the scanned tree on
// an in-memory host.
#include "agent/baseline_statement.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

#include "agent/check.h"
#include "agent/store.h"
#include "tests/testing/mem_host.h"

namespace driftwatch::agent {
namespace {

using testutil::MemHost;

class BaselineStatementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dw_statement_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    host_.SetHostname("web-1");
    host_.PutFile("/config/rules.yaml",
                  "version: 1\nrules:\n  - path: /etc/**\n    check: content\n");
    host_.PutFile("/etc/a.conf", "a\n");
    options_.host = &host_;
    options_.db_path = dir_ + "/agent.db";
    options_.rules_path = "/config/rules.yaml";
    options_.jobs = 1;
    auto key = sign::PrivateKey::Generate();
    auto other = sign::PrivateKey::Generate();
    ASSERT_TRUE(key.ok() && other.ok());
    key_.emplace(std::move(key).value());
    other_.emplace(std::move(other).value());
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  std::unique_ptr<Store> Open() {
    auto s = Store::Open(host_, options_.db_path);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::string Signed(const sign::PrivateKey& key, const sign::Statement& s) {
    auto f = sign::SignStatement(key, sign::FormatStatement(s));
    EXPECT_TRUE(f.ok());
    return f.ok() ? *f : "";
  }

  std::string dir_;
  MemHost host_;
  CheckOptions options_;
  std::optional<sign::PrivateKey> key_, other_;
};

TEST_F(BaselineStatementTest, StatementNamesTheRevisionAsStored) {
  auto info = CreateBaseline(options_, "test", "first");
  ASSERT_TRUE(info.ok()) << info.status().message();
  auto store = Open();
  auto s = StatementOf(*store, "default");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->target, "web-1");
  EXPECT_EQ(s->baseline, "default");
  EXPECT_EQ(s->revision, 1);
  EXPECT_EQ(s->root, info->root.Hex());
  EXPECT_EQ(s->rules.size(), 32u);
  EXPECT_EQ(StatementOf(*store, "default", 2).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(StatementOf(*store, "nope").status().code(), StatusCode::kNotFound);
}

TEST_F(BaselineStatementTest, AttachedSignatureOpensTheGateForItsRevisionOnly) {
  ASSERT_TRUE(CreateBaseline(options_, "test", "first").ok());
  auto store = Open();
  const sign::PublicKey pub = key_->Public();
  Status gate = RequireSignedBaseline(*store, "default", {pub});
  ASSERT_EQ(gate.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(gate.message().find("baseline 'default' revision 1 of web-1 has no valid signature "
                                "by a trusted key, and require_signed_baselines is on; no "
                                "signature is attached."),
            std::string::npos)
      << gate.message();

  const sign::Statement s = StatementOf(*store, "default").value();
  // Refused files leave nothing behind.
  auto untrusted = AttachSignature(*store, Signed(*other_, s), {pub}, 5);
  ASSERT_FALSE(untrusted.ok());
  EXPECT_EQ(untrusted.status().message(),
            "signed by key " + other_->Public().Id() + ", which is not trusted");
  sign::Statement wrong_root = s;
  wrong_root.root = std::string(32, 'f');
  auto mismatch = AttachSignature(*store, Signed(*key_, wrong_root), {pub}, 5);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().message(),
            "the signed statement is about root " + wrong_root.root + ", not " + s.root);
  EXPECT_TRUE(BaselineSignatures(*store)->empty());

  auto attached = AttachSignature(*store, Signed(*key_, s), {pub}, 7);
  ASSERT_TRUE(attached.ok()) << attached.status().message();
  EXPECT_EQ(attached->name, "default");
  EXPECT_EQ(attached->revision, 1);
  EXPECT_EQ(attached->key, pub.Id());
  EXPECT_EQ(attached->time_ns, 7);
  EXPECT_EQ(attached->SignedFile(), Signed(*key_, s));
  // Attaching the same file again keeps one record.
  auto again = AttachSignature(*store, Signed(*key_, s), {pub}, 8);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->seq, attached->seq);
  auto all = BaselineSignatures(*store);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  auto head = store->ChainHead();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->length, attached->seq);

  EXPECT_TRUE(RequireSignedBaseline(*store, "default", {pub}).ok());
  gate = RequireSignedBaseline(*store, "default", {other_->Public()});
  EXPECT_NE(gate.message().find("is refused: signed by key " + pub.Id() + ", which is not trusted"),
            std::string::npos)
      << gate.message();
  gate = RequireSignedBaseline(*store, "default", {});
  EXPECT_NE(gate.message().find("no key is trusted"), std::string::npos) << gate.message();

  // A new revision needs its own signature.
  store.reset();
  ASSERT_TRUE(CreateBaseline(options_, "test", "second").ok());
  store = Open();
  gate = RequireSignedBaseline(*store, "default", {pub});
  EXPECT_NE(gate.message().find("revision 2 of web-1 has no valid signature"), std::string::npos)
      << gate.message();
}

TEST_F(BaselineStatementTest, LoadsPublicKeyFilesNamingTheBadOne) {
  host_.PutFile("/keys/ok.pub", key_->Public().Pem());
  host_.PutFile("/keys/bad.pub", "not a key\n");
  auto ok = LoadPublicKeys(host_, {"/keys/ok.pub"});
  ASSERT_TRUE(ok.ok());
  ASSERT_EQ(ok->size(), 1u);
  EXPECT_EQ((*ok)[0], key_->Public());
  auto bad = LoadPublicKeys(host_, {"/keys/ok.pub", "/keys/bad.pub"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("/keys/bad.pub: no PEM public key", 0), 0u)
      << bad.status().message();
  EXPECT_FALSE(LoadPublicKeys(host_, {"/keys/missing.pub"}).ok());
}

}  // namespace
}  // namespace driftwatch::agent
