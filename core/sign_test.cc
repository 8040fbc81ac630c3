#include "core/sign.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/signed_statement.h"
#include "tests/testing/run.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::sign {
namespace {

using testutil::Quote;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Statement SampleStatement() {
  return {"web-1", "default", 3, "00112233445566778899aabbccddeeff",
          "0123456789abcdef0123456789abcdef"};
}

TEST(SignTest, GeneratedKeysSignAndVerify) {
  auto key = PrivateKey::Generate();
  ASSERT_TRUE(key.ok()) << key.status().message();
  auto sig = key->Sign("hello");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(sig->size(), kSignatureBytes);
  EXPECT_TRUE(key->Public().Verify("hello", *sig));
  EXPECT_FALSE(key->Public().Verify("hellp", *sig));
  std::string bad = *sig;
  bad[10] ^= 1;
  EXPECT_FALSE(key->Public().Verify("hello", bad));
  EXPECT_FALSE(key->Public().Verify("hello", sig->substr(0, 63)));
  auto other = PrivateKey::Generate();
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->Public().Verify("hello", *sig));
  EXPECT_NE(key->Public().Id(), other->Public().Id());
  EXPECT_EQ(key->Public().Id().size(), 16u);
}

TEST(SignTest, PemRoundTrips) {
  auto key = PrivateKey::Generate();
  ASSERT_TRUE(key.ok());
  const std::string pem = key->Pem();
  EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u) << pem;
  auto back = PrivateKey::FromPem(pem);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->Public(), key->Public());
  const std::string pub = key->Public().Pem();
  EXPECT_EQ(pub.rfind("-----BEGIN PUBLIC KEY-----\n", 0), 0u) << pub;
  auto pub_back = PublicKey::FromPem(pub);
  ASSERT_TRUE(pub_back.ok()) << pub_back.status().message();
  EXPECT_EQ(*pub_back, key->Public());

  EXPECT_FALSE(PublicKey::FromPem("").ok());
  EXPECT_FALSE(PublicKey::FromPem(pem).ok());  // a private key is not a public key
  EXPECT_FALSE(PrivateKey::FromPem(pub).ok());
  EXPECT_FALSE(
      PrivateKey::FromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").ok());
  EXPECT_FALSE(PublicKey::FromRaw("short").ok());
}

// The key id is the first 16 hex of SHA-256 of the raw public key, computed
// here independently by openssl's tools from the DER (whose last 32 bytes are
// the raw key).
TEST(SignTest, InteroperatesWithTheOpensslTool) {
  testutil::TempDir dir;
  const std::string priv = dir / "key.pem", pub = dir / "pub.pem", msg = dir / "msg",
                    sig = dir / "sig";
  ASSERT_EQ(
      testutil::Run("openssl genpkey -algorithm ed25519 -out " + Quote(priv) + " 2>&1").exit_code,
      0);
  ASSERT_EQ(
      testutil::Run("openssl pkey -in " + Quote(priv) + " -pubout -out " + Quote(pub) + " 2>&1")
          .exit_code,
      0);
  auto key = PrivateKey::FromPem(ReadAll(priv));
  ASSERT_TRUE(key.ok()) << key.status().message();
  auto public_key = PublicKey::FromPem(ReadAll(pub));
  ASSERT_TRUE(public_key.ok()) << public_key.status().message();
  EXPECT_EQ(*public_key, key->Public());
  EXPECT_EQ(key->Public().Pem(), ReadAll(pub));

  auto id = testutil::Run("openssl pkey -pubin -in " + Quote(pub) +
                          " -outform DER | tail -c 32 | sha256sum | cut -c1-16");
  ASSERT_EQ(id.exit_code, 0);
  EXPECT_EQ(id.out, public_key->Id() + "\n");

  const std::string text = FormatStatement(SampleStatement());
  testutil::WriteFile(msg, text);
  // openssl signs, we verify.
  ASSERT_EQ(testutil::Run("openssl pkeyutl -sign -rawin -inkey " + Quote(priv) + " -in " +
                          Quote(msg) + " -out " + Quote(sig) + " 2>&1")
                .exit_code,
            0);
  const std::string theirs = ReadAll(sig);
  ASSERT_EQ(theirs.size(), kSignatureBytes);
  EXPECT_TRUE(public_key->Verify(text, theirs));
  // Ed25519 is deterministic: our signature is the same bytes.
  auto ours = key->Sign(text);
  ASSERT_TRUE(ours.ok());
  EXPECT_EQ(*ours, theirs);

  // We sign, openssl verifies; and refuses a changed message.
  auto other = PrivateKey::Generate();
  ASSERT_TRUE(other.ok());
  auto other_sig = other->Sign(text);
  ASSERT_TRUE(other_sig.ok());
  testutil::WriteFile(sig, *other_sig);
  testutil::WriteFile(pub, other->Public().Pem());
  const std::string verify = "openssl pkeyutl -verify -rawin -pubin -inkey " + Quote(pub) +
                             " -sigfile " + Quote(sig) + " -in " + Quote(msg) + " 2>&1";
  EXPECT_EQ(testutil::Run(verify).exit_code, 0);
  testutil::WriteFile(msg, text + "x");
  EXPECT_NE(testutil::Run(verify).exit_code, 0);

  // A key our code wrote is one openssl reads.
  testutil::WriteFile(priv, other->Pem());
  auto pub_of_ours = testutil::Run("openssl pkey -in " + Quote(priv) + " -pubout");
  ASSERT_EQ(pub_of_ours.exit_code, 0);
  EXPECT_EQ(pub_of_ours.out, other->Public().Pem());
}

