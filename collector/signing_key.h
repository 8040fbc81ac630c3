// The collector's signing key (docs/integrity.md, "Signed baselines";
// rotation in docs/operations.md).
//
// The collector signs the commands it hands out and the baseline revisions
// agents make for it with an Ed25519 key kept in its state directory:
//
//   DIR/signing.key               the current private key (PEM), mode 0600
//   DIR/signing-retired/ID.pub    public keys rotated out, kept so that what
//                                 they signed can still be verified
//
// The state directory is --state-dir, else the directory of a SQLite store,
// else /var/lib/driftwatch-collector. The key is made at the first start; a
// key file group or others may read is refused (the fix is in the message),
// as is a key that is not Ed25519.
//
// Thread-safety: a SigningKeys is immutable after it is loaded; Sign may be
// called from many threads.
#ifndef DRIFTWATCH_COLLECTOR_SIGNING_KEY_H_
#define DRIFTWATCH_COLLECTOR_SIGNING_KEY_H_

#include <string>
#include <string_view>
#include <vector>

#include "collector/config.h"
#include "core/host.h"
#include "core/sign.h"
#include "core/status.h"

namespace driftwatch::collector {

inline constexpr const char* kDefaultStateDir = "/var/lib/driftwatch-collector";
inline constexpr const char* kSigningKeyFile = "signing.key";
inline constexpr const char* kRetiredKeysDir = "signing-retired";

// `state_dir` when given, else the directory of the SQLite store `config`
// names (its db, or a sqlite:// store), else kDefaultStateDir.
std::string StateDir(const CollectorConfig& config, const std::string& state_dir);

class SigningKeys {
 public:
  // Reads DIR/signing.key and the retired public keys; with `create`, a
  // missing key is generated and written (0600) first. kNotFound without
  // `create` when there is none.
  static Result<SigningKeys> Load(Host& host, const std::string& dir, bool create);
  // Moves the current public key to the retired keys and writes a new
  // signing.key; returns the new set.
  static Result<SigningKeys> Rotate(Host& host, const std::string& dir);

  const sign::PrivateKey& key() const { return key_; }
  const std::vector<sign::PublicKey>& retired() const { return retired_; }
  const std::string& path() const { return path_; }

 private:
  SigningKeys(sign::PrivateKey key, std::vector<sign::PublicKey> retired, std::string path)
      : key_(std::move(key)), retired_(std::move(retired)), path_(std::move(path)) {}
  sign::PrivateKey key_;
  std::vector<sign::PublicKey> retired_;
  std::string path_;
};

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_SIGNING_KEY_H_
