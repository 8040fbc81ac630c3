#include "container/cgroups.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace driftwatch::container {
namespace {

constexpr char kParent[] = "driftwatch";

bool HasWord(std::string_view list, std::string_view word, char sep) {
  size_t i = 0;
  while (i <= list.size()) {
    size_t j = list.find(sep, i);
    if (j == std::string_view::npos) j = list.size();
    std::string_view w = list.substr(i, j - i);
    while (!w.empty() && (w.back() == '\n' || w.back() == ' ')) w.remove_suffix(1);
    if (w == word) return true;
    i = j + 1;
  }
  return false;
}

Status WriteFile(const std::string& path, const std::string& value) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(path, errno);
  ssize_t n = write(fd, value.data(), value.size());
  int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(value.size()))
    return ErrnoStatus("write " + path + " '" + value + "'", err);
  return Status::Ok();
}

Result<std::string> ReadSmall(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(path, errno);
  std::string out;
  char buf[4096];
  while (out.size() < (16u << 20)) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

CgroupLayout ReadHostLayout() {
  auto text = ReadSmall("/proc/self/mountinfo");
  std::vector<MountInfo> mounts;
  if (text.ok()) {
    auto parsed = ParseMountInfo(*text);
    if (parsed.ok()) mounts = std::move(parsed).value();
  }
  CgroupLayout probe = DetectCgroupLayout(mounts, "");
  std::string controllers;
  if (!probe.v2_root.empty()) {
    auto c = ReadSmall(probe.v2_root + "/cgroup.controllers");
    if (c.ok()) controllers = *c;
  }
  return DetectCgroupLayout(mounts, controllers);
}

// The layout is read once per process: a container start asked for it three
// times (the cleanup of a crash's leftovers, Create, the removal of --rm),
// each a read and parse of the whole mount table. Where cgroup hierarchies
// are mounted does not change under a running command.
const CgroupLayout& HostLayout() {
  static const CgroupLayout layout = ReadHostLayout();
  return layout;
}

// mkdir of a cgroup directory whose parent may be missing: the parent is
// made first (one level, as the plan's directories are
// <hierarchy>/driftwatch/<id>), the whole chain only if that fails too.
Status MakeCgroupDir(Host& host, const std::string& dir) {
  Status st = host.MakeDir(dir, 0755);
  if (st.code() != StatusCode::kNotFound) return st;
  const size_t slash = dir.rfind('/');
  if (slash == std::string::npos || slash == 0) return MakeDirs(host, dir, 0755);
  Status parent = host.MakeDir(dir.substr(0, slash), 0755);
  if (!parent.ok() && parent.code() != StatusCode::kAlreadyExists) return MakeDirs(host, dir, 0755);
  return host.MakeDir(dir, 0755);
}

}  // namespace

CgroupLayout DetectCgroupLayout(const std::vector<MountInfo>& mounts,
                                std::string_view v2_controllers) {
  CgroupLayout l;
  for (const MountInfo& m : mounts) {
    if (m.fstype == "cgroup2" && l.v2_root.empty()) l.v2_root = m.mount_point;
    if (m.fstype == "cgroup") {
      if (HasWord(m.super_options, "memory", ',') && l.v1_memory.empty())
        l.v1_memory = m.mount_point;
      if (HasWord(m.super_options, "pids", ',') && l.v1_pids.empty()) l.v1_pids = m.mount_point;
    }
  }
  if (!l.v2_root.empty()) {
    l.v2_memory = HasWord(v2_controllers, "memory", ' ');
    l.v2_pids = HasWord(v2_controllers, "pids", ' ');
  }
  return l;
}