TEST(SignTest, RefusesOtherKeyTypesAndEncryptedKeys) {
  testutil::TempDir dir;
  const std::string ec = dir / "ec.pem", enc = dir / "enc.pem";
  ASSERT_EQ(testutil::Run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " +
                          Quote(ec) + " 2>&1")
                .exit_code,
            0);
  auto k = PrivateKey::FromPem(ReadAll(ec));
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.status().message().find("not an Ed25519 key"), std::string::npos)
      << k.status().message();
  ASSERT_EQ(testutil::Run("openssl genpkey -algorithm ed25519 -aes256 -pass pass:secret -out " +
                          Quote(enc) + " 2>&1")
                .exit_code,
            0);
  auto e = PrivateKey::FromPem(ReadAll(enc));
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("unencrypted"), std::string::npos);
}

TEST(StatementTest, FormatIsTheDocumentedText) {
  const Statement s = SampleStatement();
  const std::string text = FormatStatement(s);
  EXPECT_EQ(text,
            "driftwatch baseline statement 1\n"
            "target: web-1\n"
            "baseline: default\n"
            "revision: 3\n"
            "root: 00112233445566778899aabbccddeeff\n"
            "rules: 0123456789abcdef0123456789abcdef\n");
  auto back = ParseStatement(text);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, s);
}

TEST(StatementTest, RefusesEverythingButTheCanonicalText) {
  const std::string good = FormatStatement(SampleStatement());
  auto refuses = [](std::string text, std::string_view why) {
    auto r = ParseStatement(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status().message();
  };
  refuses(good.substr(0, good.size() - 1), "line 6");
  refuses(good + "\n", "after line 6");
  refuses("driftwatch baseline statement 2\n" + good.substr(good.find('\n') + 1), "line 1");
  std::string s = good;
  s.replace(s.find("revision: 3"), 11, "revision: 03");
  refuses(s, "leading zeros");
  s = good;
  s.replace(s.find("root: 0011"), 10, "root: 0A11");
  refuses(s, "root");
  s = good;
  s.replace(s.find("target: web-1"), 13, "target:  web1");
  refuses(s, "space");
  s = good;
  s.replace(s.find("baseline: "), 10, "Baseline: ");
  refuses(s, "line 3");

  Statement bad = SampleStatement();
  bad.baseline = "a\nroot: x";
  EXPECT_FALSE(ValidateStatement(bad).ok());
  bad = SampleStatement();
  bad.revision = 0;
  EXPECT_FALSE(ValidateStatement(bad).ok());
}

TEST(SignedStatementTest, SignsParsesAndVerifies) {
  auto key = PrivateKey::Generate();
  ASSERT_TRUE(key.ok());
  const Statement s = SampleStatement();
  auto file = SignStatement(*key, FormatStatement(s));
  ASSERT_TRUE(file.ok()) << file.status().message();
  const std::string sig_line = file->substr(FormatStatement(s).size());
  EXPECT_EQ(sig_line.rfind("signature: ed25519 " + key->Public().Id() + " ", 0), 0u) << sig_line;
  EXPECT_EQ(sig_line.back(), '\n');

  auto ok = VerifySignedFile(*file, {key->Public()}, s);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->statement, s);
  EXPECT_EQ(ok->key_id, key->Public().Id());

  auto other = PrivateKey::Generate();
  ASSERT_TRUE(other.ok());
  auto untrusted = VerifySignedFile(*file, {other->Public()}, s);
  ASSERT_FALSE(untrusted.ok());
  EXPECT_EQ(untrusted.status().message(),
            "signed by key " + key->Public().Id() + ", which is not trusted");

  Statement next = s;
  next.revision = 4;
  auto wrong = VerifySignedFile(*file, {other->Public(), key->Public()}, next);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(), "the signed statement is about revision 3, not 4");
  next = s;
  next.root = "ffffffffffffffffffffffffffffffff";
  wrong = VerifySignedFile(*file, {key->Public()}, next);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("root"), std::string::npos);

  EXPECT_FALSE(SignStatement(*key, "not a statement\n").ok());
}

