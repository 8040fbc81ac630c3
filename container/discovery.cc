#include "container/discovery.h"
#include "container/proc_stat.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>

#include "container/cgroup_ident.h"
#include "container/layer_fs.h"
#include "container/runtime_join.h"

namespace driftwatch::container {
namespace {

std::vector<std::string> Ancestors(const std::string& path) {
  // "/a/b/c" -> {"/a", "/a/b"}
  std::vector<std::string> out;
  for (size_t i = 1; i < path.size(); ++i) {
    if (path[i] == '/') out.push_back(path.substr(0, i));
  }
  return out;
}

class StackedLower final : public LowerView {
 public:
  StackedLower(Host& host, std::vector<UniqueFd> roots) : host_(host), roots_(std::move(roots)) {}

  Result<std::optional<Entry>> Lookup(const std::string& path) override {
    size_t limit = roots_.size();
    DW_RETURN_IF_ERROR(VisibleLayers(path, &limit));
    for (size_t i = 0; i < limit; ++i) {
      DW_ASSIGN_OR_RETURN(std::optional<UpperNode> n, Node(i, path));
      if (!n) continue;
      if (n->whiteout) return std::optional<Entry>();
      if (n->entry.type == EntryType::kFile && !n->metacopy) {
        auto parent =
            OpenBeneath(host_, roots_[i].get(),
                        path.substr(0, std::max<size_t>(path.rfind('/'), 1)), O_PATH | O_DIRECTORY);
        if (!parent.ok()) return parent.status();
        DW_ASSIGN_OR_RETURN(Entry e, StatEntry(host_, parent->get(), n->entry.name, true));
        return std::optional<Entry>(e);
      }
      return std::optional<Entry>(n->entry);
    }
    return std::optional<Entry>();
  }

  Result<std::vector<std::string>> List(const std::string& path) override {
    size_t limit = roots_.size();
    DW_RETURN_IF_ERROR(VisibleLayers(path, &limit));
    std::set<std::string> names, hidden;
    for (size_t i = 0; i < limit; ++i) {
      DW_ASSIGN_OR_RETURN(std::optional<UpperNode> n, Node(i, path));
      if (path != "/" && (!n || n->entry.type != EntryType::kDir)) {
        if (n) break;  // a non-directory hides the layers below
        continue;
      }
      auto fd = OpenBeneath(host_, roots_[i].get(), path, O_RDONLY | O_DIRECTORY);
      if (!fd.ok()) continue;
      auto entries = host_.ReadDir(fd->get());
      if (!entries.ok()) continue;
      for (const DirEntryName& de : *entries) {
        const std::string& name = de.name;
        if (hidden.count(name) || names.count(name)) continue;
        std::string child = path == "/" ? "/" + name : path + "/" + name;
        auto cn = Node(i, child);
        if (cn.ok() && *cn && (*cn)->whiteout) {
          hidden.insert(name);
        } else {
          names.insert(name);
        }
      }
      if (n && n->opaque) break;
    }
    return std::vector<std::string>(names.begin(), names.end());
  }

 private:
  // The object at `path` in layer i with its markers, or nullopt.
  Result<std::optional<UpperNode>> Node(size_t i, const std::string& path) {
    if (path == "/") {
      UpperNode n;
      n.entry.type = EntryType::kDir;
      return std::optional<UpperNode>(n);
    }
    size_t slash = path.rfind('/');
    auto parent = OpenBeneath(host_, roots_[i].get(), slash == 0 ? "/" : path.substr(0, slash),
                              O_PATH | O_DIRECTORY);
    if (!parent.ok()) return std::optional<UpperNode>();
    std::string name = path.substr(slash + 1);
    auto e = StatEntry(host_, parent->get(), name, false);
    if (!e.ok()) {
      if (e.status().code() == StatusCode::kNotFound) return std::optional<UpperNode>();
      return e.status();
    }
    UpperNode n;
    n.entry = std::move(e).value();
    std::vector<std::pair<std::string, std::string>> xattrs;
    if (auto all = host_.XattrsAt(parent->get(), name); all.ok()) {
      for (Xattr& x : *all) {
        if (x.name.find(".overlay.") != std::string::npos) xattrs.emplace_back(x.name, x.value);
      }
    }
    OverlayMarkers m = DecodeOverlayXattrs(xattrs);
    n.opaque = m.opaque;
    n.metacopy = m.metacopy;
    n.whiteout = IsDeviceWhiteout(n.entry) ||
                 (m.whiteout && n.entry.type == EntryType::kFile && n.entry.size == 0);
    return std::optional<UpperNode>(n);
  }

