#include "packages/verify_cache_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>

namespace driftwatch::packages {
namespace {

// Writes a file in pieces beside `path` and renames it over `path` at the
// end (as Host::WriteFileAtomic does for a whole string): readers see the
// old cache or the new, never a part. Mode 0600 (OpenAt's for new files).
class CacheFileWriter {
 public:
  CacheFileWriter(Host& host, std::string path) : host_(host), path_(std::move(path)) {}
  ~CacheFileWriter() { Abandon(); }

  Status Write(std::string_view piece) {
    if (!status_.ok()) return status_;
    if (!fd_.valid()) {
      const size_t slash = path_.rfind('/');
      if (slash != std::string::npos && slash > 0) {
        status_ = MakeDirs(host_, path_.substr(0, slash), 0755);
        if (!status_.ok()) return status_;
      }
      tmp_ = path_ + ".tmp." + std::to_string(::getpid());
      (void)host_.Remove(tmp_);  // left by a run that was killed
      auto fd = host_.OpenAt(AT_FDCWD, tmp_, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW);
      if (!fd.ok()) return status_ = fd.status();
      fd_ = std::move(fd).value();
    }
    return status_ = host_.Write(fd_.get(), piece);
  }
  // Syncs and renames; a writer that never got a piece writes nothing.
  Status Commit() {
    if (status_.ok() && fd_.valid()) status_ = host_.Fsync(fd_.get());
    fd_ = UniqueFd();
    if (status_.ok() && !tmp_.empty()) status_ = host_.Rename(tmp_, path_);
    if (status_.ok()) tmp_.clear();
    Abandon();
    return status_;
  }
  void Abandon() {
    fd_ = UniqueFd();
    if (!tmp_.empty()) (void)host_.Remove(tmp_);
    tmp_.clear();
  }

 private:
  Host& host_;
  std::string path_;
  std::string tmp_;
  UniqueFd fd_;
  Status status_;
};

}  // namespace

std::string DefaultVerifyCachePath(const std::string& root, const std::string& db_path) {
  if (root != "/") return "";
  const size_t slash = db_path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : db_path.substr(0, slash);
  return dir == "/" ? "/packages-verify.cache" : dir + "/packages-verify.cache";
}

Result<VerifyReport> VerifyWithCacheFile(Host& host, const std::string& root,
                                         const FileTable& files, VerifyOptions options,
                                         const std::string& cache_path) {
  options.cache = nullptr;
  options.cache_fd = -1;
  options.cache_sink = nullptr;
  if (cache_path.empty()) return VerifyOwnedFiles(host, root, files, options);
  std::vector<std::string> warnings;
  UniqueFd old_cache;
  if (!options.full) {
    auto fd = host.OpenAt(AT_FDCWD, cache_path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (!fd.ok()) {
      if (fd.status().code() != StatusCode::kNotFound) {
        warnings.push_back("verification cache not read: " + fd.status().message());
      }
    } else if (Status s = host.Fstat(fd->get(), &st); !s.ok()) {
      warnings.push_back("verification cache not read: " + s.message());
    } else if (!S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) > kMaxCacheFileBytes) {
      warnings.push_back("verification cache not read: " + cache_path +
                         ": not a regular file of at most " + std::to_string(kMaxCacheFileBytes) +
                         " bytes");
    } else {
      old_cache = std::move(fd).value();
      options.cache_fd = old_cache.get();
      options.cache_size = static_cast<uint64_t>(st.st_size);
    }
  }
  CacheFileWriter new_cache(host, cache_path);
  options.cache_sink = [&](std::string_view piece) { return new_cache.Write(piece); };
  auto report = VerifyOwnedFiles(host, root, files, options);
  old_cache = UniqueFd();
  if (!report.ok()) return report.status();  // the writer removes its file
  Status saved = new_cache.Commit();
  if (!saved.ok()) warnings.push_back("verification cache not saved: " + saved.message());
  for (std::string& w : warnings) report->warnings.push_back(std::move(w));
  std::sort(report->warnings.begin(), report->warnings.end());
  return report;
}

}  // namespace driftwatch::packages
