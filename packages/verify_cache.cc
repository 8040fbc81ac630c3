#include "packages/verify_cache.h"

#include <algorithm>

#include "core/hash.h"

namespace driftwatch::packages {
namespace {

constexpr std::string_view kMagic = "DWPKGVC1";
constexpr std::string_view kMagicPrefix = "DWPKGVC";
constexpr size_t kChecksumSize = 16;
constexpr uint64_t kMaxPath = 1 << 16;

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    uint8_t b = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    result |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

bool GetBytes(std::string_view* in, uint64_t n, std::string_view* out) {
  if (in->size() < n) return false;
  *out = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

bool KnownAlgo(uint8_t a) {
  return a >= static_cast<uint8_t>(DigestAlgo::kMd5) &&
         a <= static_cast<uint8_t>(DigestAlgo::kSha512);
}

}  // namespace

CacheWriter::CacheWriter(std::string_view root, size_t rows_hint) {
  // About 58 bytes a row on Debian: 20 of path past the shared prefix, 22 of
  // stat tuple, 17 of MD5.
  out_.reserve(kMagic.size() + root.size() + 8 + rows_hint * 60 + kChecksumSize);
  out_.append(kMagic);
  PutVarint(&out_, root.size());
  out_.append(root);
}

Status CacheWriter::Add(const CacheRow& row) {
  if (rows_ > 0 && !(std::string_view(last_path_) < row.path)) {
    return Status::InvalidArgument("verification cache: rows out of order at '" +
                                   std::string(row.path) + "'");
  }
  if (row.path.size() > kMaxPath || row.algo == DigestAlgo::kNone ||
      row.digest.size() != DigestAlgoSize(row.algo)) {
    return Status::InvalidArgument("verification cache: bad row for '" + std::string(row.path) +
                                   "'");
  }
  size_t shared = 0;
  const size_t limit = std::min(last_path_.size(), row.path.size());
  while (shared < limit && last_path_[shared] == row.path[shared]) ++shared;
  PutVarint(&out_, shared);
  PutVarint(&out_, row.path.size() - shared);
  out_.append(row.path.substr(shared));
  PutVarint(&out_, row.dev);
  PutVarint(&out_, row.ino);
  PutVarint(&out_, row.size);
  PutVarint(&out_, ZigZag(row.mtime_ns));
  PutVarint(&out_, ZigZag(row.ctime_ns));
  out_.push_back(static_cast<char>(row.algo));
  out_.append(row.digest);
  last_path_.assign(row.path);
  ++rows_;
  return Status::Ok();
}

std::string CacheWriter::Finish() {
  out_.append(HashBytes(out_).Bytes());
  last_path_.clear();
  rows_ = 0;
  return std::move(out_);
}

Result<CacheReader> CacheReader::Open(std::string_view blob, std::string_view root) {
  if (!blob.starts_with(kMagicPrefix)) {
    return Status::Unsupported("not a driftwatch verification cache");
  }
  if (!blob.starts_with(kMagic)) {
    return Status::Unsupported("verification cache version '" +
                               std::string(blob.substr(kMagicPrefix.size(), 1)) +
                               "' is not supported (this build reads version 1)");
  }
  if (blob.size() < kMagic.size() + kChecksumSize) {
    return Status::Corruption("verification cache is truncated");
  }
  std::string_view body = blob.substr(0, blob.size() - kChecksumSize);
  if (HashBytes(body).Bytes() != blob.substr(body.size())) {
    return Status::Corruption("verification cache checksum mismatch");
  }
  std::string_view in = body.substr(kMagic.size());
  uint64_t len = 0;
  std::string_view recorded;
  if (!GetVarint(&in, &len) || !GetBytes(&in, len, &recorded)) {
    return Status::Corruption("verification cache: bad root");
  }
  if (recorded != root) {
    return Status::FailedPrecondition("verification cache belongs to root '" +
                                      std::string(recorded) + "', not '" + std::string(root) + "'");
  }
  return CacheReader(in);
}

bool CacheReader::Next(CacheRow* row) {
  if (done_ || rest_.empty()) return false;
  auto fail = [&](const std::string& what) {
    status_ = Status::Corruption("verification cache: " + what + " after '" + path_ + "'");
    done_ = true;
    return false;
  };
  uint64_t shared = 0, len = 0, mtime = 0, ctime = 0;
  std::string_view suffix, digest;
  if (!GetVarint(&rest_, &shared) || !GetVarint(&rest_, &len) || shared > path_.size() ||
      len > kMaxPath || !GetBytes(&rest_, len, &suffix)) {
    return fail("bad path");
  }
  std::string prev_tail = path_.substr(shared);
  path_.resize(shared);
  path_.append(suffix);
  // Strictly ascending: the new path must sort after the old one.
  if (len == 0 || (!prev_tail.empty() && !(suffix > std::string_view(prev_tail)))) {
    return fail("rows out of order");
  }
  if (!GetVarint(&rest_, &row->dev) || !GetVarint(&rest_, &row->ino) ||
      !GetVarint(&rest_, &row->size) || !GetVarint(&rest_, &mtime) || !GetVarint(&rest_, &ctime) ||
      rest_.empty()) {
    return fail("bad stat tuple");
  }
  uint8_t algo = static_cast<uint8_t>(rest_.front());
  rest_.remove_prefix(1);
  if (!KnownAlgo(algo)) return fail("unknown digest algorithm");
  row->algo = static_cast<DigestAlgo>(algo);
  if (!GetBytes(&rest_, DigestAlgoSize(row->algo), &digest)) return fail("short digest");
  row->mtime_ns = UnZigZag(mtime);
  row->ctime_ns = UnZigZag(ctime);
  row->path = path_;
  row->digest = digest;
  return true;
}

}  // namespace driftwatch::packages
