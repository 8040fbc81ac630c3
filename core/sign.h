// Ed25519 keys and signatures (OpenSSL EVP), for signed baselines and
// commands (docs/integrity.md, "Signed baselines").
//
// Keys travel and are stored in PEM, as OpenSSL's tools write them: a
// private key as `openssl genpkey -algorithm ed25519` writes it (PKCS#8,
// "BEGIN PRIVATE KEY"), a public key as `openssl pkey -pubout` writes it
// ("BEGIN PUBLIC KEY"). Encrypted private keys are refused (driftwatch never
// prompts for a passphrase). A key's id is the first 16 hex digits of the
// SHA-256 of its raw 32-byte public key: short enough to print, long enough
// that two keys of one fleet never share it.
//
// Signatures are the 64 bytes of pure Ed25519 (RFC 8032) over the message
// bytes, which is what `openssl pkeyutl -sign -rawin` makes.
//
// Thread-safety: value types; every function is safe to call concurrently.
#ifndef DRIFTWATCH_CORE_SIGN_H_
#define DRIFTWATCH_CORE_SIGN_H_

#include <string>
#include <string_view>

#include "core/status.h"

namespace driftwatch::sign {

inline constexpr size_t kPublicKeyBytes = 32;
inline constexpr size_t kSignatureBytes = 64;
// A key file larger than this is not a key (PEM of an Ed25519 key is ~120 bytes).
inline constexpr size_t kMaxKeyFileBytes = 16 << 10;

class PublicKey {
 public:
  // The first PUBLIC KEY block of `pem`; kInvalidArgument when there is
  // none or it is not an Ed25519 key (the message says which).
  static Result<PublicKey> FromPem(std::string_view pem);
  // The raw 32 bytes.
  static Result<PublicKey> FromRaw(std::string_view raw);

  const std::string& raw() const { return raw_; }
  std::string Id() const;   // 16 lowercase hex digits
  std::string Pem() const;  // "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n"
  // Whether `signature` (64 raw bytes) is this key's over `message`.
  bool Verify(std::string_view message, std::string_view signature) const;

  friend bool operator==(const PublicKey&, const PublicKey&) = default;

 private:
  std::string raw_;
};

// Holds the 32-byte seed; wiped when destroyed.
class PrivateKey {
 public:
  static Result<PrivateKey> Generate();
  // The first PRIVATE KEY block of `pem`; kInvalidArgument when missing,
  // encrypted or not Ed25519.
  static Result<PrivateKey> FromPem(std::string_view pem);

  PrivateKey(const PrivateKey&) = default;
  PrivateKey& operator=(const PrivateKey&) = default;
  PrivateKey(PrivateKey&&) = default;
  PrivateKey& operator=(PrivateKey&&) = default;
  ~PrivateKey();

  const PublicKey& Public() const { return public_; }
  std::string Pem() const;  // PKCS#8 "BEGIN PRIVATE KEY"
  // The 64-byte signature of `message`.
  Result<std::string> Sign(std::string_view message) const;

 private:
  PrivateKey() = default;
  static Result<PrivateKey> FromSeed(std::string seed);
  std::string seed_;
  PublicKey public_;
};

}  // namespace driftwatch::sign

#endif  // DRIFTWATCH_CORE_SIGN_H_
