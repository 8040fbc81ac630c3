#include "agent/scan_content.h"

#include "core/drift.h"

namespace driftwatch::agent {

bool ContentKeeper::Wants(const std::string& path, uint64_t size, uint64_t* max_bytes) const {
  if (store_ == nullptr) return false;
  const rules::ContentRule c = policy_.Content(path);
  *max_bytes = c.max_bytes;
  return c.mode == rules::ContentMode::kKeep && size <= c.max_bytes;
}

bool ContentKeeper::HasBlob(const Digest& digest) {
  if (store_ == nullptr) return true;
  auto has = store_->HasContent(digest);
  return has.ok() && *has;
}

bool ContentKeeper::HasXattrs(const Hash128& digest) {
  if (store_ == nullptr || digest.IsZero()) return true;
  auto set = store_->GetXattrs(digest);
  return set.ok() && set->has_value();
}

Status ContentKeeper::Keep(const std::string& path, const Digest& digest, std::string_view raw) {
  Status s = store_->PutContent(digest, raw);
  if (!s.ok()) return Status(s.code(), EscapePath(path) + ": content not kept: " + s.message());
  return s;
}

Status ContentKeeper::KeepXattrs(const std::string& path, const Hash128& digest,
                                 const std::vector<Xattr>& xattrs) {
  if (store_ == nullptr || digest.IsZero()) return Status::Ok();
  Status s = store_->PutXattrs(digest, xattrs);
  if (!s.ok()) return Status(s.code(), EscapePath(path) + ": xattrs not kept: " + s.message());
  return s;
}

}  // namespace driftwatch::agent
