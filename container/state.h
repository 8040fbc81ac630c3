// The state directory: where container, image and service records
// (records.h) are kept (docs/containers.md, "State directory").
//
//   <state>/images/<name>/image.json     ImageRecord
//   <state>/images/<name>/rootfs/        the image tree (overlay lower layer)
//   <state>/containers/<name>/state.json ContainerRecord
//   <state>/containers/<name>/{upper,work,rootfs,log}
//   <state>/services/<service>.json      ServiceRecord (A/B slots)
//
// Every read and write goes through the StateDir's Host; writes
// go to a temporary file renamed over the old one (Host::WriteFileAtomic,
// mode 0600), so a reader never sees half a record, and new directories are
// made 0700.
//
// Thread-safety: functions are reentrant; concurrent writers of the same
// record race (last rename wins), which the CLI avoids by design.
#ifndef DRIFTWATCH_CONTAINER_STATE_H_
#define DRIFTWATCH_CONTAINER_STATE_H_

#include <string>
#include <vector>

#include "container/records.h"
#include "core/host.h"
#include "core/status.h"

namespace driftwatch::container {

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

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_STATE_H_
