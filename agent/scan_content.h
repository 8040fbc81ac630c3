// ContentKeeper: what a scan keeps of file content and xattrs
// (ScanOptions::content, docs/content.md). Decides from Policy::Content
// whether a file is kept, answers whether what a stat cache row vouches for
// is kept already, and keeps content and xattr sets.
//
// Thread-safety: as thread-safe as the ContentStore (the scanner's workers
// share one keeper).
#ifndef DRIFTWATCH_AGENT_SCAN_CONTENT_H_
#define DRIFTWATCH_AGENT_SCAN_CONTENT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/content.h"
#include "rules/policy.h"

namespace driftwatch::agent {

class ContentKeeper {
 public:
  // `store` may be null: then nothing is kept and every answer is "kept".
  ContentKeeper(const rules::Policy& policy, ContentStore* store)
      : policy_(policy), store_(store) {}

  // Whether the file at logical `path` of `size` bytes is kept (content
  // keep, size within content_max); *max_bytes is the rule's content_max.
  bool Wants(const std::string& path, uint64_t size, uint64_t* max_bytes) const;
  // Whether the blob or xattr set is there; a failing store counts as
  // missing, so that the file is read again.
  bool HasBlob(const Digest& digest);
  bool HasXattrs(const Hash128& digest);
  // Keep; the error is the scan's warning ("PATH: content not kept: ...").
  Status Keep(const std::string& path, const Digest& digest, std::string_view raw);
  Status KeepXattrs(const std::string& path, const Hash128& digest,
                    const std::vector<Xattr>& xattrs);

 private:
  const rules::Policy& policy_;
  ContentStore* const store_;
};

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_SCAN_CONTENT_H_
