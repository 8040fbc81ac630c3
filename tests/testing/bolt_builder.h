// BuildBoltFile: writes a small bbolt database file in memory, for tests of
// core/bolt.h and of the readers of containerd's and libpod's databases.
// It writes the format core/bolt.h reads (two meta pages, a freelist page,
// leaf and branch pages, overflow pages, page-backed and inline nested
// buckets), so tests can also corrupt chosen bytes of it.
//
// Thread-safety: value types and pure functions.
#ifndef DRIFTWATCH_TESTS_TESTING_BOLT_BUILDER_H_
#define DRIFTWATCH_TESTS_TESTING_BOLT_BUILDER_H_

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace driftwatch::testutil {

class BoltBucket {
 public:
  BoltBucket& Put(const std::string& key, const std::string& value) {
    values_[key] = value;
    return *this;
  }
  // The nested bucket `name`, created when missing.
  BoltBucket& Sub(const std::string& name) {
    auto& b = buckets_[name];
    if (!b) b = std::make_unique<BoltBucket>();
    return *b;
  }
  // Written inline in its parent's leaf when it has no nested bucket and is
  // small (as bbolt does); false forces a page of its own.
  BoltBucket& AllowInline(bool allow) {
    inline_ok_ = allow;
    return *this;
  }

 private:
  friend class BoltFileWriter;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::unique_ptr<BoltBucket>> buckets_;
  bool inline_ok_ = true;
};

class BoltFileWriter {
 public:
  // leaf_items: items per leaf page; a bucket with more gets a branch page
  // above its leaves.
  BoltFileWriter(uint32_t page_size, size_t leaf_items) : ps_(page_size), leaf_items_(leaf_items) {}

  std::string Write(const BoltBucket& root, uint64_t txid) {
    pages_.assign(3, std::string(ps_, '\0'));
    Header(pages_[2], 2, 0x10, 0, 0);  // an empty freelist
    uint64_t root_pgid = WriteBucket(root, false).first;
    const uint64_t high_water = pages_.size();
    for (uint64_t id = 0; id < 2; ++id) {
      std::string& p = pages_[id];
      Header(p, id, 0x04, 0, 0);
      std::string meta(64, '\0');
      Put32(meta, 0, 0xED0CDAED);
      Put32(meta, 4, 2);
      Put32(meta, 8, ps_);
      Put64(meta, 16, root_pgid);
      Put64(meta, 32, 2);
      Put64(meta, 40, high_water);
      Put64(meta, 48, id == 0 ? txid - 1 : txid);
      Put64(meta, 56, Fnv(meta.substr(0, 56)));
      p.replace(16, 64, meta);
    }
    std::string out;
    for (const std::string& p : pages_) out += p;
    return out;
  }

  static uint64_t Fnv(const std::string& s) {
    uint64_t h = 14695981039346656037ULL;
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    return h;
  }

 private:
  struct Elem {
    std::string key, value;
    bool bucket = false;
  };
  static void Put16(std::string& s, size_t off, uint16_t v) { std::memcpy(&s[off], &v, 2); }
  static void Put32(std::string& s, size_t off, uint32_t v) { std::memcpy(&s[off], &v, 4); }
  static void Put64(std::string& s, size_t off, uint64_t v) { std::memcpy(&s[off], &v, 8); }
  static void Header(std::string& p, uint64_t id, uint16_t flags, uint16_t count,
                     uint32_t overflow) {
    Put64(p, 0, id);
    Put16(p, 8, flags);
    Put16(p, 10, count);
    Put32(p, 12, overflow);
  }
  // A leaf page's bytes (id filled in by the caller).
  static std::string Leaf(const std::vector<Elem>& elems, size_t begin, size_t end) {
    const size_t n = end - begin;
    std::string p(16 + 16 * n, '\0');
    Header(p, 0, 0x02, static_cast<uint16_t>(n), 0);
    for (size_t i = 0; i < n; ++i) {
      const Elem& e = elems[begin + i];
      const size_t at = 16 + 16 * i;
      Put32(p, at, e.bucket ? 1 : 0);
      Put32(p, at + 4, static_cast<uint32_t>(p.size() - at));
      Put32(p, at + 8, static_cast<uint32_t>(e.key.size()));
      Put32(p, at + 12, static_cast<uint32_t>(e.value.size()));
      p += e.key + e.value;
    }
    return p;
  }
  uint64_t Place(std::string bytes) {
    const uint64_t id = pages_.size();
    const size_t count = (bytes.size() + ps_ - 1) / ps_;
    bytes.resize(count * ps_, '\0');
    Put64(bytes, 0, id);
    Put32(bytes, 12, static_cast<uint32_t>(count - 1));
    for (size_t i = 0; i < count; ++i) pages_.push_back(bytes.substr(i * ps_, ps_));
    return id;
  }
  // {root page, ""} or {0, inline page}.
  std::pair<uint64_t, std::string> WriteBucket(const BoltBucket& b, bool may_inline) {
    std::map<std::string, Elem> sorted;
    for (const auto& [k, v] : b.values_) sorted[k] = Elem{k, v, false};
    for (const auto& [k, child] : b.buckets_) {
      auto [root, page] = WriteBucket(*child, child->inline_ok_);
      std::string header(16, '\0');
      Put64(header, 0, root);
      sorted[k] = Elem{k, header + page, true};
    }
    std::vector<Elem> elems;
    for (auto& [k, e] : sorted) elems.push_back(std::move(e));
    if (may_inline && b.buckets_.empty() && elems.size() <= leaf_items_) {
      std::string page = Leaf(elems, 0, elems.size());
      if (page.size() < ps_ / 4) return {0, page};
    }
    std::vector<std::pair<std::string, uint64_t>> leaves;
    for (size_t i = 0; i < elems.size() || i == 0; i += leaf_items_) {
      size_t end = std::min(elems.size(), i + leaf_items_);
      leaves.emplace_back(i < elems.size() ? elems[i].key : "", Place(Leaf(elems, i, end)));
      if (elems.empty()) break;
    }
    if (leaves.size() == 1) return {leaves[0].second, ""};
    std::string p(16 + 16 * leaves.size(), '\0');
    Header(p, 0, 0x01, static_cast<uint16_t>(leaves.size()), 0);
    for (size_t i = 0; i < leaves.size(); ++i) {
      const size_t at = 16 + 16 * i;
      Put32(p, at, static_cast<uint32_t>(p.size() - at));
      Put32(p, at + 4, static_cast<uint32_t>(leaves[i].first.size()));
      Put64(p, at + 8, leaves[i].second);
      p += leaves[i].first;
    }
    return {Place(p), ""};
  }

  uint32_t ps_;
  size_t leaf_items_;
  std::vector<std::string> pages_;
};

// A bbolt file of `root` with 4096-byte pages.
inline std::string BuildBoltFile(const BoltBucket& root, uint64_t txid = 7,
                                 uint32_t page_size = 4096, size_t leaf_items = 64) {
  return BoltFileWriter(page_size, leaf_items).Write(root, txid);
}

}  // namespace driftwatch::testutil

#endif  // DRIFTWATCH_TESTS_TESTING_BOLT_BUILDER_H_