// The promise of the format: any one byte changed anywhere in a signed file,
// statement or signature line, is refused with a reason.
TEST(SignedStatementTest, EveryFlippedByteIsRefused) {
  auto key = PrivateKey::Generate();
  ASSERT_TRUE(key.ok());
  const Statement s = SampleStatement();
  auto file = SignStatement(*key, FormatStatement(s));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(VerifySignedFile(*file, {key->Public()}, s).ok());
  for (size_t i = 0; i < file->size(); ++i) {
    for (const unsigned char mask : {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80}) {
      std::string changed = *file;
      changed[i] = static_cast<char>(static_cast<unsigned char>(changed[i]) ^ mask);
      auto r = VerifySignedFile(changed, {key->Public()}, s);
      ASSERT_FALSE(r.ok()) << "byte " << i << " mask " << int(mask) << " accepted";
      EXPECT_FALSE(r.status().message().empty());
    }
  }
  // Truncated anywhere, or with anything appended.
  for (size_t n = 0; n < file->size(); ++n) {
    ASSERT_FALSE(VerifySignedFile(file->substr(0, n), {key->Public()}, s).ok()) << n;
  }
  EXPECT_FALSE(VerifySignedFile(*file + "\n", {key->Public()}, s).ok());
}

TEST(CommandSignatureTest, CoversEveryField) {
  auto key = PrivateKey::Generate();
  ASSERT_TRUE(key.ok());
  CommandFields c{7, "web-1", "accept", {"/etc/a", "/etc/b\\x0a"}, false, false, false, ""};
  EXPECT_EQ(CommandText(c),
            "driftwatch command 1\n{\"all\":false,\"command\":\"accept\",\"dry_run\":false,"
            "\"host\":\"web-1\",\"id\":7,\"paths\":[\"/etc/a\",\"/etc/b\\\\x0a\"],"
            "\"reason\":\"\",\"remove_added\":false}\n");
  auto sig = SignCommand(*key, c);
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(VerifyCommand(key->Public(), c, *sig).ok());
  std::vector<CommandFields> changed(8, c);
  changed[0].id = 8;
  changed[1].host = "web-2";
  changed[2].kind = "restore";
  changed[3].paths.push_back("/etc/c");
  changed[4].all = true;
  changed[5].remove_added = true;
  changed[6].dry_run = true;
  changed[7].reason = "x";
  for (const CommandFields& other : changed) {
    Status s = VerifyCommand(key->Public(), other, *sig);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.message(),
              "the command's signature by key " + key->Public().Id() + " does not verify");
  }
  auto other_key = PrivateKey::Generate();
  ASSERT_TRUE(other_key.ok());
  Status s = VerifyCommand(other_key->Public(), c, *sig);
  EXPECT_NE(s.message().find("not by the pinned collector key"), std::string::npos);
  EXPECT_EQ(VerifyCommand(key->Public(), c, "").message(),
            "the command is not signed, and a collector key is pinned");
  EXPECT_FALSE(VerifyCommand(key->Public(), c, "rsa x y").ok());
}

}  // namespace
}  // namespace driftwatch::sign
