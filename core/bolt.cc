#include "core/bolt.h"

#include <algorithm>
#include <cstring>

namespace driftwatch::bolt {

namespace {

constexpr size_t kPageHeader = 16;  // id u64, flags u16, count u16, overflow u32
constexpr size_t kElement = 16;     // branch and leaf elements alike
constexpr size_t kMetaSize = 64;
constexpr size_t kChecksumOffset = 56;  // the checksum covers the meta before it
constexpr uint16_t kBranchFlag = 0x01;
constexpr uint16_t kLeafFlag = 0x02;
constexpr uint16_t kMetaFlag = 0x04;
constexpr uint32_t kBucketLeafFlag = 0x01;
constexpr size_t kBucketHeader = 16;  // root u64, sequence u64

// bbolt writes its structures in the host's byte order; every platform
// containerd and podman ship on is little-endian.
template <typename T>
T Load(std::string_view bytes, size_t off) {
  T v;
  std::memcpy(&v, bytes.data() + off, sizeof v);
  return v;
}

uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

struct Meta {
  bool magic = false;  // the magic number is there
  bool valid = false;  // and version, page size and checksum are right
  uint32_t version = 0;
  uint32_t page_size = 0;
  uint64_t root = 0;
  uint64_t high_water = 0;
  uint64_t txid = 0;
};

bool PlausiblePageSize(uint64_t ps) {
  return ps >= 512 && ps <= (1u << 20) && (ps & (ps - 1)) == 0;
}

// The meta record of the page at `off`.
Meta ReadMeta(std::string_view file, uint64_t off) {
  Meta m;
  if (off > file.size() || file.size() - off < kPageHeader + kMetaSize) return m;
  std::string_view page = file.substr(off, kPageHeader + kMetaSize);
  std::string_view meta = page.substr(kPageHeader);
  if (Load<uint32_t>(meta, 0) != kMagic) return m;
  m.magic = true;
  m.version = Load<uint32_t>(meta, 4);
  m.page_size = Load<uint32_t>(meta, 8);
  m.root = Load<uint64_t>(meta, 16);
  m.high_water = Load<uint64_t>(meta, 40);
  m.txid = Load<uint64_t>(meta, 48);
  m.valid = m.version == kVersion && (Load<uint16_t>(page, 8) & kMetaFlag) != 0 &&
            PlausiblePageSize(m.page_size) &&
            Load<uint64_t>(meta, kChecksumOffset) == Fnv1a64(meta.substr(0, kChecksumOffset));
  return m;
}

struct Header {
  uint16_t flags = 0;
  uint16_t count = 0;
};

// The header of a page view, checked to hold its `count` elements.
Result<Header> PageHeader(std::string_view page, const char* what) {
  if (page.size() < kPageHeader) return Status::Corruption(std::string(what) + ": page too short");
  Header h{Load<uint16_t>(page, 8), Load<uint16_t>(page, 10)};
  if ((h.flags & (kBranchFlag | kLeafFlag)) == 0 ||
      (h.flags & (kBranchFlag | kLeafFlag)) == (kBranchFlag | kLeafFlag)) {
    return Status::Corruption(std::string(what) + ": not a branch or leaf page (flags " +
                              std::to_string(h.flags) + ")");
  }
  if (kPageHeader + uint64_t{h.count} * kElement > page.size()) {
    return Status::Corruption(std::string(what) + ": " + std::to_string(h.count) +
                              " elements overrun the page");
  }
  return h;
}

struct Element {
  std::string_view key;
  std::string_view value;  // leaf only
  uint64_t child = 0;      // branch only
  bool is_bucket = false;
};

// Element i of a checked page.
Result<Element> ElementAt(std::string_view page, bool leaf, uint16_t i) {
  const uint64_t at = kPageHeader + uint64_t{i} * kElement;
  Element e;
  uint64_t pos = 0, ksize = 0, vsize = 0;
  if (leaf) {
    e.is_bucket = (Load<uint32_t>(page, at) & kBucketLeafFlag) != 0;
    pos = Load<uint32_t>(page, at + 4);
    ksize = Load<uint32_t>(page, at + 8);
    vsize = Load<uint32_t>(page, at + 12);
  } else {
    pos = Load<uint32_t>(page, at);
    ksize = Load<uint32_t>(page, at + 4);
    e.child = Load<uint64_t>(page, at + 8);
  }
  const uint64_t start = at + pos;
  if (start + ksize + vsize > page.size()) {
    return Status::Corruption("element " + std::to_string(i) + " overruns its page");
  }
  e.key = page.substr(start, ksize);
  e.value = page.substr(start + ksize, vsize);
  return e;
}

// The nested bucket a leaf element's value holds.
Result<std::pair<uint64_t, std::string_view>> BucketValue(std::string_view value) {
  if (value.size() < kBucketHeader) return Status::Corruption("bucket header too short");
  uint64_t root = Load<uint64_t>(value, 0);
  std::string_view inline_page;
  if (root == 0) {
    inline_page = value.substr(kBucketHeader);
    if (inline_page.size() < kPageHeader) return Status::Corruption("inline bucket too short");
  }
  return std::make_pair(root, inline_page);
}

// Descends from a bucket's root to the leaf element `key`.
Result<std::optional<Element>> Find(const BoltDb& db, uint64_t root, std::string_view inline_page,
                                    std::string_view key) {
  std::string_view page = inline_page;
  if (root != 0) {
    DW_ASSIGN_OR_RETURN(page, db.Page(root));
  }
  for (int depth = 0; depth < kMaxDepth; ++depth) {
    DW_ASSIGN_OR_RETURN(Header h, PageHeader(page, "bucket"));
    if (root == 0 && (h.flags & kLeafFlag) == 0) {
      return Status::Corruption("inline bucket: not a leaf page");
    }
    if (h.flags & kLeafFlag) {
      for (uint16_t i = 0; i < h.count; ++i) {
        DW_ASSIGN_OR_RETURN(Element e, ElementAt(page, true, i));
        if (e.key == key) return std::optional<Element>(e);
        if (e.key > key) break;
      }
      return std::optional<Element>();
    }
    if (h.count == 0) return Status::Corruption("empty branch page");
    // The last child whose first key is <= key (the first when key sorts
    // before every one).
    uint64_t child = 0;
    for (uint16_t i = 0; i < h.count; ++i) {
      DW_ASSIGN_OR_RETURN(Element e, ElementAt(page, false, i));
      if (i > 0 && e.key > key) break;
      child = e.child;
    }
    DW_ASSIGN_OR_RETURN(page, db.Page(child));
  }
  return Status::Corruption("bucket deeper than " + std::to_string(kMaxDepth) + " levels");
}

}  // namespace

Result<std::unique_ptr<const BoltDb>> BoltDb::Open(std::string bytes) {
  std::string_view file = bytes;
  Meta m0 = ReadMeta(file, 0);
  Meta m1;
  if (m0.valid) {
    m1 = ReadMeta(file, m0.page_size);
  } else {
    // Meta 0 is damaged: find meta 1 at a page size it agrees with.
    for (uint64_t ps = 512; ps <= (1u << 20) && !m1.valid; ps *= 2) {
      Meta m = ReadMeta(file, ps);
      if (m.valid && m.page_size == ps) m1 = m;
      if (!m1.magic && m.magic) m1 = m;
    }
  }
  if (m1.valid && m0.valid && m1.page_size != m0.page_size) m1.valid = false;
  const Meta* meta = nullptr;
  if (m0.valid && (!m1.valid || m0.txid >= m1.txid)) meta = &m0;
  if (m1.valid && (!m0.valid || m1.txid > m0.txid)) meta = &m1;
  if (meta == nullptr) {
    for (const Meta* m : {&m0, &m1}) {
      if (m->magic && m->version != kVersion) {
        return Status::Unsupported("unknown bbolt version " + std::to_string(m->version));
      }
    }
    if (m0.magic || m1.magic) return Status::Corruption("bbolt: no valid meta page (checksum)");
    return Status::Corruption("not a bbolt file");
  }
  auto db = std::unique_ptr<BoltDb>(new BoltDb());
  db->page_size_ = meta->page_size;
  db->root_ = meta->root;
  db->high_water_ = meta->high_water;
  db->txid_ = meta->txid;
  db->bytes_ = std::move(bytes);
  if (db->root_ < 2 || db->root_ >= db->high_water_) {
    return Status::Corruption("bbolt: root page " + std::to_string(db->root_) + " out of range");
  }
  return std::unique_ptr<const BoltDb>(std::move(db));
}

Result<std::string_view> BoltDb::Page(uint64_t pgid) const {
  const uint64_t pages = bytes_.size() / page_size_;
  if (pgid < 2 || pgid >= high_water_ || pgid >= pages) {
    return Status::Corruption("bbolt: page " + std::to_string(pgid) + " out of range");
  }
  std::string_view file = bytes_;
  std::string_view head = file.substr(pgid * page_size_, kPageHeader);
  if (Load<uint64_t>(head, 0) != pgid) {
    return Status::Corruption("bbolt: page " + std::to_string(pgid) + " names itself " +
                              std::to_string(Load<uint64_t>(head, 0)));
  }
  const uint64_t overflow = Load<uint32_t>(head, 12);
  if (overflow >= pages - pgid) {
    return Status::Corruption("bbolt: page " + std::to_string(pgid) + " overflows the file");
  }
  return file.substr(pgid * page_size_, (overflow + 1) * page_size_);
}

Result<std::optional<std::string_view>> Bucket::Get(std::string_view key) const {
  DW_ASSIGN_OR_RETURN(std::optional<Element> e, Find(*db_, root_, inline_page_, key));
  if (!e || e->is_bucket) return std::optional<std::string_view>();
  return std::optional<std::string_view>(e->value);
}

Result<std::optional<Bucket>> Bucket::Sub(std::string_view name) const {
  DW_ASSIGN_OR_RETURN(std::optional<Element> e, Find(*db_, root_, inline_page_, name));
  if (!e || !e->is_bucket) return std::optional<Bucket>();
  DW_ASSIGN_OR_RETURN(auto b, BucketValue(e->value));
  return std::optional<Bucket>(Bucket(db_, b.first, b.second));
}

Result<std::optional<Bucket>> Bucket::Path(const std::vector<std::string_view>& names) const {
  std::optional<Bucket> b = *this;
  for (std::string_view n : names) {
    DW_ASSIGN_OR_RETURN(b, b->Sub(n));
    if (!b) break;
  }
  return b;
}

Result<std::vector<Item>> Bucket::Items(size_t max_items) const {
  std::vector<Item> items;
  Cursor c(*this);
  while (true) {
    DW_ASSIGN_OR_RETURN(std::optional<Item> item, c.Next());
    if (!item) return items;
    if (items.size() == max_items) {
      return Status::ResourceExhausted("bbolt: bucket has more than " + std::to_string(max_items) +
                                       " items");
    }
    items.push_back(*item);
  }
}

Cursor::Cursor(const Bucket& bucket) : bucket_(bucket) {}

Status Cursor::Push(uint64_t pgid, std::string_view inline_page) {
  if (stack_.size() >= static_cast<size_t>(kMaxDepth)) {
    return Status::Corruption("bucket deeper than " + std::to_string(kMaxDepth) + " levels");
  }
  Frame f;
  if (pgid == 0) {
    f.page = inline_page;
  } else {
    auto at = std::lower_bound(visited_.begin(), visited_.end(), pgid);
    if (at != visited_.end() && *at == pgid) {
      return Status::Corruption("bbolt: page " + std::to_string(pgid) + " reached twice");
    }
    visited_.insert(at, pgid);
    DW_ASSIGN_OR_RETURN(f.page, bucket_.db_->Page(pgid));
  }
  DW_ASSIGN_OR_RETURN(Header h, PageHeader(f.page, "bucket"));
  if (pgid == 0 && (h.flags & kLeafFlag) == 0) {
    return Status::Corruption("inline bucket: not a leaf page");
  }
  f.count = h.count;
  f.leaf = (h.flags & kLeafFlag) != 0;
  stack_.push_back(f);
  return Status::Ok();
}

Result<std::optional<Item>> Cursor::Next() {
  if (!failed_.ok()) return failed_;
  if (!started_) {
    started_ = true;
    failed_ = Push(bucket_.root_, bucket_.inline_page_);
    if (!failed_.ok()) return failed_;
  }
  while (!stack_.empty()) {
    Frame& f = stack_.back();
    if (f.index >= f.count) {
      stack_.pop_back();
      continue;
    }
    Result<Element> e = ElementAt(f.page, f.leaf, f.index++);
    if (!e.ok()) {
      failed_ = e.status();
      return failed_;
    }
    if (f.leaf) return std::optional<Item>(Item{e->key, e->value, e->is_bucket});
    failed_ = Push(e->child, {});
    if (!failed_.ok()) return failed_;
  }
  return std::optional<Item>();
}

}  // namespace driftwatch::bolt
