// File digests as package managers record them.
//
// dpkg records MD5, apk SHA-1 (or SHA-256) and rpm one of several algorithms
// per package. core's Digest only knows the algorithms driftwatch itself
// chooses, so package verification uses this small tagged value instead.
// Hashing goes through OpenSSL EVP.
//
// Thread-safety: FileDigest is a value; DigestHasher belongs to one thread.
#ifndef DRIFTWATCH_PACKAGES_DIGEST_H_
#define DRIFTWATCH_PACKAGES_DIGEST_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace driftwatch::packages {

enum class DigestAlgo : uint8_t { kNone = 0, kMd5, kSha1, kSha224, kSha256, kSha384, kSha512 };

// "md5", "sha1", ... ; "none".
std::string_view DigestAlgoName(DigestAlgo algo);
// Digest length in bytes (0 for kNone).
size_t DigestAlgoSize(DigestAlgo algo);
// rpm's PGPHASHALGO numbers: 1 md5, 2 sha1, 8 sha256, 9 sha384, 10 sha512,
// 11 sha224. Unknown numbers are kUnsupported.
Result<DigestAlgo> DigestAlgoFromRpm(uint32_t pgp_algo);

struct FileDigest {
  DigestAlgo algo = DigestAlgo::kNone;
  std::string bytes;  // raw digest, DigestAlgoSize(algo) bytes

  bool empty() const { return algo == DigestAlgo::kNone; }
  std::string Hex() const;  // "md5:<hex>", "" when empty

  // Parses lowercase or uppercase hex of exactly the algorithm's length.
  static Result<FileDigest> FromHex(DigestAlgo algo, std::string_view hex);
  friend bool operator==(const FileDigest&, const FileDigest&) = default;
};

// Streams bytes into one algorithm. Not copyable.
class DigestHasher {
 public:
  explicit DigestHasher(DigestAlgo algo);  // algo must not be kNone
  ~DigestHasher();
  DigestHasher(const DigestHasher&) = delete;
  DigestHasher& operator=(const DigestHasher&) = delete;

  void Update(const void* data, size_t n);
  // Returns the digest and resets the hasher for the same algorithm.
  FileDigest Finish();

  static FileDigest Of(DigestAlgo algo, std::string_view data);

 private:
  struct State;
  DigestAlgo algo_;
  std::unique_ptr<State> state_;
};

}  // namespace driftwatch::packages

#endif  // DRIFTWATCH_PACKAGES_DIGEST_H_
