#include "packages/verify.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>

#include "packages/installed.h"
#include "packages/root_dir.h"
#include "packages/verify_cache.h"
#include "packages/verify_cache_file.h"
#include "packages/verify_worker.h"

namespace driftwatch::packages {
namespace {

using verify_internal::Group;
using verify_internal::kDigestIsExpected;
using verify_internal::kFoundDigest;
using verify_internal::kGroupsPerClaim;
using verify_internal::kMaxCachedDigest;
using verify_internal::kMaxJobs;
using verify_internal::kProgressEveryNs;
using verify_internal::RawDigest;
using verify_internal::Shared;
using verify_internal::Slot;
using verify_internal::Verifier;

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
  FileTable table;
  for (const OwnedFile& f : files) table.push_back(f);
  return VerifyOwnedFiles(host, root, table, options);
}

Result<VerifyReport> VerifyOwnedFiles(Host& host, const std::string& root, const FileTable& files,
                                      const VerifyOptions& options) {
  DW_ASSIGN_OR_RETURN(UniqueFd root_fd, host.OpenAt(AT_FDCWD, root, O_PATH | O_DIRECTORY));
  // Every file by (path, package): 8 bytes a file, the paths stay where the
  // table keeps them.
  std::vector<FileRef> order;
  order.reserve(files.size());
  for (uint32_t c = 0; c < files.chunks().size(); ++c) {
    const auto& rows = files.chunks()[c].rows;
    for (uint32_t r = 0; r < rows.size(); ++r) order.push_back({c, r});
  }
  std::sort(order.begin(), order.end(), [&](FileRef a, FileRef b) {
    const int by_path = files.path(a).compare(files.path(b));
    if (by_path != 0) return by_path < 0;
    if (a.chunk == b.chunk) return a.row < b.row;
    const int by_package = files.chunk(a).package.compare(files.chunk(b).package);
    if (by_package != 0) return by_package < 0;
    return a.chunk < b.chunk;
  });
  std::vector<Group> groups;
  for (size_t i = 0; i < order.size();) {
    size_t j = i + 1;
    while (j < order.size() && files.path(order[j]) == files.path(order[i])) ++j;
    groups.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(j)});
    i = j;
  }
  auto group_path = [&](size_t k) { return files.path(order[groups[k].begin]); };
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
  const bool keep_cache = options.cache != nullptr || options.cache_sink != nullptr;
  std::vector<Slot> slots;
  if (keep_cache) {
    slots.resize(groups.size());
    shared.slots = &slots;
  }
  const bool have_blob = options.cache != nullptr && !options.cache->empty();
  if (keep_cache && !options.full && (have_blob || options.cache_fd >= 0)) {
    // Both the rows and the groups are in path order: one merge.
    auto reader = have_blob
                      ? CacheReader::Open(*options.cache, root)
                      : CacheReader::OpenFile(host, options.cache_fd, options.cache_size, root);
    if (!reader.ok()) {
      report.warnings.push_back("verification cache: " + reader.status().message() +
                                "; every file is read");
    } else {
      CacheRow row;
      size_t k = 0;
      // Read to the end even past the last group: a streamed cache's
      // checksum is known only there.
      while (reader->Next(&row)) {
        while (k < groups.size() && group_path(k) < row.path) ++k;
        if (k == groups.size() || group_path(k) != row.path) continue;
        if (row.digest.size() > kMaxCachedDigest) continue;
        Slot& slot = slots[k];
        slot.dev = row.dev;
        slot.ino = row.ino;
        slot.size = row.size;
        slot.mtime_ns = row.mtime_ns;
        slot.ctime_ns = row.ctime_ns;
        slot.algo = row.algo;
        slot.digest = kDigestIsExpected;
        bool expected = false;
        for (size_t i = groups[k].begin; i < groups[k].end && !expected; ++i) {
          if (files.row(order[i]).algo == row.algo) expected = files.digest(order[i]) == row.digest;
        }
        if (!expected) {
          RawDigest d{};
          std::memcpy(d.data(), row.digest.data(), row.digest.size());
          slot.digest = static_cast<uint32_t>(shared.loaded_digests.size());
          shared.loaded_digests.push_back(d);
        }
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
  // What the database readers and the old blob left free goes back to the
  // kernel before the workers (and their malloc arenas) start: the peak RSS
  // is what `packages verify` is judged by.
  ::malloc_trim(0);

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

  if (keep_cache) {
    size_t rows = 0;
    for (const Slot& slot : slots) rows += slot.algo != DigestAlgo::kNone;
    CacheWriter writer =
        options.cache_sink ? CacheWriter(root, options.cache_sink) : CacheWriter(root, rows);
    for (size_t k = 0; k < groups.size(); ++k) {
      const Slot& slot = slots[k];
      if (slot.algo == DigestAlgo::kNone) continue;
      CacheRow row;
      row.path = group_path(k);
      row.dev = slot.dev;
      row.ino = slot.ino;
      row.size = slot.size;
      row.mtime_ns = slot.mtime_ns;
      row.ctime_ns = slot.ctime_ns;
      row.algo = slot.algo;
      if (slot.digest == kDigestIsExpected) {
        for (size_t i = groups[k].begin; i < groups[k].end; ++i) {
          if (files.row(order[i]).algo == slot.algo) {
            row.digest = files.digest(order[i]);
            break;
          }
        }
      } else {
        const RawDigest& d = (slot.digest & kFoundDigest) != 0
                                 ? shared.found_digests[slot.digest & ~kFoundDigest]
                                 : shared.loaded_digests[slot.digest];
        row.digest = std::string_view(d.data(), DigestAlgoSize(slot.algo));
      }
      // Groups are distinct paths in ascending order, so Add cannot refuse.
      (void)writer.Add(row);
    }
    std::vector<Slot>().swap(slots);
    std::string blob = writer.Finish();
    if (options.cache != nullptr) *options.cache = std::move(blob);
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
              const FileRef x = files.Ref(a.file);
              const FileRef y = files.Ref(b.file);
              if (files.path(x) != files.path(y)) return files.path(x) < files.path(y);
              if (files.chunk(x).package != files.chunk(y).package) {
                return files.chunk(x).package < files.chunk(y).package;
              }
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
  VerifyOptions options;
  options.jobs = jobs;
  return VerifyPackageFiles(host, root, options, "", warnings);
}

Result<std::vector<DriftEvent>> VerifyPackageFiles(Host& host, const std::string& root,
                                                   const VerifyOptions& options,
                                                   const std::string& cache_path,
                                                   std::vector<std::string>* warnings) {
  DW_ASSIGN_OR_RETURN(PackageDb db, ReadPackageDb(host, root, /*with_files=*/true));
  DW_ASSIGN_OR_RETURN(VerifyReport report,
                      VerifyWithCacheFile(host, root, db.files, options, cache_path));
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
