#include "packages/verify_cache.h"

#include <algorithm>
#include <cstring>

#include "core/hash.h"

namespace driftwatch::packages {
namespace {

constexpr std::string_view kMagic = "DWPKGVC1";
constexpr std::string_view kMagicPrefix = "DWPKGVC";
constexpr size_t kChecksumSize = 16;
constexpr uint64_t kMaxPath = 1 << 16;
constexpr size_t kSinkPiece = 64 << 10;
// A row is at most kMaxPath bytes of path, seven varints, an algorithm byte
// and a 64-byte digest; file mode keeps at least this much ahead.
constexpr size_t kMaxRow = kMaxPath + 7 * 10 + 1 + 64;
constexpr size_t kFileBuffer = 4 * kMaxRow;

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

// kUnsupported unless `in` starts with this format's magic and version.
Status CheckMagic(std::string_view in) {
  if (!in.starts_with(kMagicPrefix)) {
    return Status::Unsupported("not a driftwatch verification cache");
  }
  if (!in.starts_with(kMagic)) {
    return Status::Unsupported("verification cache version '" +
                               std::string(in.substr(kMagicPrefix.size(), 1)) +
                               "' is not supported (this build reads version 1)");
  }
  return Status::Ok();
}

// Reads the recorded root at the start of `*in` (just past the magic) and
// leaves `*in` at the first row.
Status ReadRoot(std::string_view* in, std::string_view root) {
  uint64_t len = 0;
  std::string_view recorded;
  if (!GetVarint(in, &len) || !GetBytes(in, len, &recorded)) {
    return Status::Corruption("verification cache: bad root");
  }
  if (recorded != root) {
    return Status::FailedPrecondition("verification cache belongs to root '" +
                                      std::string(recorded) + "', not '" + std::string(root) + "'");
  }
  return Status::Ok();
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

CacheWriter::CacheWriter(std::string_view root, CacheSink sink)
    : sink_(std::move(sink)), hasher_(std::make_unique<Hasher>(HashAlgo::kXxh128)) {
  out_.reserve(kSinkPiece + kMaxRow);
  out_.append(kMagic);
  PutVarint(&out_, root.size());
  out_.append(root);
}

void CacheWriter::Flush() {
  if (out_.empty()) return;
  hasher_->Update(out_);
  if (sink_status_.ok()) sink_status_ = sink_(out_);
  out_.clear();
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
  if (sink_ && out_.size() >= kSinkPiece) Flush();
  return Status::Ok();
}

std::string CacheWriter::Finish() {
  last_path_.clear();
  rows_ = 0;
  if (sink_) {
    Flush();
    Digest d = hasher_->Finish();
    hasher_ = std::make_unique<Hasher>(HashAlgo::kXxh128);
    std::string_view sum(reinterpret_cast<const char*>(d.bytes.data()), kChecksumSize);
    if (sink_status_.ok()) sink_status_ = sink_(sum);
    return "";
  }
  out_.append(HashBytes(out_).Bytes());
  return std::move(out_);
}

Result<CacheReader> CacheReader::OpenFile(Host& host, int fd, uint64_t size,
                                          std::string_view root) {
  auto file = std::make_unique<File>();
  file->host = &host;
  file->fd = fd;
  file->hasher = std::make_unique<Hasher>(HashAlgo::kXxh128);
  if (size < kMagic.size() + kChecksumSize) {
    // Small enough to judge whole (and to give Open's messages).
    std::string blob(size, '\0');
    size_t got = 0;
    while (got < size) {
      DW_ASSIGN_OR_RETURN(size_t n, host.Read(fd, blob.data() + got, size - got));
      if (n == 0) break;
      got += n;
    }
    blob.resize(got);
    DW_ASSIGN_OR_RETURN(CacheReader r, Open(blob, root));
    (void)r;
    return Status::Corruption("verification cache is truncated");
  }
  file->rows_left = size - kChecksumSize;
  file->buffer.reserve(kFileBuffer);
  CacheReader r{std::string_view()};
  r.file_ = std::move(file);
  if (!r.Refill()) return r.status_;
  std::string_view in = r.rest_;
  DW_RETURN_IF_ERROR(CheckMagic(in));
  in.remove_prefix(kMagic.size());
  DW_RETURN_IF_ERROR(ReadRoot(&in, root));
  r.rest_ = in;
  return r;
}

bool CacheReader::Refill() {
  File& f = *file_;
  if (rest_.size() >= kMaxRow || f.rows_left == 0) return true;
  // Keep what is left of the buffer, read behind it.
  if (rest_.empty()) {
    f.buffer.clear();
  } else {
    f.buffer.erase(0, static_cast<size_t>(rest_.data() - f.buffer.data()));
  }
  size_t want = std::min<uint64_t>(kFileBuffer - f.buffer.size(), f.rows_left);
  size_t old = f.buffer.size();
  f.buffer.resize(old + want);
  size_t got = 0;
  while (got < want) {
    auto n = f.host->Read(f.fd, f.buffer.data() + old + got, want - got);
    if (!n.ok()) {
      status_ = Status::Corruption("verification cache: " + n.status().message());
      done_ = true;
      return false;
    }
    if (*n == 0) break;
    got += *n;
  }
  f.buffer.resize(old + got);
  f.hasher->Update(std::string_view(f.buffer).substr(old));
  f.rows_left = got < want ? 0 : f.rows_left - got;
  if (got < want) {
    status_ = Status::Corruption("verification cache is truncated");
    done_ = true;
    return false;
  }
  rest_ = f.buffer;
  if (f.rows_left == 0) {
    // The rows are all in: the checksum behind them must match.
    char sum[kChecksumSize];
    size_t have = 0;
    while (have < kChecksumSize) {
      auto n = f.host->Read(f.fd, sum + have, kChecksumSize - have);
      if (!n.ok() || *n == 0) break;
      have += *n;
    }
    Digest d = f.hasher->Finish();
    if (have != kChecksumSize || std::memcmp(sum, d.bytes.data(), kChecksumSize) != 0) {
      checksum_bad_ = true;
    }
  }
  return true;
}

Result<CacheReader> CacheReader::Open(std::string_view blob, std::string_view root) {
  DW_RETURN_IF_ERROR(CheckMagic(blob));
  if (blob.size() < kMagic.size() + kChecksumSize) {
    return Status::Corruption("verification cache is truncated");
  }
  std::string_view body = blob.substr(0, blob.size() - kChecksumSize);
  if (HashBytes(body).Bytes() != blob.substr(body.size())) {
    return Status::Corruption("verification cache checksum mismatch");
  }
  std::string_view in = body.substr(kMagic.size());
  DW_RETURN_IF_ERROR(ReadRoot(&in, root));
  return CacheReader(in);
}

bool CacheReader::Next(CacheRow* row) {
  if (file_ != nullptr && !done_ && !Refill()) return false;
  if (done_ || rest_.empty()) {
    if (checksum_bad_ && status_.ok())
      status_ = Status::Corruption("verification cache checksum mismatch");
    done_ = true;
    return false;
  }
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
