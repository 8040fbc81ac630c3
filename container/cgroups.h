// Cgroup limits (memory, pids) for containers on cgroup v1, v2 and hybrid
// layouts.
//
// DetectCgroupLayout() is pure: from the mount table and the controllers
// the v2 root offers it decides where each controller lives. In a hybrid
// layout (v1 controllers under /sys/fs/cgroup/<controller> plus a v2 tree at
// /sys/fs/cgroup/unified without controllers) memory and pids are set through
// v1 and the v2 tree only records membership. PlanCgroups() is pure too: the
// directories to create and the files to write. CgroupSet does the I/O.
//
// Thread-safety: pure functions are reentrant; a CgroupSet belongs to one
// thread.
#ifndef DRIFTWATCH_CONTAINER_CGROUPS_H_
#define DRIFTWATCH_CONTAINER_CGROUPS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "container/mountinfo.h"
#include "core/host.h"
#include "core/status.h"

namespace driftwatch::container {

struct CgroupLayout {
  std::string v2_root;     // mount point of cgroup2, "" if none
  bool v2_memory = false;  // memory controller available in v2
  bool v2_pids = false;
  std::string v1_memory;  // mount point of the v1 memory hierarchy, "" if none
  std::string v1_pids;
  friend bool operator==(const CgroupLayout&, const CgroupLayout&) = default;
};

// `v2_controllers` is the content of <v2_root>/cgroup.controllers ("" when
// there is no v2 mount). A v1 hierarchy is used only when v2 does not offer
// the controller.
CgroupLayout DetectCgroupLayout(const std::vector<MountInfo>& mounts,
                                std::string_view v2_controllers);

struct CgroupLimits {
  uint64_t memory_bytes = 0;  // 0 = unlimited
  uint64_t pids_max = 0;      // 0 = unlimited
};

struct CgroupStep {
  std::string dir;                                          // created if missing
  std::vector<std::pair<std::string, std::string>> writes;  // file in dir -> value, in order
  bool member = false;  // the container's processes are added to this directory
  friend bool operator==(const CgroupStep&, const CgroupStep&) = default;
};

// Directories "<hierarchy>/driftwatch/<id>" with their limit files. For v2
// the parent's cgroup.subtree_control enables the controllers first. A
// memory limit also caps swap: memory.swap.max = 0 on v2,
// memory.memsw.limit_in_bytes = the limit on v1 (memory + swap).
std::vector<CgroupStep> PlanCgroups(const CgroupLayout& layout, const std::string& id,
                                    const CgroupLimits& limits);

// Limit files that exist only with swap accounting (memory.swap.max,
// memory.memsw.limit_in_bytes): when the kernel lacks them there is no swap
// to cap, and Create() goes on without them. Pure.
bool IsOptionalLimitFile(std::string_view file);

// The cgroups of one container on this host.
class CgroupSet {
 public:
  CgroupSet() = default;
  explicit CgroupSet(std::vector<std::string> dirs) : dirs_(std::move(dirs)) {}

  // Reads /proc/self/mountinfo, plans, and makes the directories through
  // `host`. Errors name the file.
  static Result<CgroupSet> Create(Host& host, const std::string& id, const CgroupLimits& limits);
  // The directories a container with `id` would use (for cleanup).
  static std::vector<std::string> DirsFor(const std::string& id);

  Status AddProcess(pid_t pid) const;
  // Removes the directories, retrying while the kernel still tears down
  // the last processes. Missing directories are fine.
  Status Destroy() const;
  const std::vector<std::string>& dirs() const { return dirs_; }

 private:
  std::vector<std::string> dirs_;  // member directories
};

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_CGROUPS_H_
