#include "cli/image_tree.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace driftwatch::cli {
namespace {

// Several layers merged by a read-only overlay mount that only a child
// process's private mount namespace holds; path() reaches it through
// /proc/CHILD/root while the child lives. The child waits for its pipe to
// close, so it never outlives this object (nor, through PDEATHSIG, us).
class LayerMount {
 public:
  ~LayerMount() {
    if (release_ >= 0) close(release_);
    if (child_ > 0) {
      int status;
      while (waitpid(child_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    if (!dir_.empty()) rmdir(dir_.c_str());
  }

  Status Mount(const std::vector<std::string>& layers) {
    std::string options = "lowerdir=";
    for (size_t i = 0; i < layers.size(); ++i) {
      if (layers[i].find_first_of(",:\\") != std::string::npos || layers[i].empty()) {
        return Status::InvalidArgument("image layer " + layers[i] +
                                       ": a path overlayfs cannot stack");
      }
      options += (i ? ":" : "") + layers[i];
    }
    // The kernel takes one page of mount options.
    if (options.size() >= 4096) {
      return Status::InvalidArgument(std::to_string(layers.size()) +
                                     " image layers: too long a list for one overlay mount");
    }
    char tmpl[] = "/tmp/driftwatch-image-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return ErrnoStatus("mkdtemp /tmp", errno);
    dir_ = tmpl;
    int ready[2], release[2];
    if (pipe2(ready, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
    if (pipe2(release, O_CLOEXEC) != 0) {
      int e = errno;
      close(ready[0]);
      close(ready[1]);
      return ErrnoStatus("pipe", e);
    }
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
      int e = errno;
      for (int fd : {ready[0], ready[1], release[0], release[1]}) close(fd);
      return ErrnoStatus("fork", e);
    }
    if (pid == 0) {
      // Only async-signal-safe calls from here: the parent may have threads.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(1);
      close(ready[0]);
      close(release[1]);
      int err = 0;
      if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) ||
          mount("overlay", tmpl, "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, options.c_str())) {
        err = errno;
      }
      (void)!write(ready[1], &err, sizeof(err));
      close(ready[1]);
      char c;
      while (read(release[0], &c, 1) < 0 && errno == EINTR) {
      }
      _exit(0);
    }
    child_ = pid;
    close(ready[1]);
    close(release[0]);
    release_ = release[1];
    int err = -1;
    ssize_t n;
    do {
      n = read(ready[0], &err, sizeof(err));
    } while (n < 0 && errno == EINTR);
    close(ready[0]);
    if (n != sizeof(err)) return Status::Internal("overlay mount helper exited");
    if (err != 0)
      return ErrnoStatus("mount overlay of " + std::to_string(layers.size()) + " image layers",
                         err);
    path_ = "/proc/" + std::to_string(child_) + "/root" + dir_;
    return Status::Ok();
  }

  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
  pid_t child_ = 0;
  int release_ = -1;
};

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ":") + s;
  return out;
}

}  // namespace

std::string RuntimeImageBaselineName(const container::RuntimeContainer& rc) {
  const std::string& digest = !rc.image_digest.empty() ? rc.image_digest : rc.image_id;
  if (digest.empty()) return "";
  const std::string& ref = !rc.image.empty() ? rc.image : rc.image_id;
  return "image:" + ref + "@" + digest;
}

bool KeepsFullCopies(const container::RuntimeContainer& rc) {
  return !rc.image_layers.empty() &&
         (rc.storage_driver == "vfs" || rc.storage_driver == "btrfs" || rc.storage_driver == "zfs");
}

Result<std::string> ImageTrees::Ensure(const std::string& name,
                                       const std::vector<std::string>& layers,
                                       std::vector<std::string>* warnings) {
  if (auto it = trees_.find(name); it != trees_.end()) return it->second;
  DW_ASSIGN_OR_RETURN(std::optional<Hash128> root, BaselineRoot(options_, name));
  if (!root) {
    if (layers.empty()) return Status::NotFound(name + ": no image layers to baseline");
    Result<ImageBaseline> made = Status::Internal("unreachable");
    if (layers.size() == 1) {
      made = RecordTreeBaseline(options_, name, layers[0], layers[0], "image first seen");
    } else {
      LayerMount merged;
      DW_RETURN_IF_ERROR(merged.Mount(layers));
      made = RecordTreeBaseline(options_, name, merged.path(), "overlay:" + Join(layers),
                                "image first seen");
    }
    if (!made.ok()) return made.status();
    warnings->push_back("image baseline '" + name + "' recorded from " +
                        std::to_string(layers.size()) + " layer(s) (first sight)");
    root = made->digest;
  }
  return trees_[name] = root->Hex();
}

Result<std::string> ImageTrees::OverlayImageTree(const container::DiscoveredContainer& c,
                                                 std::vector<std::string>* warnings) {
  if (!c.identity) return Status::NotFound("no runtime identity");
  const std::string name = RuntimeImageBaselineName(*c.identity);
  if (name.empty()) return Status::NotFound("the runtime names no image digest or id");
  std::vector<std::string> layers = c.identity->image_layers;
  if (layers.empty() && c.layers) layers = c.layers->lower;
  return Ensure(name, layers, warnings);
}

Result<ImageTrees::Baseline> ImageTrees::FullCopyBaseline(const container::DiscoveredContainer& c,
                                                          std::vector<std::string>* warnings) {
  if (!c.identity || !KeepsFullCopies(*c.identity))
    return Status::NotFound("the runtime keeps no full copy of the image");
  Baseline b;
  b.name = RuntimeImageBaselineName(*c.identity);
  if (b.name.empty()) return Status::NotFound("the runtime names no image digest or id");
  DW_ASSIGN_OR_RETURN(b.tree, Ensure(b.name, {c.identity->image_layers[0]}, warnings));
  return b;
}

}  // namespace driftwatch::cli
