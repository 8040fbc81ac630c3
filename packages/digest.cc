#include "packages/digest.h"

#include <openssl/evp.h>

#include "core/hash.h"

namespace driftwatch::packages {
namespace {

const EVP_MD* EvpFor(DigestAlgo algo) {
  switch (algo) {
    case DigestAlgo::kMd5:
      return EVP_md5();
    case DigestAlgo::kSha1:
      return EVP_sha1();
    case DigestAlgo::kSha224:
      return EVP_sha224();
    case DigestAlgo::kSha256:
      return EVP_sha256();
    case DigestAlgo::kSha384:
      return EVP_sha384();
    case DigestAlgo::kSha512:
      return EVP_sha512();
    case DigestAlgo::kNone:
      break;
  }
  return nullptr;
}

}  // namespace

std::string_view DigestAlgoName(DigestAlgo algo) {
  switch (algo) {
    case DigestAlgo::kMd5:
      return "md5";
    case DigestAlgo::kSha1:
      return "sha1";
    case DigestAlgo::kSha224:
      return "sha224";
    case DigestAlgo::kSha256:
      return "sha256";
    case DigestAlgo::kSha384:
      return "sha384";
    case DigestAlgo::kSha512:
      return "sha512";
    case DigestAlgo::kNone:
      break;
  }
  return "none";
}

size_t DigestAlgoSize(DigestAlgo algo) {
  switch (algo) {
    case DigestAlgo::kMd5:
      return 16;
    case DigestAlgo::kSha1:
      return 20;
    case DigestAlgo::kSha224:
      return 28;
    case DigestAlgo::kSha256:
      return 32;
    case DigestAlgo::kSha384:
      return 48;
    case DigestAlgo::kSha512:
      return 64;
    case DigestAlgo::kNone:
      break;
  }
  return 0;
}

Result<DigestAlgo> DigestAlgoFromRpm(uint32_t pgp_algo) {
  switch (pgp_algo) {
    case 1:
      return DigestAlgo::kMd5;
    case 2:
      return DigestAlgo::kSha1;
    case 8:
      return DigestAlgo::kSha256;
    case 9:
      return DigestAlgo::kSha384;
    case 10:
      return DigestAlgo::kSha512;
    case 11:
      return DigestAlgo::kSha224;
    default:
      break;
  }
  return Status::Unsupported("unknown rpm file digest algorithm " + std::to_string(pgp_algo));
}

std::string FileDigest::Hex() const {
  if (empty()) return "";
  return std::string(DigestAlgoName(algo)) + ":" + HexEncode(bytes);
}

Result<FileDigest> FileDigest::FromHex(DigestAlgo algo, std::string_view hex) {
  size_t want = DigestAlgoSize(algo);
  if (want == 0) return Status::InvalidArgument("no digest algorithm");
  if (hex.size() != want * 2) {
    return Status::Corruption("expected " + std::to_string(want * 2) + " hex digits for " +
                              std::string(DigestAlgoName(algo)) + ", got '" + std::string(hex) +
                              "'");
  }
  auto bytes = HexDecode(hex);
  if (!bytes.ok()) return Status::Corruption("bad hex digest '" + std::string(hex) + "'");
  return FileDigest{algo, std::move(bytes).value()};
}

struct DigestHasher::State {
  EVP_MD_CTX* ctx = nullptr;
  ~State() { EVP_MD_CTX_free(ctx); }
};

DigestHasher::DigestHasher(DigestAlgo algo) : algo_(algo), state_(std::make_unique<State>()) {
  state_->ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(state_->ctx, EvpFor(algo), nullptr);
}

DigestHasher::~DigestHasher() = default;

void DigestHasher::Update(const void* data, size_t n) { EVP_DigestUpdate(state_->ctx, data, n); }

FileDigest DigestHasher::Finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(state_->ctx, md, &len);
  EVP_DigestInit_ex(state_->ctx, EvpFor(algo_), nullptr);
  return FileDigest{algo_, std::string(reinterpret_cast<const char*>(md), len)};
}

FileDigest DigestHasher::Of(DigestAlgo algo, std::string_view data) {
  DigestHasher h(algo);
  h.Update(data.data(), data.size());
  return h.Finish();
}

}  // namespace driftwatch::packages
