// The files every package owns, stored compactly.
//
// A desktop Debian lists about 170,000 owned files. As one OwnedFile each
// (three std::strings and a heap digest, 152 bytes plus the strings) they
// took 43 MB, most of `packages verify`'s memory. Here a run of files of one
// package is a Chunk: their paths back to back in one string, their digests
// back to back in another, and a 16-byte Row per file; the package's name
// and index are the chunk's, the rule is an index into a short table. That
// is about 90 bytes a file on Debian, most of it the path itself.
//
// The table still reads like a std::vector<OwnedFile>: operator[] and the
// iterators build an OwnedFile by value (for output and tests, not for hot
// loops), push_back appends one. Verification walks chunks and rows
// directly (FileRef, path(), digest()).
//
// The dpkg reader builds one chunk per package on worker threads and hands
// them over whole (AddChunk); nothing is copied into a second list.
//
// Thread-safety: a value; concurrent const access is safe.
#ifndef DRIFTWATCH_PACKAGES_FILE_TABLE_H_
#define DRIFTWATCH_PACKAGES_FILE_TABLE_H_

#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "packages/digest.h"

namespace driftwatch::packages {

// One file a package manager recorded, with the checksum it expects.
struct OwnedFile {
  std::string path;     // absolute inside the root, after dpkg diversions
  std::string package;  // package name
  FileDigest expected;  // empty: only existence is checked (dirs, symlinks)
  bool conffile = false;
  // apk records the digest of a symlink's target string; dpkg and rpm never
  // give symlinks a digest.
  bool link_digest = false;
  size_t package_index = 0;  // index into PackageDb::packages
  std::string rule;          // where the expectation comes from, e.g. "dpkg md5sums"
};

// A file's place in a FileTable: its chunk and its row there.
struct FileRef {
  uint32_t chunk = 0;
  uint32_t row = 0;
};

class FileTable {
 public:
  // The rules every reader uses have fixed indices, so that chunks built
  // apart (on worker threads) agree on them.
  enum Rule : uint8_t {
    kRuleDpkgMd5sums = 0,
    kRuleDpkgConffiles,
    kRuleDpkgList,
    kRuleApkInstalled,
    kRuleRpmFiledigests,
    kFixedRules
  };
  enum Flag : uint8_t { kConffile = 1, kLinkDigest = 2 };

  struct Row {
    uint32_t path_off = 0;  // into Chunk::paths
    uint32_t path_len = 0;
    uint32_t digest_off = 0;  // into Chunk::digests, DigestAlgoSize(algo) bytes
    DigestAlgo algo = DigestAlgo::kNone;
    uint8_t flags = 0;
    uint8_t rule = 0;  // index into rules()
    uint8_t unused = 0;
  };

  // Files of one package, in database order.
  struct Chunk {
    std::string package;  // its name
    uint32_t package_index = 0;
    std::string paths;
    std::string digests;
    std::vector<Row> rows;

    // Appends a file. `digest` is raw, DigestAlgoSize(algo) bytes (empty
    // with kNone).
    void Add(std::string_view path, DigestAlgo algo, std::string_view digest, uint8_t flags,
             uint8_t rule);
    // Appends a file whose path already lies in `paths` at [off, off+len).
    void AddInPlace(uint32_t off, uint32_t len, DigestAlgo algo, std::string_view digest,
                    uint8_t flags, uint8_t rule);
    std::string_view path(uint32_t row) const {
      return std::string_view(paths).substr(rows[row].path_off, rows[row].path_len);
    }
    std::string_view digest(uint32_t row) const {
      return std::string_view(digests).substr(rows[row].digest_off, DigestAlgoSize(rows[row].algo));
    }
  };

  FileTable();

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // The i-th file (database order), built by value.
  OwnedFile operator[](size_t i) const { return At(Ref(i)); }
  OwnedFile At(FileRef ref) const;
  void push_back(const OwnedFile& f);

  // Takes a chunk over whole; an empty one is dropped.
  void AddChunk(Chunk chunk);
  // Moves every chunk of `other` to the end of this table, adding `offset`
  // to their package indices.
  void Append(FileTable&& other, size_t package_offset);

  const std::vector<Chunk>& chunks() const { return chunks_; }
  const Chunk& chunk(FileRef ref) const { return chunks_[ref.chunk]; }
  std::string_view path(FileRef ref) const { return chunks_[ref.chunk].path(ref.row); }
  const Row& row(FileRef ref) const { return chunks_[ref.chunk].rows[ref.row]; }
  std::string_view digest(FileRef ref) const { return chunks_[ref.chunk].digest(ref.row); }
  const std::string& rule_name(uint8_t rule) const { return rules_[rule]; }

  // Database-order index <-> ref.
  size_t Index(FileRef ref) const { return starts_[ref.chunk] + ref.row; }
  FileRef Ref(size_t index) const;

  // Iterates OwnedFile values in database order.
  class const_iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = OwnedFile;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = OwnedFile;
    const_iterator(const FileTable* t, size_t i) : t_(t), i_(i) {}
    OwnedFile operator*() const { return (*t_)[i_]; }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const const_iterator& o) const { return i_ == o.i_; }
    bool operator!=(const const_iterator& o) const { return i_ != o.i_; }

   private:
    const FileTable* t_;
    size_t i_;
  };
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size_}; }

 private:
  uint8_t RuleIndex(const std::string& name);

  std::vector<Chunk> chunks_;
  std::vector<size_t> starts_;  // starts_[c]: database index of chunks_[c].rows[0]
  std::vector<std::string> rules_;
  size_t size_ = 0;
};

}  // namespace driftwatch::packages

#endif  // DRIFTWATCH_PACKAGES_FILE_TABLE_H_