  // Lowers the layer limit for `path`: an ancestor that is a whiteout, a
  // non-directory or an opaque directory in layer i hides layers below i.
  Status VisibleLayers(const std::string& path, size_t* limit) {
    for (const std::string& a : Ancestors(path)) {
      for (size_t i = 0; i < *limit; ++i) {
        DW_ASSIGN_OR_RETURN(std::optional<UpperNode> n, Node(i, a));
        if (!n) continue;
        if (n->whiteout || n->entry.type != EntryType::kDir) {
          *limit = i;  // nothing under a deleted or non-directory ancestor
          break;
        }
        if (n->opaque) {
          *limit = i + 1;
          break;
        }
      }
    }
    return Status::Ok();
  }

  Host& host_;
  std::vector<UniqueFd> roots_;
};

std::string ReadLink(Host& host, const std::string& path) {
  auto target = host.ReadLinkAt(AT_FDCWD, path);
  return target.ok() ? *target : std::string();
}

// stat(2) of a /proc/PID/root magic link: the process's root directory.
Status StatRoot(Host& host, const std::string& path, struct stat* st) {
  DW_ASSIGN_OR_RETURN(UniqueFd fd, host.OpenAt(AT_FDCWD, path, O_PATH));
  return host.Fstat(fd.get(), st).WithContext(path);
}

uint64_t NsInode(const std::string& link) {
  // "mnt:[4026531841]"
  size_t a = link.find('[');
  if (a == std::string::npos) return 0;
  return std::strtoull(link.c_str() + a + 1, nullptr, 10);
}

}  // namespace

std::string ContainerLabel(const DiscoveredContainer& c) {
  if (c.identity) {
    std::string name = RuntimeName(*c.identity);
    if (!name.empty()) return c.runtime + ":" + name;
  } else if (!c.name.empty()) {
    return c.name;
  }
  if (c.id.rfind("mntns-", 0) == 0) return c.runtime + ":" + c.id;
  return c.runtime + ":" + c.id.substr(0, std::min<size_t>(c.id.size(), 12));
}

std::string ContainerName(const DiscoveredContainer& c) {
  if (c.identity) {
    std::string name = RuntimeName(*c.identity);
    if (!name.empty()) return name;
  }
  return ContainerLabel(c);
}

ContainerInfo ContainerInfoOf(const DiscoveredContainer& c) {
  ContainerInfo info;
  info.name = ContainerName(c);
  info.id = c.id;
  info.runtime = c.runtime;
  info.image = c.image;
  info.drift_known = c.drift_known;
  info.events = c.drift_known ? static_cast<int64_t>(c.events.size()) : 0;
  info.image_tree = c.image_tree;
  info.pid = c.pid;
  info.excluded = c.excluded;
  info.note = c.note;
  if (c.identity) {
    const RuntimeContainer& rc = *c.identity;
    info.image_digest = rc.image_digest;
    info.image_id = rc.image_id;
    info.labels = rc.labels;
    std::sort(info.labels.begin(), info.labels.end());
    info.started_ns = rc.started_ns;
    if (!rc.note.empty()) info.note = info.note.empty() ? rc.note : rc.note + "; " + info.note;
  } else if (!c.image_digest.IsZero()) {
    // This launcher's image digest is the Merkle root of its tree.
    info.image_digest = c.image_digest.Hex();
    if (info.image_tree.empty()) info.image_tree = info.image_digest;
  }
  // The wire's limits (core/drift.h): a runtime's file is untrusted.
  std::erase_if(info.labels, [](const auto& kv) {
    return kv.first.size() > kMaxContainerLabelBytes || kv.second.size() > kMaxContainerLabelBytes;
  });
  if (info.labels.size() > kMaxContainerLabels) info.labels.resize(kMaxContainerLabels);
  if (info.excluded.size() > kMaxContainerExcluded) info.excluded.resize(kMaxContainerExcluded);
  if (info.note.size() > kMaxContainerNoteBytes) {
    size_t n = kMaxContainerNoteBytes;
    while (n > 0 && (static_cast<unsigned char>(info.note[n]) & 0xC0) == 0x80) --n;
    info.note.resize(n);  // at a character boundary
  }
  return info;
}

Result<std::unique_ptr<LowerView>> OpenStackedLower(Host& host,
                                                    const std::vector<std::string>& layers) {
  std::vector<UniqueFd> roots;
  for (const std::string& l : layers) {
    DW_ASSIGN_OR_RETURN(UniqueFd fd, host.OpenAt(AT_FDCWD, l, O_PATH | O_DIRECTORY));
    roots.push_back(std::move(fd));
  }
  return std::unique_ptr<LowerView>(new StackedLower(host, std::move(roots)));
}

Result<std::vector<DiscoveredContainer>> DiscoverContainers(const DiscoverOptions& options) {
  if (options.host == nullptr) return Status::InvalidArgument("discovery: no host given");
  Host& os = *options.host;
  // PID 1 defines the host; when it cannot be inspected (it holds
  // capabilities this process lacks) this process's own view stands in.
  std::string host = options.proc + "/1";
  std::string host_mnt = ReadLink(os, host + "/ns/mnt");
  struct stat host_root;
  if (host_mnt.empty() || !StatRoot(os, host + "/root", &host_root).ok()) {
    host = options.proc + "/self";
    host_mnt = ReadLink(os, host + "/ns/mnt");
    DW_RETURN_IF_ERROR(StatRoot(os, host + "/root", &host_root));
  }
  DW_ASSIGN_OR_RETURN(UniqueFd proc_fd, os.OpenAt(AT_FDCWD, options.proc, O_RDONLY | O_DIRECTORY));
  DW_ASSIGN_OR_RETURN(std::vector<DirEntryName> entries, os.ReadDir(proc_fd.get()));
  std::vector<pid_t> pids;
  for (const DirEntryName& de : entries) {
    char* end = nullptr;
    long pid = std::strtol(de.name.c_str(), &end, 10);
    if (pid > 1 && end != nullptr && *end == '\0') pids.push_back(static_cast<pid_t>(pid));
  }
  std::sort(pids.begin(), pids.end());

  std::map<std::string, ContainerRecord> ours;  // cgroup id -> record
  if (!options.state_dir.empty()) {
    StateDir state(os, options.state_dir);
    auto names = state.ListContainers();
    if (names.ok()) {
      for (const std::string& n : *names) {
        auto r = state.LoadContainer(n);
        if (r.ok()) ours[r->id] = std::move(r).value();
      }
    }
  }

  RuntimeInventory inventory;
  std::map<pid_t, uint64_t> runtime_mnt_ns;  // runtime pid -> its mount namespace
  if (options.read_runtimes) {
    RuntimeReadOptions ro = options.runtimes;
    ro.host = &os;
    ro.proc = options.proc;
    auto read = ReadRuntimes(ro);
    if (read.ok()) {
      inventory = std::move(read).value();
    } else if (options.notes != nullptr) {
      options.notes->push_back("runtimes: " + read.status().ToString());
    }
    if (options.notes != nullptr) {
      options.notes->insert(options.notes->end(), inventory.notes.begin(), inventory.notes.end());
    }
    for (const RuntimeContainer& rc : inventory.containers) {
      if (rc.pid <= 0) continue;
      uint64_t ino = NsInode(ReadLink(os, options.proc + "/" + std::to_string(rc.pid) + "/ns/mnt"));
      if (ino != 0) runtime_mnt_ns[rc.pid] = ino;
    }
  }

  std::set<uint64_t> seen;
  std::vector<DiscoveredContainer> out;
  for (pid_t pid : pids) {
    const std::string base = options.proc + "/" + std::to_string(pid);
    std::string mnt = ReadLink(os, base + "/ns/mnt");
    if (mnt.empty() || mnt == host_mnt) continue;
    // Kernel threads such as kdevtmpfs have a mount namespace and root of
    // their own; they are no containers.
    if (IsKernelThread(os, pid)) continue;
    uint64_t ino = NsInode(mnt);
    if (seen.count(ino)) continue;
    auto cg_text = ReadSmallFile(os, base + "/cgroup", 1 << 20);
    std::optional<ContainerIdentity> ident;
    if (cg_text.ok()) {
      auto lines = ParseProcCgroup(*cg_text);
      if (lines.ok()) ident = IdentifyContainer(*lines);
    }
    struct stat root_st;
    if (!StatRoot(os, base + "/root", &root_st).ok()) continue;
    bool own_root = root_st.st_dev != host_root.st_dev || root_st.st_ino != host_root.st_ino;
    if (!own_root && !ident) continue;
    seen.insert(ino);
    DiscoveredContainer c;
    c.pid = pid;
    c.mnt_ns = ino;
    c.runtime = ident ? ident->runtime : "unknown";
    c.id = ident ? ident->id : "mntns-" + std::to_string(ino);
    IdRange ids;  // this launcher's containers with --userns
    if (ident && ident->runtime == "driftwatch" && ours.count(ident->id)) {
      const ContainerRecord& r = ours[ident->id];
      c.name = r.name;
      c.image = r.image;
      c.image_digest = r.image_digest;
      ids = r.userns;
      std::vector<RuntimeMount> volumes;
      for (const VolumeSpec& v : r.volumes) volumes.push_back({v.destination, v.source, "bind"});
      c.excluded = ExcludedDestinations(volumes);
    } else if (const RuntimeContainer* rc = MatchRuntimeContainer(
                   inventory, c.runtime, ident ? ident->id : "", pid, ino, runtime_mnt_ns)) {
      c.identity = *rc;
      c.runtime = rc->runtime;
      c.id = rc->id;
      c.image = rc->image;
      c.excluded = ExcludedDestinations(rc->mounts);
    }
    auto mi_text = ReadSmallFile(os, base + "/mountinfo", kMaxMountInfoBytes);
    if (!mi_text.ok()) {
      c.note = mi_text.status().ToString();
      out.push_back(std::move(c));
      continue;
    }
    auto mounts = ParseMountInfo(*mi_text);
    const MountInfo* root = mounts.ok() ? FindMount(*mounts, "/") : nullptr;
    if (root == nullptr) {
      c.note = mounts.ok() ? "no root mount in mountinfo" : mounts.status().ToString();
      out.push_back(std::move(c));
      continue;
    }
    c.root_fstype = root->fstype;
    c.layers = OverlayLayersOf(*root);
    if (!c.layers || c.layers->upper.empty()) {
      c.note = "root is " + root->fstype +
               (c.layers ? " without an upper layer" : ", not overlayfs") + ": no layer diff";
      out.push_back(std::move(c));
      continue;
    }
    if (!options.diff) {
      out.push_back(std::move(c));
      continue;
    }
    std::vector<std::string> excluded = c.excluded;
    for (const MountInfo& m : *mounts) {
      if (m.mount_point != "/" && m.parent_id == root->id) excluded.push_back(m.mount_point);
    }
    auto upper = ReadUpperLayer(os, c.layers->upper, ids);
    auto lower = OpenStackedLower(os, c.layers->lower);
    if (!upper.ok() || !lower.ok()) {
      c.note = !upper.ok() ? upper.status().ToString() : lower.status().ToString();
      out.push_back(std::move(c));
      continue;
    }
    auto events = DiffUpperLayer(*upper, **lower, excluded);
    if (events.ok()) {
      c.drift_known = true;
      c.events = std::move(events).value();
      std::sort(excluded.begin(), excluded.end());
      std::erase_if(c.events, [&](const DriftEvent& e) {
        return IsRuntimeMadeEvent(c.runtime, excluded, e);
      });
    } else {
      c.note = events.status().ToString();
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace driftwatch::container
