// Container and image records kept in the state directory
// (docs/containers.md, "State directory").
//
//   <state>/images/<name>/image.json     ImageRecord
//   <state>/images/<name>/rootfs/        the image tree (overlay lower layer)
//   <state>/containers/<name>/state.json ContainerRecord
//   <state>/containers/<name>/{upper,work,rootfs,log}
//   <state>/services/<service>.json      ServiceRecord (A/B slots)
//
// Records are JSON objects with "version": 1; another version is refused as
// kUnsupported. Every read and write goes through the StateDir's Host; writes
// go to a temporary file renamed over the old one (Host::WriteFileAtomic,
// mode 0600), so a reader never sees half a record, and new directories are
// made 0700.
//
// Thread-safety: functions are reentrant; concurrent writers of the same
// record race (last rename wins), which the CLI avoids by design.
#ifndef DRIFTWATCH_CONTAINER_STATE_H_
#define DRIFTWATCH_CONTAINER_STATE_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/hash.h"
#include "core/host.h"
#include "core/status.h"

namespace driftwatch::container {

constexpr int kStateVersion = 1;

struct VolumeSpec {
  std::string source;       // host path (absolute, not a symlink)
  std::string destination;  // absolute, clean path inside the container
  bool read_only = false;
  friend bool operator==(const VolumeSpec&, const VolumeSpec&) = default;
};

// "SRC:DST[:ro|:rw]". Both absolute; DST without "." or ".." components.
Result<VolumeSpec> ParseVolume(std::string_view text);
// "256M", "1G", "512k", "1048576" (binary units). 0 and overflow refused.
Result<uint64_t> ParseByteSize(std::string_view text);
// Names of containers, images and services: [A-Za-z0-9][A-Za-z0-9_.-]{0,63}.
Status ValidateName(std::string_view kind, std::string_view name);

// A range of host ids a user namespace maps container ids 0..count-1 onto
// (host, host+1, ... host+count-1). count 0: no user namespace.
struct IdRange {
  uint32_t host = 0;
  uint32_t count = 0;
  bool enabled() const { return count != 0; }
  friend bool operator==(const IdRange&, const IdRange&) = default;
};

struct ImageRecord {
  std::string name;
  Hash128 digest;  // Merkle root of the image tree
  int64_t imported_ns = 0;
  std::string source;  // what it was imported from
  uint64_t entries = 0;
};

struct ContainerRecord {
  std::string name;
  std::string id;  // 16 hex digits, unique per container; names its cgroups
  std::string image;
  Hash128 image_digest;
  std::vector<std::string> command;
  std::vector<std::string> env;  // "K=V"
  std::vector<VolumeSpec> volumes;
  // "none" (a private network namespace with loopback only, the default) or
  // "host"
  std::string net = "none";
  std::string seccomp = "default";         // "default" or "unconfined"
  std::vector<std::string> seccomp_allow;  // groups let through (seccomp.h)
  std::vector<std::string> cap_add;        // capabilities kept beyond the default set
  uint64_t memory_bytes = 0;
  uint64_t pids_max = 0;
  IdRange userns;       // uid and gid mapping of its user namespace (--userns)
  std::string service;  // A/B service this container is a slot of, or ""
  std::string slot;     // "a" / "b" / ""
  // Runtime: the container's init as seen from the host.
  pid_t pid = 0;
  uint64_t start_ticks = 0;  // /proc/PID/stat field 22, guards against pid reuse
  pid_t monitor_pid = 0;
  int64_t created_ns = 0;
  int64_t started_ns = 0;
  int64_t finished_ns = 0;
  std::string status = "created";  // created, running, exited
  int exit_code = 0;
};

struct ServiceRecord {
  std::string name;
  std::string active;    // "a", "b" or "" before the first deploy
  std::string previous;  // slot to return to on rollback, or ""
  std::string health;    // shell command run inside a slot before it takes over
};

std::string ImageRecordToJson(const ImageRecord& r);
Result<ImageRecord> ImageRecordFromJson(std::string_view text);
std::string ContainerRecordToJson(const ContainerRecord& r);
Result<ContainerRecord> ContainerRecordFromJson(std::string_view text);
std::string ServiceRecordToJson(const ServiceRecord& r);
Result<ServiceRecord> ServiceRecordFromJson(std::string_view text);

// The state directory and its paths. Borrows `host`, which must outlive it
// and every copy.
class StateDir {
 public:
  StateDir(Host& host, std::string root) : host_(&host), root_(std::move(root)) {}
  // --state-dir, else $DRIFTWATCH_STATE_DIR, else /var/lib/driftwatch/containers.
  static std::string DefaultPath();

  Host& host() const { return *host_; }
  const std::string& root() const { return root_; }
  std::string ImageDir(const std::string& name) const { return root_ + "/images/" + name; }
  std::string ImageRootfs(const std::string& name) const { return ImageDir(name) + "/rootfs"; }
  std::string ContainerDir(const std::string& name) const { return root_ + "/containers/" + name; }
  std::string ServiceFile(const std::string& name) const {
    return root_ + "/services/" + name + ".json";
  }

  Result<ImageRecord> LoadImage(const std::string& name) const;
  Status SaveImage(const ImageRecord& r) const;
  Result<ContainerRecord> LoadContainer(const std::string& name) const;
  Status SaveContainer(const ContainerRecord& r) const;
  Result<std::vector<std::string>> ListContainers() const;           // sorted names
  Result<ServiceRecord> LoadService(const std::string& name) const;  // kNotFound if never deployed
  Status SaveService(const ServiceRecord& r) const;

 private:
  Host* host_;
  std::string root_;
};

// Reads a whole file of at most max_bytes through `host` without following
// a symlink at `path` (kResourceExhausted when larger).
Result<std::string> ReadSmallFile(Host& host, const std::string& path, size_t max_bytes);

// Field `field` (1-based, >= 3) of a /proc/PID/stat line as a number; the
// command name (field 2) may contain spaces and parentheses. Pure.
std::optional<uint64_t> ProcStatField(std::string_view text, int field);
// The process functions read /proc/PID/stat through `host`.
// True when `pid` is a kernel thread (PF_KTHREAD in field 9 of its stat).
bool IsKernelThread(Host& host, pid_t pid);
// Start time of a process in clock ticks (field 22 of /proc/PID/stat); 0
// when the process does not exist.
uint64_t ProcessStartTicks(Host& host, pid_t pid);
// True when `pid` is alive and started at `start_ticks` (not a reused pid).
bool ProcessMatches(Host& host, pid_t pid, uint64_t start_ticks);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_STATE_H_
