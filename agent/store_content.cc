// The agent store's kept content (store.h, docs/store.md schema v4): blobs
// of file content by digest and xattr sets by their XattrDigest, buffered
// like trees and swept by Prune.
#include <set>

#include "agent/file_hash.h"
#include "agent/store.h"
#include "core/blob_codec.h"

namespace driftwatch::agent {

using sqlite::Stmt;

namespace {

// Bounds on what a stored xattr set may claim when read back.
constexpr size_t kMaxXattrsPerSet = 4096;

// The blobs key: the algorithm byte, then the digest bytes (as the stat
// cache stores digests).
std::string DigestKey(const Digest& d) {
  std::string key(1, static_cast<char>(d.algo));
  key.append(reinterpret_cast<const char*>(d.bytes.data()), d.size());
  return key;
}

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

bool GetU32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  *v = 0;
  for (int i = 0; i < 4; ++i) *v |= uint32_t{static_cast<uint8_t>((*in)[i])} << (8 * i);
  in->remove_prefix(4);
  return true;
}

bool GetBytes(std::string_view* in, std::string* out) {
  uint32_t n;
  if (!GetU32(in, &n) || in->size() < n) return false;
  out->assign(in->substr(0, n));
  in->remove_prefix(n);
  return true;
}

// count, then (name length, name, value length, value) in name order.
std::string SerializeXattrs(std::vector<Xattr> xattrs) {
  std::sort(xattrs.begin(), xattrs.end(),
            [](const Xattr& a, const Xattr& b) { return a.name < b.name; });
  std::string out;
  PutU32(&out, static_cast<uint32_t>(xattrs.size()));
  for (const Xattr& x : xattrs) {
    PutU32(&out, static_cast<uint32_t>(x.name.size()));
    out += x.name;
    PutU32(&out, static_cast<uint32_t>(x.value.size()));
    out += x.value;
  }
  return out;
}

std::optional<std::vector<Xattr>> ParseXattrs(std::string_view in) {
  uint32_t n;
  if (!GetU32(&in, &n) || n > kMaxXattrsPerSet) return std::nullopt;
  std::vector<Xattr> out(n);
  for (Xattr& x : out) {
    if (!GetBytes(&in, &x.name) || !GetBytes(&in, &x.value)) return std::nullopt;
  }
  if (!in.empty()) return std::nullopt;
  return out;
}

}  // namespace

Result<bool> Store::HasContent(const Digest& digest) {
  if (digest.empty()) return false;
  const std::string key = DigestKey(digest);
  std::lock_guard<std::mutex> lock(mu_);
  if (pending_blobs_.count(key) > 0) return true;
  DW_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT 1 FROM blobs WHERE digest = ?"));
  q.BindBlob(1, key);
  return q.Step();
}

Status Store::PutContent(const Digest& digest, std::string_view raw) {
  if (digest.empty()) return Status::InvalidArgument("content without a digest is not kept");
  const std::string key = DigestKey(digest);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_blobs_.count(key) > 0) return Status::Ok();
  }
  DW_ASSIGN_OR_RETURN(bool kept, HasContent(digest));
  if (kept) return Status::Ok();
  DW_ASSIGN_OR_RETURN(std::string frame, CompressBlob(raw));  // outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  pending_bytes_ += frame.size() + key.size();
  pending_blobs_.try_emplace(key, raw.size(), std::move(frame));
  if (pending_bytes_ >= kStoreFlushBytes) return FlushLocked();
  return Status::Ok();
}

