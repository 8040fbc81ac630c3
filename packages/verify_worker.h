// The worker side of package file verification (verify.h): what one
// thread does with a group of owners of one path (lstat, the cache slot,
// reading and hashing, the findings), and the state the workers share.
// Internal to packages/verify.cc; split out to keep each file to one job.
//
// Thread-safety: one Verifier per worker thread; Shared is used as its
// comments say.
#ifndef DRIFTWATCH_PACKAGES_VERIFY_WORKER_H_
#define DRIFTWATCH_PACKAGES_VERIFY_WORKER_H_

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/entry.h"
#include "core/host.h"
#include "packages/file_table.h"
#include "packages/root_dir.h"
#include "packages/verify.h"

namespace driftwatch::packages::verify_internal {

constexpr size_t kReadBuffer = 256 * 1024;
constexpr size_t kGroupsPerClaim = 16;
constexpr int kMaxJobs = 64;
constexpr size_t kMaxCachedDigest = 32;
constexpr int64_t kProgressEveryNs = 100'000'000;

inline int64_t MtimeNs(const struct stat& st) {
  return int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
}
inline int64_t CtimeNs(const struct stat& st) {
  return int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec;
}

// A slot's digest is most often the one its package expects: then it is not
// stored again. Other digests (modified files) live in a side list.
constexpr uint32_t kDigestIsExpected = UINT32_MAX;
constexpr uint32_t kFoundDigest = 1u << 31;  // found by a worker, not loaded

// One path's cache row, in the order of the groups: loaded from the previous
// run's cache, then replaced by what this run found. algo kNone: no row.
// 48 bytes (the stat tuple and a reference to the digest).
struct Slot {
  uint64_t dev = 0, ino = 0, size = 0;
  int64_t mtime_ns = 0, ctime_ns = 0;
  uint32_t digest = kDigestIsExpected;  // else an index into the side lists, see Shared
  DigestAlgo algo = DigestAlgo::kNone;

  bool Matches(const struct stat& st) const {
    return algo != DigestAlgo::kNone && dev == static_cast<uint64_t>(st.st_dev) &&
           ino == static_cast<uint64_t>(st.st_ino) && size == static_cast<uint64_t>(st.st_size) &&
           mtime_ns == MtimeNs(st) && ctime_ns == CtimeNs(st);
  }
};

using RawDigest = std::array<char, kMaxCachedDigest>;

// Shared by the workers of one verification.
struct Shared {
  std::vector<Slot>* slots = nullptr;  // null without a cache
  // Digests other than the expected one: loaded from the cache (filled
  // before the workers start, read-only after) and found by the workers
  // (appended under found_mu, read after they are done).
  std::vector<RawDigest> loaded_digests;
  std::vector<RawDigest> found_digests;
  std::mutex found_mu;
  int64_t started_ns = 0;
  int64_t racy_window_ns = 0;
  const std::function<void(const VerifyProgress&)>* progress = nullptr;
  uint64_t paths_total = 0;
  std::atomic<uint64_t> paths_done{0}, hashed{0}, bytes{0}, cached{0};
  std::atomic<int64_t> last_progress_ns{0};
  std::mutex progress_mu;  // serializes the progress callback
};

inline Entry EntryFromStat(const std::string& name, const struct stat& st) {
  Entry e;
  e.name = name;
  EntryTypeFromMode(st.st_mode, &e.type);
  e.mask = kAttrType | kAttrPerm | kAttrUid | kAttrGid | kAttrSize | kAttrMtime;
  e.mode = st.st_mode & 07777;
  e.uid = st.st_uid;
  e.gid = st.st_gid;
  e.size = static_cast<uint64_t>(st.st_size);
  e.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  return e;
}

// The files that share one path: checked with one lstat and one read.
struct Group {
  uint32_t begin, end;  // range in the sorted refs
};

class Verifier {
 public:
  Verifier(Host& host, int root_fd, const FileTable& files, const std::vector<FileRef>& order,
           Shared& shared)
      : host_(host), root_fd_(root_fd), files_(files), order_(order), shared_(shared) {}

