// Paths of directories known by their file handle, for the fanotify source
// (core/fanotify.cc): a bounded cache from handle bytes to absolute path.
//
// A cached path is right until the directory or one of its ancestors moves
// or is removed; the source tells the cache with ForgetTree for every
// directory event of that kind before it asks the cache about later events.
//
// Thread-safety: none (the source's reader thread).
#ifndef DRIFTWATCH_CORE_FANOTIFY_DIRS_H_
#define DRIFTWATCH_CORE_FANOTIFY_DIRS_H_

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

namespace driftwatch {

class DirHandleCache {
 public:
  explicit DirHandleCache(size_t max_entries = 8192) : max_entries_(max_entries) {}

  // The cached path of `handle`, or nullptr.
  const std::string* Find(const std::string& handle) const;
  // Caches `path` for `handle`, replacing what either had. When full, the
  // cache is emptied first (it refills from the kernel).
  void Insert(const std::string& handle, const std::string& path);
  // Forgets `path` and every path under it.
  void ForgetTree(std::string_view path);
  size_t size() const { return by_handle_.size(); }

 private:
  void Erase(const std::string& handle);

  size_t max_entries_;
  std::unordered_map<std::string, std::string> by_handle_;
  std::map<std::string, std::string, std::less<>> by_path_;  // path -> handle
};

// Whether `path` is `dir` or under it ("/" holds every absolute path).
bool PathAtOrUnder(std::string_view path, std::string_view dir);

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_FANOTIFY_DIRS_H_