Result<std::optional<std::string>> Store::GetContent(const Digest& digest) {
  if (digest.empty()) return std::optional<std::string>();
  const std::string key = DigestKey(digest);
  uint64_t raw_size = 0;
  std::string frame;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = pending_blobs_.find(key); it != pending_blobs_.end()) {
      raw_size = it->second.first;
      frame = it->second.second;
    } else {
      DW_ASSIGN_OR_RETURN(Stmt q,
                          db_->Prepare("SELECT raw_size, data FROM blobs WHERE digest = ?"));
      q.BindBlob(1, key);
      DW_ASSIGN_OR_RETURN(bool found, q.Step());
      if (!found) return std::optional<std::string>();
      raw_size = static_cast<uint64_t>(q.Int(0));
      frame = q.Blob(1);
    }
  }
  const std::string what = db_->path() + ": blob " + digest.Hex();
  if (raw_size > kMaxKeptBlobBytes) {
    return Status::Corruption(what + " claims " + std::to_string(raw_size) + " bytes");
  }
  auto raw = DecompressBlob(frame, static_cast<size_t>(raw_size));
  if (!raw.ok()) return Status::Corruption(what + ": " + raw.status().message());
  if (raw->size() != raw_size || Hasher::Of(digest.algo, *raw) != digest) {
    return Status::Corruption(what + ": content does not match its digest");
  }
  return std::optional<std::string>(std::move(*raw));
}

Status Store::PutXattrs(const Hash128& digest, const std::vector<Xattr>& xattrs) {
  if (digest.IsZero()) return Status::Ok();  // no xattrs: nothing to keep
  std::string data = SerializeXattrs(xattrs);
  std::lock_guard<std::mutex> lock(mu_);
  if (pending_xattrs_.count(digest) > 0) return Status::Ok();
  pending_bytes_ += data.size() + 16;
  pending_xattrs_.emplace(digest, std::move(data));
  if (pending_bytes_ >= kStoreFlushBytes) return FlushLocked();
  return Status::Ok();
}

Result<std::optional<std::vector<Xattr>>> Store::GetXattrs(const Hash128& digest) {
  using Out = std::optional<std::vector<Xattr>>;
  if (digest.IsZero()) return Out(std::vector<Xattr>());
  std::string data;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = pending_xattrs_.find(digest); it != pending_xattrs_.end()) {
      data = it->second;
    } else {
      DW_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT data FROM xattr_sets WHERE id = ?"));
      q.BindBlob(1, digest.Bytes());
      DW_ASSIGN_OR_RETURN(bool found, q.Step());
      if (!found) return Out();
      data = q.Blob(0);
    }
  }
  auto set = ParseXattrs(data);
  if (!set || XattrDigest(*set) != digest) {
    return Status::Corruption(db_->path() + ": xattr set " + digest.Hex() + " is damaged");
  }
  return Out(std::move(*set));
}

Result<ContentCounts> Store::CountContent() {
  DW_RETURN_IF_ERROR(Flush());
  std::lock_guard<std::mutex> lock(mu_);
  DW_ASSIGN_OR_RETURN(Stmt q,
                      db_->Prepare("SELECT COUNT(*), COALESCE(SUM(LENGTH(data)), 0),"
                                   " COALESCE(SUM(raw_size), 0), (SELECT COUNT(*) FROM xattr_sets)"
                                   " FROM blobs"));
  DW_ASSIGN_OR_RETURN(bool found, q.Step());
  ContentCounts c;
  if (found) c = ContentCounts{q.Int(0), q.Int(1), q.Int(2), q.Int(3)};
  return c;
}

Status Store::WritePendingContentLocked() {
  if (!pending_blobs_.empty()) {
    DW_ASSIGN_OR_RETURN(Stmt put, db_->Prepare("INSERT OR IGNORE INTO blobs(digest, raw_size, data)"
                                               " VALUES(?, ?, ?)"));
    for (const auto& [key, blob] : pending_blobs_) {
      DW_RETURN_IF_ERROR(put.BindBlob(1, key)
                             .Bind(2, static_cast<int64_t>(blob.first))
                             .BindBlob(3, blob.second)
                             .Run());
    }
  }
  if (!pending_xattrs_.empty()) {
    DW_ASSIGN_OR_RETURN(Stmt put,
                        db_->Prepare("INSERT OR IGNORE INTO xattr_sets(id, data) VALUES(?, ?)"));
    for (const auto& [id, data] : pending_xattrs_) {
      DW_RETURN_IF_ERROR(put.BindBlob(1, id.Bytes()).BindBlob(2, data).Run());
    }
  }
  return Status::Ok();
}

