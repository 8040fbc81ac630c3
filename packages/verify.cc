#include "packages/verify.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <numeric>
#include <thread>

#include "packages/installed.h"
#include "packages/root_dir.h"
#include "packages/verify_cache.h"

namespace driftwatch::packages {
namespace {

constexpr size_t kReadBuffer = 256 * 1024;
constexpr size_t kGroupsPerClaim = 16;
constexpr int kMaxJobs = 64;
constexpr size_t kMaxCachedDigest = 32;
constexpr int64_t kProgressEveryNs = 100'000'000;

int64_t MtimeNs(const struct stat& st) {
  return int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
}
int64_t CtimeNs(const struct stat& st) {
  return int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec;
}

// One path's cache row, in the order of the groups: loaded from the previous
// run's cache, then replaced by what this run found. algo kNone: no row.
struct Slot {
  uint64_t dev = 0, ino = 0, size = 0;
  int64_t mtime_ns = 0, ctime_ns = 0;
  DigestAlgo algo = DigestAlgo::kNone;
  uint8_t digest[kMaxCachedDigest];

  bool Matches(const struct stat& st) const {
    return algo != DigestAlgo::kNone && dev == static_cast<uint64_t>(st.st_dev) &&
           ino == static_cast<uint64_t>(st.st_ino) && size == static_cast<uint64_t>(st.st_size) &&
           mtime_ns == MtimeNs(st) && ctime_ns == CtimeNs(st);
  }
};

// Shared by the workers of one verification.
struct Shared {
  std::vector<Slot>* slots = nullptr;  // null without a cache
  int64_t started_ns = 0;
  int64_t racy_window_ns = 0;
  const std::function<void(const VerifyProgress&)>* progress = nullptr;
  uint64_t paths_total = 0;
  std::atomic<uint64_t> paths_done{0}, hashed{0}, bytes{0}, cached{0};
  std::atomic<int64_t> last_progress_ns{0};
  std::mutex progress_mu;  // serializes the progress callback
};

Entry EntryFromStat(const std::string& name, const struct stat& st) {
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
  size_t begin, end;  // range in the sorted index
};

class Verifier {
 public:
  Verifier(Host& host, int root_fd, const std::vector<OwnedFile>& files,
           const std::vector<size_t>& order, Shared& shared)
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
  void CheckPath(const Group& g, const Slot& old, Output* out) {
    const std::string& path = files_[order_[g.begin]].path;
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
        out->warnings.push_back(path + ": " + cached_status_.message());
      }
      return;
    }
    struct stat st;
    Status s = host_.StatAt(dir_fd_, where.name, &st);
    if (!s.ok()) {
      if (s.code() == StatusCode::kNotFound) {
        AllFindings(g, FileProblem::kMissing, out);
      } else {
        out->warnings.push_back(path + ": " + s.message());
      }
      return;
    }
    bool wants_digest = false;
    for (size_t i = g.begin; i < g.end; ++i) wants_digest |= !files_[order_[i]].expected.empty();
    if (!wants_digest) return;
    Entry entry = EntryFromStat(where.name, st);
    if (S_ISREG(st.st_mode)) {
      CheckContent(g, where.name, st, old, entry, out);
    } else if (S_ISLNK(st.st_mode)) {
      CheckLink(g, where.name, entry, out);
    } else {
      for (size_t i = g.begin; i < g.end; ++i) {
        if (!files_[order_[i]].expected.empty()) {
          out->findings.push_back({order_[i], FileProblem::kType, {}, entry});
        }
      }
    }
  }

  void AllFindings(const Group& g, FileProblem problem, Output* out) {
    for (size_t i = g.begin; i < g.end; ++i) out->findings.push_back({order_[i], problem, {}, {}});
  }

