#include "packages/file_table.h"

#include <algorithm>

namespace driftwatch::packages {

void FileTable::Chunk::Add(std::string_view path, DigestAlgo algo, std::string_view digest,
                           uint8_t flags, uint8_t rule) {
  Row r;
  r.path_off = static_cast<uint32_t>(paths.size());
  r.path_len = static_cast<uint32_t>(path.size());
  r.digest_off = static_cast<uint32_t>(digests.size());
  r.algo = algo;
  r.flags = flags;
  r.rule = rule;
  paths.append(path);
  if (algo != DigestAlgo::kNone) digests.append(digest.substr(0, DigestAlgoSize(algo)));
  rows.push_back(r);
}

void FileTable::Chunk::AddInPlace(uint32_t off, uint32_t len, DigestAlgo algo,
                                  std::string_view digest, uint8_t flags, uint8_t rule) {
  Row r;
  r.path_off = off;
  r.path_len = len;
  r.digest_off = static_cast<uint32_t>(digests.size());
  r.algo = algo;
  r.flags = flags;
  r.rule = rule;
  if (algo != DigestAlgo::kNone) digests.append(digest.substr(0, DigestAlgoSize(algo)));
  rows.push_back(r);
}

FileTable::FileTable()
    : rules_{"dpkg md5sums", "dpkg conffiles", "dpkg list", "apk installed", "rpm filedigests"} {}

uint8_t FileTable::RuleIndex(const std::string& name) {
  auto it = std::find(rules_.begin(), rules_.end(), name);
  if (it != rules_.end()) return static_cast<uint8_t>(it - rules_.begin());
  // Rules come from the readers above; a table never sees hundreds.
  if (rules_.size() == 255) return static_cast<uint8_t>(rules_.size() - 1);
  rules_.push_back(name);
  return static_cast<uint8_t>(rules_.size() - 1);
}

OwnedFile FileTable::At(FileRef ref) const {
  const Chunk& c = chunks_[ref.chunk];
  const Row& r = c.rows[ref.row];
  OwnedFile f;
  f.path = std::string(c.path(ref.row));
  f.package = c.package;
  f.package_index = c.package_index;
  if (r.algo != DigestAlgo::kNone) f.expected = {r.algo, std::string(c.digest(ref.row))};
  f.conffile = (r.flags & kConffile) != 0;
  f.link_digest = (r.flags & kLinkDigest) != 0;
  f.rule = rules_[r.rule];
  return f;
}

void FileTable::push_back(const OwnedFile& f) {
  if (chunks_.empty() || chunks_.back().package != f.package ||
      chunks_.back().package_index != f.package_index) {
    Chunk c;
    c.package = f.package;
    c.package_index = static_cast<uint32_t>(f.package_index);
    starts_.push_back(size_);
    chunks_.push_back(std::move(c));
  }
  uint8_t flags = (f.conffile ? kConffile : 0) | (f.link_digest ? kLinkDigest : 0);
  chunks_.back().Add(f.path, f.expected.algo, f.expected.bytes, flags, RuleIndex(f.rule));
  ++size_;
}

void FileTable::AddChunk(Chunk chunk) {
  if (chunk.rows.empty()) return;
  starts_.push_back(size_);
  size_ += chunk.rows.size();
  chunks_.push_back(std::move(chunk));
}

void FileTable::Append(FileTable&& other, size_t package_offset) {
  std::vector<uint8_t> remap(other.rules_.size());
  for (size_t i = 0; i < other.rules_.size(); ++i) remap[i] = RuleIndex(other.rules_[i]);
  chunks_.reserve(chunks_.size() + other.chunks_.size());
  for (Chunk& c : other.chunks_) {
    c.package_index += static_cast<uint32_t>(package_offset);
    if (other.rules_.size() > kFixedRules) {
      for (Row& r : c.rows) r.rule = remap[r.rule];
    }
    AddChunk(std::move(c));
  }
  other = FileTable();
}

FileRef FileTable::Ref(size_t index) const {
  auto it = std::upper_bound(starts_.begin(), starts_.end(), index);
  size_t c = static_cast<size_t>(it - starts_.begin()) - 1;
  return {static_cast<uint32_t>(c), static_cast<uint32_t>(index - starts_[c])};
}

}  // namespace driftwatch::packages
