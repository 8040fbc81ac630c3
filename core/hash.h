// Content and Merkle hashes.
//
// Hash128 is an XXH3-128 value: the Merkle identity of trees and the default
// content hash of files. Digest is a content hash tagged with its algorithm
// (XXH3-128 or SHA-256, chosen per rule), printed as "xxh128:<hex>" or
// "sha256:<hex>". Hasher streams bytes into either algorithm.
//
// Thread-safety: Hash128 and Digest are values; a Hasher belongs to one thread.
#ifndef DRIFTWATCH_CORE_HASH_H_
#define DRIFTWATCH_CORE_HASH_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace driftwatch {

struct Hash128 {
  uint64_t high = 0;
  uint64_t low = 0;

  bool IsZero() const { return high == 0 && low == 0; }
  std::string Hex() const;                 // 32 lowercase hex digits
  std::string Bytes() const;               // 16 bytes, big-endian
  static Result<Hash128> FromHex(std::string_view hex);
  static Result<Hash128> FromBytes(std::string_view bytes);
  friend bool operator==(const Hash128&, const Hash128&) = default;
  friend auto operator<=>(const Hash128&, const Hash128&) = default;
};

// XXH3-128 of a byte string.
Hash128 HashBytes(std::string_view data);

enum class HashAlgo : uint8_t { kNone = 0, kXxh128 = 1, kSha256 = 2 };

std::string_view HashAlgoName(HashAlgo algo);  // "xxh128", "sha256", "none"
Result<HashAlgo> ParseHashAlgo(std::string_view name);  // accepts "xxh3-128" too

struct Digest {
  HashAlgo algo = HashAlgo::kNone;
  std::array<uint8_t, 32> bytes{};  // first 16 used for xxh128

  bool empty() const { return algo == HashAlgo::kNone; }
  size_t size() const;               // 0, 16 or 32
  std::string Hex() const;           // "xxh128:<hex>" / "sha256:<hex>" / ""
  static Result<Digest> Parse(std::string_view text);
  friend bool operator==(const Digest&, const Digest&) = default;
};

// Streaming hasher over one algorithm. Not copyable.
class Hasher {
 public:
  explicit Hasher(HashAlgo algo);
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void Update(const void* data, size_t n);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  Digest Finish();  // the hasher must not be used afterwards

  static Digest Of(HashAlgo algo, std::string_view data);

 private:
  struct State;
  HashAlgo algo_;
  std::unique_ptr<State> state_;
};

std::string HexEncode(std::string_view bytes);
Result<std::string> HexDecode(std::string_view hex);

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_HASH_H_