std::vector<CgroupStep> PlanCgroups(const CgroupLayout& layout, const std::string& id,
                                    const CgroupLimits& limits) {
  std::vector<CgroupStep> steps;
  if (!layout.v2_root.empty()) {
    std::string enable;
    if (layout.v2_memory) enable += "+memory";
    if (layout.v2_pids) enable += std::string(enable.empty() ? "" : " ") + "+pids";
    std::string parent = layout.v2_root + "/" + kParent;
    if (!enable.empty()) {
      steps.push_back({layout.v2_root, {{"cgroup.subtree_control", enable}}, false});
      steps.push_back({parent, {{"cgroup.subtree_control", enable}}, false});
    }
    CgroupStep leaf{parent + "/" + id, {}, true};
    if (layout.v2_memory && limits.memory_bytes) {
      leaf.writes.emplace_back("memory.max", std::to_string(limits.memory_bytes));
      leaf.writes.emplace_back("memory.swap.max", "0");
    }
    if (layout.v2_pids && limits.pids_max)
      leaf.writes.emplace_back("pids.max", std::to_string(limits.pids_max));
    steps.push_back(std::move(leaf));
  }
  if (!layout.v2_memory && !layout.v1_memory.empty()) {
    CgroupStep s{layout.v1_memory + "/" + kParent + "/" + id, {}, true};
    if (limits.memory_bytes) {
      s.writes.emplace_back("memory.limit_in_bytes", std::to_string(limits.memory_bytes));
      s.writes.emplace_back("memory.memsw.limit_in_bytes", std::to_string(limits.memory_bytes));
    }
    steps.push_back(std::move(s));
  }
  if (!layout.v2_pids && !layout.v1_pids.empty()) {
    CgroupStep s{layout.v1_pids + "/" + kParent + "/" + id, {}, true};
    if (limits.pids_max) s.writes.emplace_back("pids.max", std::to_string(limits.pids_max));
    steps.push_back(std::move(s));
  }
  return steps;
}

bool IsOptionalLimitFile(std::string_view file) {
  return file == "memory.swap.max" || file == "memory.memsw.limit_in_bytes";
}

Result<CgroupSet> CgroupSet::Create(Host& host, const std::string& id, const CgroupLimits& limits) {
  std::vector<std::string> members;
  for (const CgroupStep& step : PlanCgroups(HostLayout(), id, limits)) {
    if (step.member) {
      // The container's own cgroup must be new; its parents may exist.
      Status st = MakeCgroupDir(host, step.dir);
      if (!st.ok()) {
        CgroupSet(members).Destroy().IgnoreError();
        return st;
      }
      members.push_back(step.dir);
    } else {
      Status st = MakeDirs(host, step.dir, 0755);
      if (!st.ok()) {
        CgroupSet(members).Destroy().IgnoreError();
        return st;
      }
    }
    for (const auto& [file, value] : step.writes) {
      Status st = WriteFile(step.dir + "/" + file, value);
      // Swap files are absent without swap accounting; anything else counts.
      if (!st.ok() && !(IsOptionalLimitFile(file) && st.code() == StatusCode::kNotFound)) {
        CgroupSet(members).Destroy().IgnoreError();
        return st;
      }
    }
  }
  return CgroupSet(std::move(members));
}

std::vector<std::string> CgroupSet::DirsFor(const std::string& id) {
  std::vector<std::string> dirs;
  for (const CgroupStep& step : PlanCgroups(HostLayout(), id, CgroupLimits{})) {
    if (step.member) dirs.push_back(step.dir);
  }
  return dirs;
}

Status CgroupSet::AddProcess(pid_t pid) const {
  for (const std::string& dir : dirs_) {
    DW_RETURN_IF_ERROR(WriteFile(dir + "/cgroup.procs", std::to_string(pid)));
  }
  return Status::Ok();
}

Status CgroupSet::Destroy() const {
  Status result;
  for (const std::string& dir : dirs_) {
    for (int attempt = 0;; ++attempt) {
      if (rmdir(dir.c_str()) == 0 || errno == ENOENT) break;
      if (errno != EBUSY || attempt >= 400) {
        result = ErrnoStatus("rmdir " + dir, errno);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // The shared "driftwatch" parent goes once its last container is gone;
    // while others remain the kernel refuses (EBUSY), which is fine.
    size_t slash = dir.rfind('/');
    if (result.ok() && slash != std::string::npos &&
        dir.compare(slash - std::strlen(kParent), std::strlen(kParent), kParent) == 0) {
      rmdir(dir.substr(0, slash).c_str());
    }
  }
  return result;
}

}  // namespace driftwatch::container