  // Hashes the file once per distinct algorithm among its owners.
  void CheckContent(const Group& g, const std::string& name, const struct stat& st, const Slot& old,
                    const Entry& entry, Output* out) {
    const std::string& path = files_[order_[g.begin]].path;
    std::vector<DigestAlgo> algos;
    for (size_t i = g.begin; i < g.end; ++i) {
      DigestAlgo a = files_[order_[i]].expected.algo;
      if (a != DigestAlgo::kNone && std::find(algos.begin(), algos.end(), a) == algos.end()) {
        algos.push_back(a);
      }
    }
    // One algorithm: the file's digest may come from (and go to) the cache.
    const bool cacheable =
        slot_ != nullptr && algos.size() == 1 && DigestAlgoSize(algos[0]) <= kMaxCachedDigest;
    if (cacheable && old.algo == algos[0] && old.Matches(st)) {
      *slot_ = old;
      ++out->cached;
      shared_.cached.fetch_add(1, std::memory_order_relaxed);
      FileDigest actual{old.algo, std::string(reinterpret_cast<const char*>(old.digest),
                                              DigestAlgoSize(old.algo))};
      Compare(g, algos, {std::move(actual)}, entry, out);
      return;
    }
    auto fd = host_.OpenAt(dir_fd_, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
    if (!fd.ok()) {
      if (fd.status().code() == StatusCode::kNotFound) {
        AllFindings(g, FileProblem::kMissing, out);
      } else {
        out->warnings.push_back(path + ": " + fd.status().message());
      }
      return;
    }
    struct stat now;
    Status s = host_.Fstat(fd->get(), &now);
    if (!s.ok() || !S_ISREG(now.st_mode) || now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
      out->warnings.push_back(path + ": changed while being verified");
      return;
    }
    // The moment the file counts as read at, for the racy rule: the start of
    // the run, or now if the clock was set back since.
    const int64_t read_ns = std::min(shared_.started_ns, host_.NowNs());
    std::vector<std::unique_ptr<DigestHasher>> hashers;
    for (DigestAlgo a : algos) hashers.push_back(std::make_unique<DigestHasher>(a));
    if (buffer_.empty()) buffer_.resize(kReadBuffer);
    for (;;) {
      auto n = host_.Read(fd->get(), buffer_.data(), buffer_.size());
      if (!n.ok()) {
        out->warnings.push_back(path + ": " + n.status().message());
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
    for (auto& h : hashers) actual.push_back(h->Finish());
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
      std::memcpy(row.digest, actual[0].bytes.data(), actual[0].bytes.size());
    }
    Compare(g, algos, actual, entry, out);
  }

  // Findings for the owners whose expected digest differs from `actual`
  // (one digest per algorithm in `algos`).
  void Compare(const Group& g, const std::vector<DigestAlgo>& algos,
               const std::vector<FileDigest>& actual, const Entry& entry, Output* out) {
    for (size_t i = g.begin; i < g.end; ++i) {
      const OwnedFile& f = files_[order_[i]];
      if (f.expected.empty()) continue;
      size_t k = static_cast<size_t>(std::find(algos.begin(), algos.end(), f.expected.algo) -
                                     algos.begin());
      if (actual[k] != f.expected) {
        out->findings.push_back({order_[i], FileProblem::kContent, actual[k], entry});
      }
    }
  }

  // apk records the digest of a symlink's target; others expect a file.
  void CheckLink(const Group& g, const std::string& name, const Entry& entry, Output* out) {
    std::optional<std::string> target;
    for (size_t i = g.begin; i < g.end; ++i) {
      const OwnedFile& f = files_[order_[i]];
      if (f.expected.empty()) continue;
      if (!f.link_digest) {
        out->findings.push_back({order_[i], FileProblem::kType, {}, entry});
        continue;
      }
      if (!target) {
        auto t = host_.ReadLinkAt(dir_fd_, name);
        if (!t.ok()) {
          out->warnings.push_back(f.path + ": " + t.status().message());
          return;
        }
        target = std::move(t).value();
      }
      FileDigest actual = DigestHasher::Of(f.expected.algo, *target);
      if (actual != f.expected) {
        Entry e = entry;
        e.link_target = *target;
        out->findings.push_back({order_[i], FileProblem::kContent, actual, e});
      }
    }
  }

  Host& host_;
  int root_fd_;
  const std::vector<OwnedFile>& files_;
  const std::vector<size_t>& order_;
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

}  // namespace

std::string_view FileProblemName(FileProblem p) {
  switch (p) {
    case FileProblem::kMissing:
      return "missing";
    case FileProblem::kContent:
      return "content";
    case FileProblem::kType:
      return "type";
  }
  return "unknown";
}

Result<VerifyReport> VerifyOwnedFiles(Host& host, const std::string& root,
                                      const std::vector<OwnedFile>& files, int jobs) {
  VerifyOptions options;
  options.jobs = jobs;
  return VerifyOwnedFiles(host, root, files, options);
}

Result<VerifyReport> VerifyOwnedFiles(Host& host, const std::string& root,
                                      const std::vector<OwnedFile>& files,
                                      const VerifyOptions& options) {
  DW_ASSIGN_OR_RETURN(UniqueFd root_fd, host.OpenAt(AT_FDCWD, root, O_PATH | O_DIRECTORY));
  std::vector<size_t> order(files.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (files[a].path != files[b].path) return files[a].path < files[b].path;
    return files[a].package < files[b].package;
  });
  std::vector<Group> groups;
  for (size_t i = 0; i < order.size();) {
    size_t j = i + 1;
    while (j < order.size() && files[order[j]].path == files[order[i]].path) ++j;
    groups.push_back({i, j});
    i = j;
  }
  int jobs = options.jobs;
  if (jobs <= 0) jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  jobs = std::min(jobs, kMaxJobs);

  VerifyReport report;
  Shared shared;
  shared.started_ns = host.NowNs();
  shared.racy_window_ns = options.racy_window_ns;
  shared.paths_total = groups.size();
  // The first report after one interval: an estimate from the first few
  // paths says little.
  shared.last_progress_ns = host.MonotonicNs();
  if (options.progress) shared.progress = &options.progress;
  std::vector<Slot> slots;
  if (options.cache != nullptr) {
    slots.resize(groups.size());
    shared.slots = &slots;
  }
  if (options.cache != nullptr && !options.full && !options.cache->empty()) {
    // Both the rows and the groups are in path order: one merge.
    auto reader = CacheReader::Open(*options.cache, root);
    if (!reader.ok()) {
      report.warnings.push_back("verification cache: " + reader.status().message() +
                                "; every file is read");
    } else {
      CacheRow row;
      size_t k = 0;
      while (reader->Next(&row)) {
        while (k < groups.size() &&
               std::string_view(files[order[groups[k].begin]].path) < row.path) {
          ++k;
        }
        if (k == groups.size()) break;
        if (files[order[groups[k].begin]].path != row.path) continue;
        if (row.digest.size() > kMaxCachedDigest) continue;
        Slot& slot = slots[k];
        slot.dev = row.dev;
        slot.ino = row.ino;
        slot.size = row.size;
        slot.mtime_ns = row.mtime_ns;
        slot.ctime_ns = row.ctime_ns;
        slot.algo = row.algo;
        std::memcpy(slot.digest, row.digest.data(), row.digest.size());
      }
      if (!reader->status().ok()) {
        report.warnings.push_back("verification cache: " + reader->status().message() +
                                  "; every file is read");
        for (Slot& slot : slots) slot.algo = DigestAlgo::kNone;
      }
    }
  }
  // The rows are in the slots now; the blob's memory is not needed while
  // files are read (it is about as large as the new one to be written).
  if (options.cache != nullptr) std::string().swap(*options.cache);

  auto report_progress = [&](bool force) {
    if (shared.progress == nullptr) return;
    int64_t now = host.MonotonicNs();
    int64_t last = shared.last_progress_ns.load(std::memory_order_relaxed);
    if (!force && now - last < kProgressEveryNs) return;
    std::unique_lock lock(shared.progress_mu, std::try_to_lock);
    if (!lock.owns_lock()) return;
    shared.last_progress_ns.store(now, std::memory_order_relaxed);
    VerifyProgress p;
    p.paths_total = shared.paths_total;
    p.paths_done = shared.paths_done.load(std::memory_order_relaxed);
    p.files_hashed = shared.hashed.load(std::memory_order_relaxed);
    p.bytes_hashed = shared.bytes.load(std::memory_order_relaxed);
    p.files_cached = shared.cached.load(std::memory_order_relaxed);
    (*shared.progress)(p);
  };

  std::atomic<size_t> next{0};
  std::vector<Verifier::Output> outputs(static_cast<size_t>(jobs));
  auto work = [&](size_t w) {
    Verifier v(host, root_fd.get(), files, order, shared);
    for (;;) {
      size_t start = next.fetch_add(kGroupsPerClaim);
      if (start >= groups.size()) break;
      size_t stop = std::min(groups.size(), start + kGroupsPerClaim);
      for (size_t k = start; k < stop; ++k) v.CheckGroup(k, groups[k], &outputs[w]);
      shared.paths_done.fetch_add(stop - start, std::memory_order_relaxed);
      report_progress(false);
    }
  };
  if (jobs == 1) {
    work(0);
  } else {
    std::vector<std::thread> threads;
    for (int w = 0; w < jobs; ++w) threads.emplace_back(work, static_cast<size_t>(w));
    for (std::thread& t : threads) t.join();
  }
  report_progress(true);

  if (options.cache != nullptr) {
    size_t rows = 0;
    for (const Slot& slot : slots) rows += slot.algo != DigestAlgo::kNone;
    CacheWriter writer(root, rows);
    for (size_t k = 0; k < groups.size(); ++k) {
      const Slot& slot = slots[k];
      if (slot.algo == DigestAlgo::kNone) continue;
      CacheRow row;
      row.path = files[order[groups[k].begin]].path;
      row.dev = slot.dev;
      row.ino = slot.ino;
      row.size = slot.size;
      row.mtime_ns = slot.mtime_ns;
      row.ctime_ns = slot.ctime_ns;
      row.algo = slot.algo;
      row.digest =
          std::string_view(reinterpret_cast<const char*>(slot.digest), DigestAlgoSize(slot.algo));
      // Groups are distinct paths in ascending order, so Add cannot refuse.
      (void)writer.Add(row);
    }
    std::vector<Slot>().swap(slots);
    *options.cache = writer.Finish();
  }

  for (Verifier::Output& o : outputs) {
    report.paths_checked += o.paths;
    report.files_hashed += o.hashed;
    report.bytes_hashed += o.bytes;
    report.files_cached += o.cached;
    for (FileFinding& f : o.findings) report.findings.push_back(std::move(f));
    for (std::string& w : o.warnings) report.warnings.push_back(std::move(w));
  }
  std::sort(report.findings.begin(), report.findings.end(),
            [&](const FileFinding& a, const FileFinding& b) {
              const OwnedFile& x = files[a.file];
              const OwnedFile& y = files[b.file];
              if (x.path != y.path) return x.path < y.path;
              if (x.package != y.package) return x.package < y.package;
              return a.file < b.file;
            });
  std::sort(report.warnings.begin(), report.warnings.end());
  return report;
}

DriftEvent FindingToEvent(const OwnedFile& file, const FileFinding& finding) {
  DriftEvent e;
  e.path = file.path;
  e.kind = DriftKind::kPackageFileModified;
  e.package = file.package;
  e.rule = file.rule;
  e.severity = Severity::kMedium;
  switch (finding.problem) {
    case FileProblem::kMissing:
      break;
    case FileProblem::kContent:
      e.changed = kAttrHash;
      e.new_entry = finding.entry;
      if (file.conffile) e.severity = Severity::kHigh;
      break;
    case FileProblem::kType:
      e.changed = kAttrType;
      e.new_entry = finding.entry;
      if (file.conffile) e.severity = Severity::kHigh;
      break;
  }
  return e;
}

Result<std::vector<DriftEvent>> VerifyPackageFiles(Host& host, const std::string& root, int jobs,
                                                   std::vector<std::string>* warnings) {
  DW_ASSIGN_OR_RETURN(PackageDb db, ReadPackageDb(host, root, /*with_files=*/true));
  DW_ASSIGN_OR_RETURN(VerifyReport report, VerifyOwnedFiles(host, root, db.files, jobs));
  std::vector<DriftEvent> events;
  events.reserve(report.findings.size());
  for (const FileFinding& f : report.findings) {
    DriftEvent e = FindingToEvent(db.files[f.file], f);
    // Multiarch copies of one package own the same paths: report them once.
    if (!events.empty() && events.back().path == e.path && events.back().package == e.package &&
        events.back().changed == e.changed) {
      continue;
    }
    events.push_back(std::move(e));
  }
  if (warnings != nullptr) {
    for (std::string& w : report.warnings) warnings->push_back(std::move(w));
  }
  return events;
}

}  // namespace driftwatch::packages
