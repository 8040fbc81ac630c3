#include "core/sign.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>

#include "core/chain.h"

namespace driftwatch::sign {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Bio = std::unique_ptr<BIO, BioFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// OpenSSL keeps errors in a per-thread queue; one failure must not leak
// into the message of the next, unrelated one.
std::string TakeOpenSslError() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// Never prompt: an encrypted key makes the read fail instead.
int NoPassphrase(char*, int, int, void*) { return -1; }

Bio MemBio(std::string_view pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

Status CheckEd25519(EVP_PKEY* key, std::string_view what) {
  if (EVP_PKEY_id(key) != EVP_PKEY_ED25519) {
    return Status::InvalidArgument(std::string(what) + " is not an Ed25519 key (" +
                                   OBJ_nid2sn(EVP_PKEY_id(key)) +
                                   "); make one with: openssl genpkey -algorithm ed25519");
  }
  return Status::Ok();
}

Pkey PublicPkey(const std::string& raw) {
  return Pkey(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw.data()), raw.size()));
}

Pkey PrivatePkey(const std::string& seed) {
  return Pkey(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed.data()), seed.size()));
}

Result<std::string> RawPublic(EVP_PKEY* key) {
  std::string raw(kPublicKeyBytes, '\0');
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &len) != 1 ||
      len != kPublicKeyBytes) {
    return Status::Internal("cannot read the raw public key: " + TakeOpenSslError());
  }
  return raw;
}

}  // namespace

Result<PublicKey> PublicKey::FromRaw(std::string_view raw) {
  if (raw.size() != kPublicKeyBytes) {
    return Status::InvalidArgument("an Ed25519 public key is 32 bytes, not " +
                                   std::to_string(raw.size()));
  }
  PublicKey key;
  key.raw_ = std::string(raw);
  return key;
}

Result<PublicKey> PublicKey::FromPem(std::string_view pem) {
  Bio bio = MemBio(pem);
  Pkey key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr) : nullptr);
  if (!key) {
    ERR_clear_error();
    return Status::InvalidArgument(
        "no PEM public key (-----BEGIN PUBLIC KEY-----) found; write one with: openssl pkey "
        "-in KEY -pubout");
  }
  DW_RETURN_IF_ERROR(CheckEd25519(key.get(), "the public key"));
  DW_ASSIGN_OR_RETURN(std::string raw, RawPublic(key.get()));
  return FromRaw(raw);
}

std::string PublicKey::Id() const { return chain::Sha256Hex(raw_).substr(0, 16); }

std::string PublicKey::Pem() const {
  Pkey key = PublicPkey(raw_);
  Bio bio(BIO_new(BIO_s_mem()));
  if (!key || !bio || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1) {
    ERR_clear_error();
    return "";
  }
  return BioText(bio.get());
}

bool PublicKey::Verify(std::string_view message, std::string_view signature) const {
  if (signature.size() != kSignatureBytes || raw_.size() != kPublicKeyBytes) return false;
  Pkey key = PublicPkey(raw_);
  MdCtx ctx(EVP_MD_CTX_new());
  if (!key || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) {
    ERR_clear_error();
    return false;
  }
  const int rc = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
      reinterpret_cast<const unsigned char*>(message.data()), message.size());
  ERR_clear_error();
  return rc == 1;
}

PrivateKey::~PrivateKey() {
  if (!seed_.empty()) OPENSSL_cleanse(seed_.data(), seed_.size());
}

Result<PrivateKey> PrivateKey::FromSeed(std::string seed) {
  Pkey key = PrivatePkey(seed);
  if (!key) return Status::Internal("cannot make an Ed25519 key: " + TakeOpenSslError());
  PrivateKey out;
  out.seed_ = std::move(seed);
  DW_ASSIGN_OR_RETURN(std::string raw, RawPublic(key.get()));
  DW_ASSIGN_OR_RETURN(out.public_, PublicKey::FromRaw(raw));
  return out;
}

Result<PrivateKey> PrivateKey::Generate() {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!key) return Status::Internal("cannot generate an Ed25519 key: " + TakeOpenSslError());
  std::string seed(32, '\0');
  size_t len = seed.size();
  if (EVP_PKEY_get_raw_private_key(key.get(), reinterpret_cast<unsigned char*>(seed.data()),
                                   &len) != 1 ||
      len != seed.size()) {
    return Status::Internal("cannot read the new key: " + TakeOpenSslError());
  }
  return FromSeed(std::move(seed));
}

Result<PrivateKey> PrivateKey::FromPem(std::string_view pem) {
  Bio bio = MemBio(pem);
  Pkey key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr) : nullptr);
  if (!key) {
    ERR_clear_error();
    return Status::InvalidArgument(
        "no unencrypted PEM private key (-----BEGIN PRIVATE KEY-----) found; make one with: "
        "openssl genpkey -algorithm ed25519");
  }
  DW_RETURN_IF_ERROR(CheckEd25519(key.get(), "the private key"));
  std::string seed(32, '\0');
  size_t len = seed.size();
  if (EVP_PKEY_get_raw_private_key(key.get(), reinterpret_cast<unsigned char*>(seed.data()),
                                   &len) != 1 ||
      len != seed.size()) {
    return Status::InvalidArgument("cannot read the private key: " + TakeOpenSslError());
  }
  return FromSeed(std::move(seed));
}

std::string PrivateKey::Pem() const {
  Pkey key = PrivatePkey(seed_);
  Bio bio(BIO_new(BIO_s_mem()));
  if (!key || !bio ||
      PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    ERR_clear_error();
    return "";
  }
  std::string out = BioText(bio.get());
  // The BIO's copy is freed without wiping; nothing else can be done about
  // OpenSSL's internal buffers, so keep our own copies short-lived.
  return out;
}

Result<std::string> PrivateKey::Sign(std::string_view message) const {
  Pkey key = PrivatePkey(seed_);
  MdCtx ctx(EVP_MD_CTX_new());
  std::string sig(kSignatureBytes, '\0');
  size_t len = sig.size();
  if (!key || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      len != kSignatureBytes) {
    return Status::Internal("cannot sign: " + TakeOpenSslError());
  }
  return sig;
}

}  // namespace driftwatch::sign
