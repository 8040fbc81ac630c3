// Where trees go and come from: the store in production, memory in tests.
//
// Thread-safety: implementations must be thread-safe (scanner threads call
// Put concurrently).
#ifndef DRIFTWATCH_CORE_TREE_IO_H_
#define DRIFTWATCH_CORE_TREE_IO_H_

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/entry.h"
#include "core/hash.h"
#include "core/status.h"

namespace driftwatch {

// Receives every tree of a scan, keyed by its identity. Thread-safe.
class TreeSink {
 public:
  virtual ~TreeSink() = default;
  virtual Status Put(const Hash128& id, std::string serialized) = 0;
};

// Where trees are read back from (the store, or memory in tests).
class TreeSource {
 public:
  virtual ~TreeSource() = default;
  virtual Result<Tree> Get(const Hash128& id) = 0;
};

// The entry at `path` ("/etc/hosts") in the tree `root`, read through
// `trees`, one tree per component; nullopt when there is none (or a
// component above it is not a directory). "/" has no entry: nullopt.
Result<std::optional<Entry>> LookupEntry(TreeSource& trees, const Hash128& root,
                                         std::string_view path);

// Keeps trees in memory: for tests and for scans that are not stored.
class MemoryTreeStore final : public TreeSink, public TreeSource {
 public:
  Status Put(const Hash128& id, std::string serialized) override;
  Result<Tree> Get(const Hash128& id) override;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::map<Hash128, std::string> trees_;  // guarded by mu_
};

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_TREE_IO_H_
