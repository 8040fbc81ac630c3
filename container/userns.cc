#include "container/userns.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

namespace driftwatch::container {
namespace {

bool ParseU32(std::string_view s, uint32_t* out) {
  if (s.empty() || s.size() > 10) return false;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > UINT32_MAX) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

Status WriteProcFile(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(path, errno);
  UniqueFd owned(fd);
  ssize_t n = write(fd, text.data(), text.size());
  if (n != static_cast<ssize_t>(text.size())) return ErrnoStatus("write " + path, errno);
  return Status::Ok();
}

}  // namespace

Result<IdRange> ParseIdRange(std::string_view text) {
  const std::string what = "--userns-range '" + std::string(text) + "'";
  size_t colon = text.find(':');
  IdRange r;
  if (colon == std::string_view::npos || !ParseU32(text.substr(0, colon), &r.host) ||
      !ParseU32(text.substr(colon + 1), &r.count)) {
    return Status::InvalidArgument(what + ": expected HOSTID:COUNT (e.g. 100000:65536)");
  }
  if (r.host == 0) {
    return Status::InvalidArgument(what +
                                   ": host id 0 would make the container's root the "
                                   "host's root; pick a range of unused ids");
  }
  if (r.count == 0) return Status::InvalidArgument(what + ": COUNT must be at least 1");
  if (static_cast<uint64_t>(r.host) + r.count > UINT32_MAX) {
    return Status::InvalidArgument(what + ": range ends beyond the largest id 4294967294");
  }
  return r;
}

std::optional<IdRange> FindSubordinateRange(std::string_view text, std::string_view user) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    size_t a = line.find(':');
    if (a == std::string_view::npos || line.substr(0, a) != user) continue;
    auto range = ParseIdRange(line.substr(a + 1));
    if (range.ok()) return *range;
  }
  return std::nullopt;
}

IdRange DefaultIdRange(Host& host) {
  auto text = ReadSmallFile(host, "/etc/subuid", 1 << 20);
  if (text.ok()) {
    if (auto r = FindSubordinateRange(*text, "root")) return *r;
  }
  return kDefaultIdRange;
}

Result<UniqueFd> MakeUserNamespace(const IdRange& range) {
  // A helper unshares a user namespace and waits; this process, root in the
  // parent namespace, writes its maps (no need to deny setgroups: the writer
  // is privileged) and keeps an fd of it. The namespace outlives the helper.
  int to_helper[2], from_helper[2];
  if (pipe2(to_helper, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  UniqueFd to_r(to_helper[0]), to_w(to_helper[1]);
  if (pipe2(from_helper, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  UniqueFd from_r(from_helper[0]), from_w(from_helper[1]);
  pid_t pid = fork();
  if (pid < 0) return ErrnoStatus("fork", errno);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    close(to_helper[1]);  // EOF on to_helper[0] once the parent is done
    close(from_helper[0]);
    char c = unshare(CLONE_NEWUSER) == 0 ? 'u' : 'e';
    if (write(from_helper[1], &c, 1) != 1) _exit(1);
    ssize_t unused = read(to_helper[0], &c, 1);  // until the parent is done
    (void)unused;
    _exit(0);
  }
  from_w.Reset();
  to_r.Reset();
  auto reap = [&](Status st) -> Status {
    to_w.Reset();
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return st;
  };
  char c = 0;
  if (read(from_r.get(), &c, 1) != 1 || c != 'u') {
    return reap(
        Status::IoError("unshare(CLONE_NEWUSER) failed in the helper; does the kernel "
                        "allow user namespaces (user.max_user_namespaces)?"));
  }
  const std::string base = "/proc/" + std::to_string(pid);
  const std::string map =
      "0 " + std::to_string(range.host) + " " + std::to_string(range.count) + "\n";
  Status st = WriteProcFile(base + "/uid_map", map);
  if (st.ok()) st = WriteProcFile(base + "/gid_map", map);
  if (!st.ok()) return reap(st);
  int fd = open((base + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return reap(ErrnoStatus(base + "/ns/user", errno));
  UniqueFd ns(fd);
  DW_RETURN_IF_ERROR(reap(Status::Ok()));
  return ns;
}

Status IdmapMountOver(const std::string& dir, int userns_fd) {
  int tree = static_cast<int>(
      open_tree(AT_FDCWD, dir.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
  if (tree < 0) return ErrnoStatus("open_tree " + dir, errno);
  UniqueFd tree_fd(tree);
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns_fd);
  if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) != 0) {
    return ErrnoStatus("idmapped mount of " + dir +
                           " (does its file system support idmapped "
                           "mounts?)",
                       errno);
  }
  if (move_mount(tree, "", AT_FDCWD, dir.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    return ErrnoStatus("move_mount idmapped " + dir, errno);
  }
  return Status::Ok();
}

Status EnterUserNamespace(int userns_fd) {
  // Supplementary groups go first, while this process may still drop them:
  // host groups would otherwise stay (shown as nobody) and grant access.
  if (setgroups(0, nullptr) != 0) return ErrnoStatus("setgroups", errno);
  if (setns(userns_fd, CLONE_NEWUSER) != 0) return ErrnoStatus("setns user", errno);
  if (setresgid(0, 0, 0) != 0) return ErrnoStatus("setresgid 0 in the user namespace", errno);
  if (setresuid(0, 0, 0) != 0) return ErrnoStatus("setresuid 0 in the user namespace", errno);
  return Status::Ok();
}

}  // namespace driftwatch::container
