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

Result<std::pair<int, std::string>> RunProgram(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  pid_t pid = fork();
  if (pid < 0) return ErrnoStatus("fork", errno);
  if (pid == 0) {
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 || dup2(fds[1], 2) < 0)
      _exit(127);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  std::string err;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0 && err.size() < 65536) err.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return std::make_pair(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), err);
}

Result<ImageRecord> ImportImage(const StateDir& state, const std::string& name,
                                const std::string& source, const ImageDigester& digester,
                                const ImportOptions& options) {
  DW_RETURN_IF_ERROR(ValidateName("image", name));
  struct stat st;
  if (stat(source.c_str(), &st) != 0) return ErrnoStatus(source, errno);
  if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(source + ": expected a directory or a tar archive");
  }
  DW_RETURN_IF_ERROR(MakeDirs(state.root() + "/images"));
  const std::string dir = state.ImageDir(name);
  if (mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) return Status::AlreadyExists("an image named '" + name + "' exists");
    return ErrnoStatus(dir, errno);
  }
  const std::string rootfs = state.ImageRootfs(name);
  auto fail = [&](Status s) {
    RemoveTree(dir).IgnoreError();
    return s;
  };
  if (mkdir(rootfs.c_str(), 0755) != 0) return fail(ErrnoStatus(rootfs, errno));
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
  auto run = RunProgram(argv);
  if (!run.ok()) return fail(run.status());
  if (run->first != 0) {
    return fail(Status::IoError("import " + source + ": " + argv[0] + " exited " +
                                std::to_string(run->first) + ": " + run->second));
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
    if (lstat((rootfs + mp).c_str(), &mst) != 0 && errno == ENOENT) {
      if (mkdir((rootfs + mp).c_str(), 0755) != 0) return fail(ErrnoStatus(rootfs + mp, errno));
    }
  }
  auto digest = digester(rootfs);
  if (!digest.ok()) return fail(digest.status());
  ImageRecord r;
  r.name = name;
  r.digest = digest->first;
  r.entries = digest->second;
  r.source = source;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  r.imported_ns = static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  Status saved = state.SaveImage(r);
  if (!saved.ok()) return fail(saved);
  return r;
}

Result<std::vector<ImageRecord>> ListImages(const StateDir& state) {
  std::vector<ImageRecord> out;
  std::string dir = state.root() + "/images";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return out;
    return ErrnoStatus(dir, errno);
  }
  std::vector<std::string> names;
  while (struct dirent* de = readdir(d)) {
    if (ValidateName("image", de->d_name).ok()) names.emplace_back(de->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    auto r = state.LoadImage(n);
    if (r.ok()) out.push_back(std::move(r).value());
  }
  return out;
}

}  // namespace driftwatch::container
