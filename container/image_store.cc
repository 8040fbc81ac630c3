#include "container/image_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "container/layer_fs.h"

namespace driftwatch::container {

namespace {

// stat(2), following symlinks, through the host.
Status StatFollowing(Host& host, const std::string& path, struct stat* st) {
  DW_ASSIGN_OR_RETURN(UniqueFd fd, host.OpenAt(AT_FDCWD, path, O_PATH));
  return host.Fstat(fd.get(), st).WithContext(path);
}

}  // namespace

Result<ImageRecord> ImportImage(const StateDir& state, const std::string& name,
                                const std::string& source, const ImageDigester& digester,
                                const ImportOptions& options) {
  DW_RETURN_IF_ERROR(ValidateName("image", name));
  Host& host = state.host();
  struct stat st;
  DW_RETURN_IF_ERROR(StatFollowing(host, source, &st));
  if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(source + ": expected a directory or a tar archive");
  }
  DW_RETURN_IF_ERROR(MakeDirs(host, state.root() + "/images", 0700));
  const std::string dir = state.ImageDir(name);
  if (Status made = host.MakeDir(dir, 0700); !made.ok()) {
    if (made.code() == StatusCode::kAlreadyExists) {
      return Status::AlreadyExists("an image named '" + name + "' exists");
    }
    return made;
  }
  const std::string rootfs = state.ImageRootfs(name);
  auto fail = [&](Status s) {
    RemoveTree(dir).IgnoreError();
    return s;
  };
  if (Status made = host.MakeDir(rootfs, 0755); !made.ok()) return fail(made);
  std::vector<std::string> argv;
  if (S_ISDIR(st.st_mode)) {
    argv = {"/bin/cp", "-a", "--", source + "/.", rootfs + "/"};
  } else {
    argv = {"/bin/tar",
            "--extract",
            "--file",
            source,
            "--directory",
            rootfs,
            "--numeric-owner",
            "--preserve-permissions",
            "--same-owner",
            "--xattrs",
            "--xattrs-include=*"};
  }
  auto run = host.Spawn(SpawnRequest{argv, "", false});
  if (!run.ok()) return fail(run.status());
  if (run->exit_code != 0) {
    return fail(Status::IoError("import " + source + ": " + argv[0] + " exited " +
                                std::to_string(run->exit_code) + ": " + run->err.substr(0, 65536)));
  }
  if (!options.keep_special) {
    auto counts = NeutraliseSpecialFiles(rootfs);
    if (!counts.ok()) return fail(counts.status().WithContext("import " + source));
    if (options.counts != nullptr) *options.counts = *counts;
  }
  // Mount points the launcher needs; an image that has them as something
  // else than a directory fails at start with a clear message.
  for (const char* mp : {"/proc", "/sys", "/dev"}) {
    struct stat mst;
    Status there = host.StatAt(AT_FDCWD, rootfs + mp, &mst);
    if (there.code() == StatusCode::kNotFound) {
      if (Status made = host.MakeDir(rootfs + mp, 0755); !made.ok()) return fail(made);
    }
  }
  auto digest = digester(rootfs);
  if (!digest.ok()) return fail(digest.status());
  ImageRecord r;
  r.name = name;
  r.digest = digest->first;
  r.entries = digest->second;
  r.source = source;
  r.imported_ns = host.NowNs();
  Status saved = state.SaveImage(r);
  if (!saved.ok()) return fail(saved);
  return r;
}

Result<std::vector<ImageRecord>> ListImages(const StateDir& state) {
  std::vector<ImageRecord> out;
  std::string dir = state.root() + "/images";
  Host& host = state.host();
  auto fd = host.OpenAt(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY);
  if (!fd.ok()) {
    if (fd.status().code() == StatusCode::kNotFound) return out;
    return fd.status();
  }
  DW_ASSIGN_OR_RETURN(std::vector<DirEntryName> entries, host.ReadDir(fd->get()));
  std::vector<std::string> names;
  for (const DirEntryName& de : entries) {
    if (ValidateName("image", de.name).ok()) names.push_back(de.name);
  }
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    auto r = state.LoadImage(n);
    if (r.ok()) out.push_back(std::move(r).value());
  }
  return out;
}

}  // namespace driftwatch::container