  // Results of one worker.
  struct Output {
    std::vector<FileFinding> findings;
    std::vector<std::string> warnings;
    uint64_t paths = 0, hashed = 0, bytes = 0, cached = 0;
  };

  // Checks group number k. Its cache slot (if any) is touched by this
  // worker only.
  void CheckGroup(size_t k, const Group& g, Output* out) {
    slot_ = shared_.slots != nullptr ? &(*shared_.slots)[k] : nullptr;
    Slot old;
    if (slot_ != nullptr) {
      old = *slot_;
      slot_->algo = DigestAlgo::kNone;  // kept only when this run vouches for it
    }
    CheckPath(g, old, out);
  }

 private:
  FileRef Ref(size_t i) const { return order_[i]; }
  size_t Index(size_t i) const { return files_.Index(order_[i]); }
  DigestAlgo AlgoOf(size_t i) const { return files_.row(order_[i]).algo; }

  void CheckPath(const Group& g, const Slot& old, Output* out) {
    const std::string_view path = files_.path(Ref(g.begin));
    ++out->paths;
    PathInRoot where = SplitInRoot(path);
    if (where.name.empty()) return;  // the root itself
    if (where.dir != cached_dir_ || !cache_valid_) {
      cached_dir_ = where.dir;
      cache_valid_ = true;
      cached_status_ = OpenDir(where.dir);
    }
    if (!cached_status_.ok()) {
      if (cached_status_.code() == StatusCode::kNotFound) {
        AllFindings(g, FileProblem::kMissing, out);
      } else {
        out->warnings.push_back(std::string(path) + ": " + cached_status_.message());
      }
      return;
    }
    struct stat st;
    Status s = host_.StatAt(dir_fd_, where.name, &st);
    if (!s.ok()) {
      if (s.code() == StatusCode::kNotFound) {
        AllFindings(g, FileProblem::kMissing, out);
      } else {
        out->warnings.push_back(std::string(path) + ": " + s.message());
      }
      return;
    }
    bool wants_digest = false;
    for (size_t i = g.begin; i < g.end; ++i) wants_digest |= AlgoOf(i) != DigestAlgo::kNone;
    if (!wants_digest) return;
    Entry entry = EntryFromStat(where.name, st);
    if (S_ISREG(st.st_mode)) {
      CheckContent(g, where.name, st, old, entry, out);
    } else if (S_ISLNK(st.st_mode)) {
      CheckLink(g, where.name, entry, out);
    } else {
      for (size_t i = g.begin; i < g.end; ++i) {
        if (AlgoOf(i) != DigestAlgo::kNone) {
          out->findings.push_back({Index(i), FileProblem::kType, {}, entry});
        }
      }
    }
  }

  void AllFindings(const Group& g, FileProblem problem, Output* out) {
    for (size_t i = g.begin; i < g.end; ++i) out->findings.push_back({Index(i), problem, {}, {}});
  }

  // The digest an owner of the group expects with `algo` (the first such
  // owner in the group's order).
  std::string_view ExpectedOf(const Group& g, DigestAlgo algo) const {
    for (size_t i = g.begin; i < g.end; ++i) {
      if (AlgoOf(i) == algo) return files_.digest(Ref(i));
    }
    return {};
  }

  std::string_view SlotDigest(const Group& g, const Slot& slot) const {
    if (slot.digest == kDigestIsExpected) return ExpectedOf(g, slot.algo);
    const RawDigest& d = (slot.digest & kFoundDigest) != 0
                             ? shared_.found_digests[slot.digest & ~kFoundDigest]
                             : shared_.loaded_digests[slot.digest];
    return std::string_view(d.data(), DigestAlgoSize(slot.algo));
  }

