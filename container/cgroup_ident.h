// Which runtime owns a process, from its /proc/PID/cgroup (pure, table-tested).
//
// Recognised cgroup path shapes (v1 lines and the v2 "0::" line alike):
//   docker      /docker/<64hex>, /system.slice/docker-<64hex>.scope
//   podman      /machine.slice/libpod-<64hex>.scope, .../libpod-<64hex>[.scope],
//               /libpod_parent/libpod-<64hex>
//   containerd  .../cri-containerd-<64hex>.scope, /kubepods/.../pod<uid>/<64hex>
//   cri-o       .../crio-<64hex>.scope
//   lxc         /lxc/<name>, /lxc.payload/<name>, /lxc.payload.<name>
//   nspawn      /machine.slice/systemd-nspawn@<name>.service,
//               /machine.slice/machine-<name>.scope
//   driftwatch  /driftwatch/<id>
// "libpod-conmon-" and "crio-conmon-" scopes (the monitors) are not containers.
//
// Thread-safety: pure functions.
#ifndef DRIFTWATCH_CONTAINER_CGROUP_IDENT_H_
#define DRIFTWATCH_CONTAINER_CGROUP_IDENT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace driftwatch::container {

struct CgroupLine {
  std::string hierarchy;    // "0" for the v2 line
  std::string controllers;  // "memory", "name=systemd", "" for v2
  std::string path;
  friend bool operator==(const CgroupLine&, const CgroupLine&) = default;
};

// Parses "ID:CONTROLLERS:PATH" lines; a line without two colons is
// kCorruption naming its line number. At most 1 MiB / 4096 lines.
Result<std::vector<CgroupLine>> ParseProcCgroup(std::string_view text);

struct ContainerIdentity {
  std::string runtime;  // "docker", "podman", "containerd", "cri-o", "lxc", "nspawn", "driftwatch"
  std::string id;       // the runtime's container id or name
  friend bool operator==(const ContainerIdentity&, const ContainerIdentity&) = default;
};

// Identity from one cgroup path; nullopt when it matches no known runtime.
std::optional<ContainerIdentity> IdentifyCgroupPath(std::string_view path);

// The first line (v2 line first, then v1 lines in order) that identifies a
// container.
std::optional<ContainerIdentity> IdentifyContainer(const std::vector<CgroupLine>& lines);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_CGROUP_IDENT_H_
