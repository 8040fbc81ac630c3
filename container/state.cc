#include "container/state.h"

#include <fcntl.h>

#include <algorithm>
#include <cstdlib>

namespace driftwatch::container {

std::string StateDir::DefaultPath() {
  const char* env = std::getenv("DRIFTWATCH_STATE_DIR");
  if (env != nullptr && env[0] != '\0') return env;
  return "/var/lib/driftwatch/containers";
}

Result<ImageRecord> StateDir::LoadImage(const std::string& name) const {
  DW_RETURN_IF_ERROR(ValidateName("image", name));
  auto text = ReadSmallFile(*host_, ImageDir(name) + "/image.json", 1 << 20);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound)
      return Status::NotFound("no image named '" + name + "'");
    return text.status();
  }
  return ImageRecordFromJson(*text);
}

Status StateDir::SaveImage(const ImageRecord& r) const {
  return host_->WriteFileAtomic(ImageDir(r.name) + "/image.json", ImageRecordToJson(r), 0600);
}

Result<ContainerRecord> StateDir::LoadContainer(const std::string& name) const {
  DW_RETURN_IF_ERROR(ValidateName("container", name));
  auto text = ReadSmallFile(*host_, ContainerDir(name) + "/state.json", 1 << 20);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound)
      return Status::NotFound("no container named '" + name + "'");
    return text.status();
  }
  return ContainerRecordFromJson(*text);
}

Status StateDir::SaveContainer(const ContainerRecord& r) const {
  return host_->WriteFileAtomic(ContainerDir(r.name) + "/state.json", ContainerRecordToJson(r),
                                0600);
}

Result<std::vector<std::string>> StateDir::ListContainers() const {
  std::vector<std::string> out;
  std::string dir = root_ + "/containers";
  auto fd = host_->OpenAt(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY);
  if (!fd.ok()) {
    if (fd.status().code() == StatusCode::kNotFound) return out;
    return fd.status();
  }
  DW_ASSIGN_OR_RETURN(std::vector<DirEntryName> names, host_->ReadDir(fd->get()));
  for (const DirEntryName& de : names) {
    if (ValidateName("container", de.name).ok()) out.push_back(de.name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<ServiceRecord> StateDir::LoadService(const std::string& name) const {
  DW_RETURN_IF_ERROR(ValidateName("service", name));
  auto text = ReadSmallFile(*host_, ServiceFile(name), 1 << 20);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound)
      return Status::NotFound("service " + name + " was never deployed");
    return text.status();
  }
  return ServiceRecordFromJson(*text);
}

Status StateDir::SaveService(const ServiceRecord& r) const {
  DW_RETURN_IF_ERROR(MakeDirs(*host_, root_ + "/services", 0700));
  return host_->WriteFileAtomic(ServiceFile(r.name), ServiceRecordToJson(r), 0600);
}

Result<std::string> ReadSmallFile(Host& host, const std::string& path, size_t max_bytes) {
  DW_ASSIGN_OR_RETURN(UniqueFd fd, host.OpenAt(AT_FDCWD, path, O_RDONLY | O_NOFOLLOW));
  std::string out;
  char buf[8192];
  while (true) {
    auto n = host.Read(fd.get(), buf, sizeof buf);
    if (!n.ok()) return n.status().WithContext(path);
    if (*n == 0) return out;
    out.append(buf, *n);
    if (out.size() > max_bytes) {
      return Status::ResourceExhausted(path + ": larger than " + std::to_string(max_bytes) +
                                       " bytes");
    }
  }
}

}  // namespace driftwatch::container
