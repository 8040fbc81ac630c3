#include "core/fanotify_dirs.h"

namespace driftwatch {

bool PathAtOrUnder(std::string_view path, std::string_view dir) {
  if (dir == "/") return path.starts_with('/');
  if (!path.starts_with(dir)) return false;
  return path.size() == dir.size() || path[dir.size()] == '/';
}

const std::string* DirHandleCache::Find(const std::string& handle) const {
  auto it = by_handle_.find(handle);
  return it == by_handle_.end() ? nullptr : &it->second;
}

void DirHandleCache::Insert(const std::string& handle, const std::string& path) {
  Erase(handle);
  auto old = by_path_.find(path);
  if (old != by_path_.end()) Erase(std::string(old->second));
  if (by_handle_.size() >= max_entries_) {
    by_handle_.clear();
    by_path_.clear();
  }
  by_handle_.emplace(handle, path);
  by_path_.emplace(path, handle);
}

void DirHandleCache::ForgetTree(std::string_view path) {
  if (path == "/") {
    by_handle_.clear();
    by_path_.clear();
    return;
  }
  // Paths under `path` sort after it and before any sibling that shares
  // the prefix only (path + "/" sorts right after path + a byte < '/').
  auto it = by_path_.lower_bound(path);
  while (it != by_path_.end() && it->first.starts_with(path)) {
    if (PathAtOrUnder(it->first, path)) {
      by_handle_.erase(it->second);
      it = by_path_.erase(it);
    } else {
      ++it;
    }
  }
}

void DirHandleCache::Erase(const std::string& handle) {
  auto it = by_handle_.find(handle);
  if (it == by_handle_.end()) return;
  by_path_.erase(it->second);
  by_handle_.erase(it);
}

}  // namespace driftwatch
