// Container, image and service records and their JSON form, as kept in the
// state directory (state.h; docs/containers.md, "State directory").
//
// Records are JSON objects with "version": 1; another version is refused as
// kUnsupported; a field of the wrong type is kCorruption naming the file
// and the field. Pure functions.
//
// Thread-safety: reentrant.
#ifndef DRIFTWATCH_CONTAINER_RECORDS_H_
#define DRIFTWATCH_CONTAINER_RECORDS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "container/spec_values.h"
#include "core/hash.h"
#include "core/status.h"

namespace driftwatch::container {

constexpr int kStateVersion = 1;

struct ImageRecord {
  std::string name;
  Hash128 digest;  // Merkle root of the image tree
  int64_t imported_ns = 0;
  std::string source;  // what it was imported from
  uint64_t entries = 0;
};

// What a container runs and with what: the one spec of `container run`, of
// a container's record and of an A/B deploy (slots.h).
struct ContainerSpec {
  std::string image;
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
  IdRange userns;  // uid and gid mapping of its user namespace (--userns)
};

// A container: its spec, who it is and how its run went.
struct ContainerRecord : ContainerSpec {
  std::string name;
  std::string id;  // 16 hex digits, unique per container; names its cgroups
  Hash128 image_digest;
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

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_RECORDS_H_
