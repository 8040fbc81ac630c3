#include "core/hash.h"

#include <openssl/evp.h>
#include <xxhash.h>

#include <cstring>

namespace driftwatch {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

Result<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return Status::InvalidArgument("odd-length hex string");
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i]);
    int lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return Status::InvalidArgument("invalid hex digit");
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

std::string Hash128::Bytes() const {
  std::string out(16, '\0');
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<char>(high >> (56 - 8 * i));
    out[8 + i] = static_cast<char>(low >> (56 - 8 * i));
  }
  return out;
}

std::string Hash128::Hex() const { return HexEncode(Bytes()); }

Result<Hash128> Hash128::FromBytes(std::string_view b) {
  if (b.size() != 16) return Status::Corruption("hash must be 16 bytes");
  Hash128 h;
  for (int i = 0; i < 8; ++i) {
    h.high = h.high << 8 | static_cast<unsigned char>(b[i]);
    h.low = h.low << 8 | static_cast<unsigned char>(b[8 + i]);
  }
  return h;
}

Result<Hash128> Hash128::FromHex(std::string_view hex) {
  if (hex.size() != 32) return Status::InvalidArgument("hash must be 32 hex digits");
  DW_ASSIGN_OR_RETURN(std::string bytes, HexDecode(hex));
  return FromBytes(bytes);
}

Hash128 HashBytes(std::string_view data) {
  XXH128_hash_t h = XXH3_128bits(data.data(), data.size());
  return Hash128{h.high64, h.low64};
}

std::string_view HashAlgoName(HashAlgo algo) {
  switch (algo) {
    case HashAlgo::kXxh128: return "xxh128";
    case HashAlgo::kSha256: return "sha256";
    case HashAlgo::kNone: break;
  }
  return "none";
}

Result<HashAlgo> ParseHashAlgo(std::string_view name) {
  if (name == "xxh3-128" || name == "xxh128" || name == "xxh3") return HashAlgo::kXxh128;
  if (name == "sha256" || name == "sha-256") return HashAlgo::kSha256;
  return Status::InvalidArgument("unknown hash algorithm '" + std::string(name) +
                                 "' (expected xxh3-128 or sha256)");
}

size_t Digest::size() const {
  switch (algo) {
    case HashAlgo::kXxh128: return 16;
    case HashAlgo::kSha256: return 32;
    case HashAlgo::kNone: break;
  }
  return 0;
}

std::string Digest::Hex() const {
  if (empty()) return "";
  std::string out(HashAlgoName(algo));
  out += ':';
  out += HexEncode(std::string_view(reinterpret_cast<const char*>(bytes.data()), size()));
  return out;
}

Result<Digest> Digest::Parse(std::string_view text) {
  Digest d;
  if (text.empty()) return d;
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return Status::InvalidArgument("digest without algorithm prefix");
  DW_ASSIGN_OR_RETURN(d.algo, ParseHashAlgo(text.substr(0, colon)));
  DW_ASSIGN_OR_RETURN(std::string raw, HexDecode(text.substr(colon + 1)));
  if (raw.size() != d.size()) return Status::InvalidArgument("digest has the wrong length");
  std::memcpy(d.bytes.data(), raw.data(), raw.size());
  return d;
}

struct Hasher::State {
  XXH3_state_t* xxh = nullptr;
  EVP_MD_CTX* sha = nullptr;
};

Hasher::Hasher(HashAlgo algo) : algo_(algo), state_(std::make_unique<State>()) {
  if (algo_ == HashAlgo::kSha256) {
    state_->sha = EVP_MD_CTX_new();
    EVP_DigestInit_ex(state_->sha, EVP_sha256(), nullptr);
  } else {
    algo_ = HashAlgo::kXxh128;
    state_->xxh = XXH3_createState();
    XXH3_128bits_reset(state_->xxh);
  }
}

Hasher::~Hasher() {
  if (state_->xxh != nullptr) XXH3_freeState(state_->xxh);
  if (state_->sha != nullptr) EVP_MD_CTX_free(state_->sha);
}

void Hasher::Update(const void* data, size_t n) {
  if (state_->sha != nullptr) {
    EVP_DigestUpdate(state_->sha, data, n);
  } else {
    XXH3_128bits_update(state_->xxh, data, n);
  }
}

Digest Hasher::Finish() {
  Digest d;
  d.algo = algo_;
  if (state_->sha != nullptr) {
    unsigned int len = 0;
    EVP_DigestFinal_ex(state_->sha, d.bytes.data(), &len);
  } else {
    XXH128_hash_t h = XXH3_128bits_digest(state_->xxh);
    Hash128 v{h.high64, h.low64};
    std::string b = v.Bytes();
    std::memcpy(d.bytes.data(), b.data(), 16);
  }
  return d;
}

Digest Hasher::Of(HashAlgo algo, std::string_view data) {
  Hasher h(algo);
  h.Update(data);
  return h.Finish();
}

}  // namespace driftwatch