Status Store::CollectGarbageLocked(const std::vector<Hash128>& roots) {
  // Mark, in one walk from the kept roots (explicit stack): every reachable
  // tree, and the digests and xattr sets of their entries; then those of
  // the entries of history events.
  DW_RETURN_IF_ERROR(
      db_->Exec("CREATE TEMP TABLE IF NOT EXISTS live(id BLOB PRIMARY KEY) WITHOUT ROWID;"
                "CREATE TEMP TABLE IF NOT EXISTS live_blobs(digest BLOB PRIMARY KEY) WITHOUT ROWID;"
                "CREATE TEMP TABLE IF NOT EXISTS live_xattrs(id BLOB PRIMARY KEY) WITHOUT ROWID;"
                "DELETE FROM live; DELETE FROM live_blobs; DELETE FROM live_xattrs;"));
  DW_ASSIGN_OR_RETURN(Stmt live, db_->Prepare("INSERT OR IGNORE INTO live(id) VALUES(?)"));
  DW_ASSIGN_OR_RETURN(Stmt blob, db_->Prepare("INSERT OR IGNORE INTO live_blobs VALUES(?)"));
  DW_ASSIGN_OR_RETURN(Stmt xattr, db_->Prepare("INSERT OR IGNORE INTO live_xattrs VALUES(?)"));
  auto mark = [&](const Entry& e) -> Status {
    if (!e.content.empty()) DW_RETURN_IF_ERROR(blob.BindBlob(1, DigestKey(e.content)).Run());
    if (!e.xattrs.IsZero()) DW_RETURN_IF_ERROR(xattr.BindBlob(1, e.xattrs.Bytes()).Run());
    return Status::Ok();
  };
  DW_ASSIGN_OR_RETURN(Stmt get, db_->Prepare("SELECT data FROM trees WHERE id = ?"));
  std::set<Hash128> seen;
  std::vector<Hash128> stack = roots;
  while (!stack.empty()) {
    Hash128 id = stack.back();
    stack.pop_back();
    if (!seen.insert(id).second) continue;
    DW_RETURN_IF_ERROR(live.BindBlob(1, id.Bytes()).Run());
    get.BindBlob(1, id.Bytes());
    DW_ASSIGN_OR_RETURN(bool found, get.Step());
    std::string data = found ? get.Blob(0) : std::string();
    get.Reset();
    if (!found) continue;
    auto tree = ParseTree(data);
    if (!tree.ok()) continue;
    for (const Entry& e : tree->entries) {
      if (e.type == EntryType::kDir) stack.push_back(e.subtree);
      DW_RETURN_IF_ERROR(mark(e));
    }
  }
  DW_ASSIGN_OR_RETURN(Stmt events,
                      db_->Prepare("SELECT old_entry, new_entry FROM events"
                                   " WHERE old_entry IS NOT NULL OR new_entry IS NOT NULL"));
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, events.Step());
    if (!row) break;
    for (int col = 0; col < 2; ++col) {
      auto tree = ParseTree(events.Blob(col));
      if (!tree.ok()) continue;
      for (const Entry& e : tree->entries) DW_RETURN_IF_ERROR(mark(e));
    }
  }
  return db_->Exec(
      "DELETE FROM trees WHERE id NOT IN (SELECT id FROM live);"
      "DELETE FROM blobs WHERE digest NOT IN (SELECT digest FROM live_blobs);"
      "DELETE FROM xattr_sets WHERE id NOT IN (SELECT id FROM live_xattrs);"
      "DELETE FROM live; DELETE FROM live_blobs; DELETE FROM live_xattrs;");
}

}  // namespace driftwatch::agent
