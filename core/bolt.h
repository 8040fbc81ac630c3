// A read-only reader of bbolt database files (the embedded key/value store
// containerd's meta.db and libpod's bolt_state.db are kept in), from the
// file's bytes: no lock is taken and the writer is never disturbed, so a
// file a running daemon holds open is read as of its last committed
// transaction (docs/containers.md "Other runtimes: identity").
//
// The format (bbolt's page.go, node.go, bucket.go, db.go): fixed-size pages;
// pages 0 and 1 hold the two meta records (magic 0xED0CDAED, version 2,
// page size, the root bucket, the transaction id, an FNV-1a checksum), and
// the valid one with the higher transaction id is current. A bucket is a
// B+tree of branch and leaf pages (a page may overflow into the pages after
// it); a leaf element flagged as a bucket holds a nested bucket's header
// (root page, sequence), with root 0 meaning an inline bucket whose single
// leaf page follows the header inside the value.
//
// Every offset, length and page id read from the file is bounds-checked: a
// file that is not bbolt, is truncated or corrupt gives kCorruption naming
// what was wrong, a version other than 2 kUnsupported; never a crash, an
// out-of-bounds read or a loop (tree depth is capped and a cursor refuses a
// page it already visited).
//
// Thread-safety: a BoltDb and its Buckets are immutable; Cursors are not
// shared between threads.
#ifndef DRIFTWATCH_CORE_BOLT_H_
#define DRIFTWATCH_CORE_BOLT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace driftwatch::bolt {

inline constexpr uint32_t kMagic = 0xED0CDAED;
inline constexpr uint32_t kVersion = 2;
// B+tree depth a bucket may have; bbolt's trees of millions of keys stay
// under 10.
inline constexpr int kMaxDepth = 64;

class BoltDb;

// One key of a bucket: a value, or a nested bucket (is_bucket; `value` is
// then the bucket's raw header and is of no use to callers). The views
// point into the BoltDb and live as long as it does.
struct Item {
  std::string_view key;
  std::string_view value;
  bool is_bucket = false;
  friend bool operator==(const Item&, const Item&) = default;
};

// A bucket of a BoltDb; a cheap handle that borrows the BoltDb.
class Bucket {
 public:
  // The value stored under `key`; nullopt when there is none or it is a
  // bucket. kCorruption when the pages on the way are corrupt.
  Result<std::optional<std::string_view>> Get(std::string_view key) const;
  // The nested bucket `name`; nullopt when there is none or it is a value.
  Result<std::optional<Bucket>> Sub(std::string_view name) const;
  // Sub() through a path of names ("v1", "default", "containers").
  Result<std::optional<Bucket>> Path(const std::vector<std::string_view>& names) const;
  // Every item in key order (a cursor run to its end); at most
  // `max_items`, more is kResourceExhausted.
  Result<std::vector<Item>> Items(size_t max_items = 1 << 20) const;

 private:
  friend class BoltDb;
  friend class Cursor;
  Bucket(const BoltDb* db, uint64_t root, std::string_view inline_page)
      : db_(db), root_(root), inline_page_(inline_page) {}
  const BoltDb* db_;
  uint64_t root_;                 // root page id; 0 for an inline bucket
  std::string_view inline_page_;  // the inline bucket's page
};

// Walks a bucket's items in key order without recursion: an explicit stack
// of at most kMaxDepth pages, each page entered at most once.
class Cursor {
 public:
  explicit Cursor(const Bucket& bucket);
  // The next item, nullopt at the end. After an error the cursor stays
  // failed and returns that error again.
  Result<std::optional<Item>> Next();

 private:
  struct Frame {
    std::string_view page;  // the page's bytes, overflow included
    uint16_t count = 0;
    uint16_t index = 0;
    bool leaf = false;
  };
  Status Push(uint64_t pgid, std::string_view inline_page);
  Bucket bucket_;
  std::vector<Frame> stack_;
  std::vector<uint64_t> visited_;  // sorted
  bool started_ = false;
  Status failed_;
};

class BoltDb {
 public:
  // Takes the whole file. kCorruption when neither meta page is valid or
  // the file is too short, kUnsupported for a version other than 2.
  static Result<std::unique_ptr<const BoltDb>> Open(std::string bytes);

  uint32_t page_size() const { return page_size_; }
  uint64_t txid() const { return txid_; }
  Bucket Root() const { return Bucket(this, root_, {}); }

  // The bytes of page `pgid` and its overflow pages: kCorruption when it is
  // a meta page, beyond the file or the allocated pages, its header names
  // another page or its overflow runs past the end of the file.
  Result<std::string_view> Page(uint64_t pgid) const;

 private:
  BoltDb() = default;
  std::string bytes_;
  uint32_t page_size_ = 0;
  uint64_t root_ = 0;
  uint64_t high_water_ = 0;  // pages below it are allocated
  uint64_t txid_ = 0;
};

}  // namespace driftwatch::bolt

#endif  // DRIFTWATCH_CORE_BOLT_H_
