#include "packages/root_dir.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <deque>
#include <vector>

namespace driftwatch::packages {
namespace {

std::vector<std::string> Components(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t start = i;
    while (i < path.size() && path[i] != '/') ++i;
    if (i > start) out.emplace_back(path.substr(start, i - start));
  }
  return out;
}

}  // namespace

PathInRoot SplitInRoot(std::string_view path) {
  std::vector<std::string> stack;
  for (std::string& c : Components(path)) {
    if (c == ".") continue;
    if (c == "..") {
      if (!stack.empty()) stack.pop_back();
      continue;
    }
    stack.push_back(std::move(c));
  }
  PathInRoot out;
  if (stack.empty()) {
    out.dir = "/";
    return out;
  }
  out.name = std::move(stack.back());
  stack.pop_back();
  for (const std::string& c : stack) out.dir += "/" + c;
  if (out.dir.empty()) out.dir = "/";
  return out;
}

Result<UniqueFd> OpenDirInRoot(Host& host, int root_fd, std::string_view dir) {
  constexpr int kDirFlags = O_PATH | O_DIRECTORY | O_NOFOLLOW;
  std::vector<UniqueFd> stack;  // open directories below the root
  std::deque<std::string> todo;
  for (std::string& c : Components(dir)) todo.push_back(std::move(c));
  int hops = 0;
  while (!todo.empty()) {
    std::string c = std::move(todo.front());
    todo.pop_front();
    if (c == ".") continue;
    if (c == "..") {
      if (!stack.empty()) stack.pop_back();
      continue;
    }
    int cur = stack.empty() ? root_fd : stack.back().get();
    auto fd = host.OpenAt(cur, c, kDirFlags);
    if (fd.ok()) {
      stack.push_back(std::move(fd).value());
      continue;
    }
    // Not a directory as such: a symlink to resolve, or really missing.
    struct stat st;
    Status s = host.StatAt(cur, c, &st);
    if (!s.ok()) return s;
    if (!S_ISLNK(st.st_mode)) return fd.status();
    if (++hops > kMaxSymlinkHops) {
      return Status::InvalidArgument(std::string(dir) + ": too many levels of symbolic links");
    }
    DW_ASSIGN_OR_RETURN(std::string target, host.ReadLinkAt(cur, c));
    std::vector<std::string> parts = Components(target);
    todo.insert(todo.begin(), parts.begin(), parts.end());
    if (target.starts_with('/')) stack.clear();
  }
  if (!stack.empty()) return std::move(stack.back());
  return host.OpenAt(root_fd, ".", kDirFlags);
}

}  // namespace driftwatch::packages