  // Hashes the file once per distinct algorithm among its owners.
  void CheckContent(const Group& g, const std::string& name, const struct stat& st, const Slot& old,
                    const Entry& entry, Output* out) {
    const std::string_view path = files_.path(Ref(g.begin));
    DigestAlgo algos[8];
    size_t n_algos = 0;
    for (size_t i = g.begin; i < g.end; ++i) {
      DigestAlgo a = AlgoOf(i);
      if (a != DigestAlgo::kNone && std::find(algos, algos + n_algos, a) == algos + n_algos) {
        algos[n_algos++] = a;  // at most one per DigestAlgo value
      }
    }
    // One algorithm: the file's digest may come from (and go to) the cache.
    const bool cacheable =
        slot_ != nullptr && n_algos == 1 && DigestAlgoSize(algos[0]) <= kMaxCachedDigest;
    if (cacheable && old.algo == algos[0] && old.Matches(st)) {
      *slot_ = old;
      ++out->cached;
      shared_.cached.fetch_add(1, std::memory_order_relaxed);
      std::string_view digest = SlotDigest(g, old);
      Compare(g, algos, n_algos, &digest, entry, out);
      return;
    }
    auto fd = host_.OpenAt(dir_fd_, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
    if (!fd.ok()) {
      if (fd.status().code() == StatusCode::kNotFound) {
        AllFindings(g, FileProblem::kMissing, out);
      } else {
        out->warnings.push_back(std::string(path) + ": " + fd.status().message());
      }
      return;
    }
    struct stat now;
    Status s = host_.Fstat(fd->get(), &now);
    if (!s.ok() || !S_ISREG(now.st_mode) || now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
      out->warnings.push_back(std::string(path) + ": changed while being verified");
      return;
    }
    // The moment the file counts as read at, for the racy rule: the start of
    // the run, or now if the clock was set back since.
    const int64_t read_ns = std::min(shared_.started_ns, host_.NowNs());
    std::vector<std::unique_ptr<DigestHasher>> hashers;
    for (size_t k = 0; k < n_algos; ++k)
      hashers.push_back(std::make_unique<DigestHasher>(algos[k]));
    if (buffer_.empty()) buffer_.resize(kReadBuffer);
    for (;;) {
      auto n = host_.Read(fd->get(), buffer_.data(), buffer_.size());
      if (!n.ok()) {
        out->warnings.push_back(std::string(path) + ": " + n.status().message());
        return;
      }
      if (*n == 0) break;
      for (auto& h : hashers) h->Update(buffer_.data(), *n);
      out->bytes += *n;
      shared_.bytes.fetch_add(*n, std::memory_order_relaxed);
    }
    ++out->hashed;
    shared_.hashed.fetch_add(1, std::memory_order_relaxed);
    std::vector<FileDigest> actual;
    std::string_view views[8];
    for (size_t k = 0; k < n_algos; ++k) actual.push_back(hashers[k]->Finish());
    for (size_t k = 0; k < n_algos; ++k) views[k] = actual[k].bytes;
    // A settled file (not modified within the racy window of its reading,
    // and unchanged between lstat and open) gets a cache row.
    const int64_t settled_before = read_ns - shared_.racy_window_ns;
    if (cacheable && now.st_size == st.st_size && MtimeNs(now) == MtimeNs(st) &&
        CtimeNs(now) == CtimeNs(st) && MtimeNs(st) < settled_before &&
        CtimeNs(st) < settled_before) {
      Slot& row = *slot_;
      row.dev = static_cast<uint64_t>(st.st_dev);
      row.ino = static_cast<uint64_t>(st.st_ino);
      row.size = static_cast<uint64_t>(st.st_size);
      row.mtime_ns = MtimeNs(st);
      row.ctime_ns = CtimeNs(st);
      row.algo = algos[0];
      if (views[0] == ExpectedOf(g, algos[0])) {
        row.digest = kDigestIsExpected;
      } else {
        RawDigest d{};
        std::memcpy(d.data(), views[0].data(), views[0].size());
        std::lock_guard lock(shared_.found_mu);
        row.digest = static_cast<uint32_t>(shared_.found_digests.size()) | kFoundDigest;
        shared_.found_digests.push_back(d);
      }
    }
    Compare(g, algos, n_algos, views, entry, out);
  }

  // Findings for the owners whose expected digest differs from the actual
  // one (actual[k] is the digest with algos[k]).
  void Compare(const Group& g, const DigestAlgo* algos, size_t n_algos,
               const std::string_view* actual, const Entry& entry, Output* out) {
    for (size_t i = g.begin; i < g.end; ++i) {
      const DigestAlgo algo = AlgoOf(i);
      if (algo == DigestAlgo::kNone) continue;
      size_t k = static_cast<size_t>(std::find(algos, algos + n_algos, algo) - algos);
      if (actual[k] != files_.digest(Ref(i))) {
        out->findings.push_back(
            {Index(i), FileProblem::kContent, FileDigest{algo, std::string(actual[k])}, entry});
      }
    }
  }

  // apk records the digest of a symlink's target; others expect a file.
  void CheckLink(const Group& g, const std::string& name, const Entry& entry, Output* out) {
    std::optional<std::string> target;
    for (size_t i = g.begin; i < g.end; ++i) {
      const DigestAlgo algo = AlgoOf(i);
      if (algo == DigestAlgo::kNone) continue;
      if ((files_.row(Ref(i)).flags & FileTable::kLinkDigest) == 0) {
        out->findings.push_back({Index(i), FileProblem::kType, {}, entry});
        continue;
      }
      if (!target) {
        auto t = host_.ReadLinkAt(dir_fd_, name);
        if (!t.ok()) {
          out->warnings.push_back(std::string(files_.path(Ref(i))) + ": " + t.status().message());
          return;
        }
        target = std::move(t).value();
      }
      FileDigest actual = DigestHasher::Of(algo, *target);
      if (actual.bytes != files_.digest(Ref(i))) {
        Entry e = entry;
        e.link_target = *target;
        out->findings.push_back({Index(i), FileProblem::kContent, std::move(actual), e});
      }
    }
  }

  Host& host_;
  int root_fd_;
  const FileTable& files_;
  const std::vector<FileRef>& order_;
  Shared& shared_;
  Slot* slot_ = nullptr;
  // Opens `dir` (normalized, from SplitInRoot) into dir_fd_. Paths come in
  // sorted order, so consecutive directories share most of their parents:
  // the chain of directories opened for the previous one is kept and only
  // the components past the shared prefix are opened (one openat each
  // instead of one per component). A component that is not a plain
  // directory (a symlink, or missing) is resolved from the root by
  // OpenDirInRoot, as before, and ends the chain there.
  Status OpenDir(const std::string& dir) {
    std::vector<std::string_view> parts;
    for (size_t i = 1; i < dir.size();) {
      size_t j = dir.find('/', i);
      if (j == std::string::npos) j = dir.size();
      parts.push_back(std::string_view(dir).substr(i, j - i));
      i = j + 1;
    }
    size_t common = 0;
    while (common < parts.size() && common < chain_names_.size() &&
           chain_names_[common] == parts[common]) {
      ++common;
    }
    chain_names_.resize(common);
    chain_fds_.resize(common);
    for (size_t i = common; i < parts.size(); ++i) {
      int parent = i == 0 ? root_fd_ : chain_fds_[i - 1].get();
      auto fd = host_.OpenAt(parent, std::string(parts[i]), O_PATH | O_DIRECTORY | O_NOFOLLOW);
      if (!fd.ok()) {
        auto resolved = OpenDirInRoot(host_, root_fd_, dir);
        if (!resolved.ok()) return resolved.status();
        fallback_fd_ = std::move(resolved).value();
        dir_fd_ = fallback_fd_.get();
        return Status::Ok();
      }
      chain_names_.emplace_back(parts[i]);
      chain_fds_.push_back(std::move(fd).value());
    }
    dir_fd_ = chain_fds_.empty() ? root_fd_ : chain_fds_.back().get();
    return Status::Ok();
  }

  std::string cached_dir_;
  bool cache_valid_ = false;
  Status cached_status_;
  std::vector<std::string> chain_names_;  // components of the last plain chain
  std::vector<UniqueFd> chain_fds_;       // chain_fds_[i]: directory of components 0..i
  UniqueFd fallback_fd_;                  // the last directory reached through a symlink
  int dir_fd_ = -1;                       // borrowed: the directory of cached_dir_
  std::vector<char> buffer_;
};

}  // namespace driftwatch::packages::verify_internal

#endif  // DRIFTWATCH_PACKAGES_VERIFY_WORKER_H_
