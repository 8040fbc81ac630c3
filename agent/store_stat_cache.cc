#include "agent/store_stat_cache.h"

#include <cstring>

#include "agent/store.h"

namespace driftwatch::agent {

using sqlite::Db;
using sqlite::Stmt;

namespace {

void PutVarint(std::string* out, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

uint64_t Zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t Unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

class Reader {
 public:
  explicit Reader(std::string_view b) : p_(b.data()), end_(b.data() + b.size()) {}
  bool Varint(uint64_t* v) {
    uint64_t out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      const auto byte = static_cast<uint8_t>(*p_++);
      out |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *v = out;
        return true;
      }
    }
    return false;
  }
  bool Raw(void* dst, size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    std::memcpy(dst, p_, n);
    p_ += n;
    return true;
  }
  bool Bytes(std::string* s, uint64_t n) {
    if (static_cast<uint64_t>(end_ - p_) < n) return false;
    s->assign(p_, n);
    p_ += n;
    return true;
  }
  bool done() const { return p_ == end_; }

 private:
  const char* p_;
  const char* end_;
};

}  // namespace

std::string EncodeStatRows(const std::vector<CachedStat>& rows) {
  std::string out;
  out.reserve(8 + rows.size() * 64);
  out.push_back(static_cast<char>(kStatRowsFormat));
  PutVarint(&out, rows.size());
  for (const CachedStat& r : rows) {
    PutVarint(&out, r.name.size());
    out.append(r.name);
    PutVarint(&out, r.dev);
    PutVarint(&out, r.ino);
    PutVarint(&out, r.size);
    PutVarint(&out, Zigzag(r.mtime_ns));
    PutVarint(&out, Zigzag(r.ctime_ns));
    PutVarint(&out, Zigzag(r.scan_ns));
    out.push_back(static_cast<char>(r.digest.algo));
    out.append(reinterpret_cast<const char*>(r.digest.bytes.data()), r.digest.size());
    out.push_back(r.has_xattrs ? 1 : 0);
    if (r.has_xattrs) {
      char x[16];
      for (int i = 0; i < 8; ++i) {
        x[i] = static_cast<char>(r.xattrs.high >> (56 - 8 * i));
        x[8 + i] = static_cast<char>(r.xattrs.low >> (56 - 8 * i));
      }
      out.append(x, sizeof x);
    }
  }
  return out;
}

Result<std::vector<CachedStat>> DecodeStatRows(std::string_view bytes) {
  const Status bad = Status::Corruption("stat cache: malformed directory row");
  Reader r(bytes);
  uint8_t format = 0;
  uint64_t count = 0;
  if (!r.Raw(&format, 1) || format != kStatRowsFormat) return bad;
  if (!r.Varint(&count) || count > bytes.size()) return bad;
  std::vector<CachedStat> out(count);
  for (CachedStat& c : out) {
    uint64_t len, mtime, ctime, scan;
    uint8_t algo, flags;
    if (!r.Varint(&len) || !r.Bytes(&c.name, len) || !r.Varint(&c.dev) || !r.Varint(&c.ino) ||
        !r.Varint(&c.size) || !r.Varint(&mtime) || !r.Varint(&ctime) || !r.Varint(&scan) ||
        !r.Raw(&algo, 1) || algo > static_cast<uint8_t>(HashAlgo::kSha256)) {
      return bad;
    }
    c.mtime_ns = Unzigzag(mtime);
    c.ctime_ns = Unzigzag(ctime);
    c.scan_ns = Unzigzag(scan);
    c.digest.algo = static_cast<HashAlgo>(algo);
    if (!r.Raw(c.digest.bytes.data(), c.digest.size()) || !r.Raw(&flags, 1) || flags > 1) {
      return bad;
    }
    if (flags == 1) {
      uint8_t x[16];
      if (!r.Raw(x, sizeof x)) return bad;
      auto h = Hash128::FromBytes(std::string_view(reinterpret_cast<const char*>(x), sizeof x));
      if (!h.ok()) return bad;
      c.has_xattrs = true;
      c.xattrs = *h;
    }
  }
  if (!r.done()) return bad;
  // Written sorted; a row out of order would make lookups miss, never lie.
  return out;
}

Status Store::StoreDir(const std::string& dir, std::vector<CachedStat> rows) {
  std::string packed = EncodeStatRows(rows);  // outside the lock: workers encode in parallel
  std::lock_guard<std::mutex> lock(mu_);
  if (!write_failure_.ok()) return Status::Ok();  // the cache is an optimisation
  pending_rows_ += rows.size() + 1;
  pending_dirs_.emplace_back(dir, std::move(packed));
  if (pending_rows_ >= kStatCacheFlushRows) return FlushLocked();
  return Status::Ok();
}

Status Store::WritePendingDirsLocked() {
  if (pending_dirs_.empty()) return Status::Ok();
  DW_ASSIGN_OR_RETURN(Stmt ins,
                      db_->Prepare("INSERT OR REPLACE INTO stat_cache(dir, rows) VALUES(?, ?)"));
  for (const auto& [dir, packed] : pending_dirs_) {
    DW_RETURN_IF_ERROR(ins.BindBlob(1, dir).BindBlob(2, packed).Run());
  }
  return Status::Ok();
}

Status Store::OpenReaderLocked() {
  if (load_dir_) return Status::Ok();
  Db* db = db_.get();  // exclusive_: the one connection, used under mu_
  if (!exclusive_) {
    DW_ASSIGN_OR_RETURN(reader_, Db::Open(db_->path(), AgentDbOptions(/*read_only=*/true)));
    db = reader_.get();
  }
  DW_ASSIGN_OR_RETURN(Stmt q, db->Prepare("SELECT rows FROM stat_cache WHERE dir = ?"));
  load_dir_ = std::move(q);
  return Status::Ok();
}

Result<std::vector<CachedStat>> Store::LoadDir(const std::string& dir) {
  std::string packed;
  {
    std::lock_guard<std::mutex> lock(read_mu_);
    auto db_lock = LockDbForReads();
    DW_RETURN_IF_ERROR(OpenReaderLocked());
    Stmt& q = *load_dir_;
    q.Reset();
    q.BindBlob(1, dir);
    DW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) packed = q.Blob(0);
    q.Reset();
  }
  if (packed.empty()) return std::vector<CachedStat>();
  auto rows = DecodeStatRows(packed);
  // A damaged row costs a re-read of the directory's files, nothing more.
  if (!rows.ok()) return std::vector<CachedStat>();
  return rows;
}

}  // namespace driftwatch::agent
