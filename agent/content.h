// ContentStore: the kept content of files and the extended attributes of
// entries, content-addressed (docs/content.md, schema in docs/store.md).
//
// A blob is stored once per distinct content under the digest the file's
// rule gives it (the entry's `content`, so a tree entry names its blob),
// zstd-compressed (core/blob_codec.h). Xattr sets are stored under their
// XattrDigest (agent/file_hash.h), so that restore can put ACLs and
// capabilities back. Content of files whose rule says `content: redact` is
// never passed in. Blobs that no baseline revision, retained snapshot or
// history entry refers to are removed by the store's garbage collection.
//
// Thread-safety: implementations are thread-safe (the scanner's workers
// call PutContent and HasContent at once).
#ifndef DRIFTWATCH_AGENT_CONTENT_H_
#define DRIFTWATCH_AGENT_CONTENT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/hash.h"
#include "core/host.h"
#include "core/status.h"

namespace driftwatch::agent {

class ContentStore {
 public:
  virtual ~ContentStore() = default;
  virtual Result<bool> HasContent(const Digest& digest) = 0;
  // Keeps `raw` under `digest` (which the caller computed over `raw`); a
  // no-op when that digest is kept already.
  virtual Status PutContent(const Digest& digest, std::string_view raw) = 0;
  // The kept bytes; nullopt when not kept. kCorruption when the stored
  // blob does not decompress or does not match its digest.
  virtual Result<std::optional<std::string>> GetContent(const Digest& digest) = 0;
  virtual Status PutXattrs(const Hash128& digest, const std::vector<Xattr>& xattrs) = 0;
  virtual Result<std::optional<std::vector<Xattr>>> GetXattrs(const Hash128& digest) = 0;
};

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_CONTENT_H_
