#include "cli/tree_baseline.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "agent/check.h"
#include "agent/scanner.h"
#include "agent/store.h"
#include "container/mountinfo.h"
#include "container/upper_diff.h"
#include "core/diff.h"
#include "rules/policy.h"

namespace driftwatch::cli {
namespace {

constexpr int kKeepCheckSnapshots = 3;  // as agent/check.cc

// The host, with every open confined to the tree at `root`: below it one
// name at a time relative to a directory fd, or as a path under `root`
// resolved beneath it; never through a symlink or magic link, never via
// "..". The root itself is opened as given.
class ConfinedHost final : public Host {
 public:
  ConfinedHost(Host& base, std::string root) : base_(base), root_(std::move(root)) {
    int fd = open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) root_fd_.Reset(fd);
  }

  Result<UniqueFd> OpenAt(int dir_fd, const std::string& name, int flags) override {
    if (dir_fd == AT_FDCWD) {
      if (name == root_) return base_.OpenAt(dir_fd, name, flags);
      if (name.rfind(root_ + "/", 0) != 0 || root_fd_.get() < 0) {
        return Status::PermissionDenied(name + ": outside the scanned tree " + root_);
      }
      return Beneath(root_fd_.get(), name.substr(root_.size() + 1), flags);
    }
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
      return Status::PermissionDenied("'" + name + "': not a single name inside the tree");
    }
    return Beneath(dir_fd, name, flags);
  }
  Status StatAt(int dir_fd, const std::string& name, struct stat* st) override {
    return base_.StatAt(dir_fd, name, st);  // fstatat(AT_SYMLINK_NOFOLLOW)
  }
  Status Fstat(int fd, struct stat* st) override { return base_.Fstat(fd, st); }
  Result<size_t> Read(int fd, void* buf, size_t n) override { return base_.Read(fd, buf, n); }
  Result<std::vector<DirEntryName>> ReadDir(int dir_fd) override { return base_.ReadDir(dir_fd); }
  Result<std::string> ReadLinkAt(int dir_fd, const std::string& name) override {
    return base_.ReadLinkAt(dir_fd, name);
  }
  Result<std::vector<Xattr>> XattrsAt(int dir_fd, const std::string& name) override {
    return base_.XattrsAt(dir_fd, name);
  }
  Result<std::vector<Xattr>> XattrsOf(int fd) override { return base_.XattrsOf(fd); }
  Result<std::string> ReadFile(const std::string& path, size_t max_bytes) override {
    return base_.ReadFile(path, max_bytes);
  }
  // The scanned tree is only read: writes and programs are refused.
  Status WriteFileAtomic(const std::string& path, std::string_view, mode_t) override {
    return ReadOnly(path);
  }
  Status MakeDir(const std::string& path, mode_t) override { return ReadOnly(path); }
  Status Rename(const std::string& from, const std::string&) override { return ReadOnly(from); }
  Status Remove(const std::string& path) override { return ReadOnly(path); }
  Status MakeDirAt(int, const std::string& name, mode_t) override { return ReadOnly(name); }
  Status SymlinkAt(const std::string&, int, const std::string& name) override {
    return ReadOnly(name);
  }
  Status UnlinkAt(int, const std::string& name, bool) override { return ReadOnly(name); }
  Status RenameAt(int, const std::string& from, int, const std::string&) override {
    return ReadOnly(from);
  }
  Status ChmodAt(int, const std::string& name, mode_t) override { return ReadOnly(name); }
  Status ChownAt(int, const std::string& name, uid_t, gid_t) override { return ReadOnly(name); }
  Status SetXattrAt(int, const std::string& name, const Xattr&) override { return ReadOnly(name); }
  Status RemoveXattrAt(int, const std::string& name, const std::string&) override {
    return ReadOnly(name);
  }
  Status Write(int, std::string_view) override { return ReadOnly("write"); }
  Status Fsync(int) override { return ReadOnly("fsync"); }
  Result<SpawnResult> Spawn(const SpawnRequest& request) override {
    return Status::PermissionDenied(
        (request.argv.empty() ? std::string("spawn") : request.argv[0]) +
        ": no programs are run while a tree is scanned");
  }
  int64_t NowNs() override { return base_.NowNs(); }
  int64_t MonotonicNs() override { return base_.MonotonicNs(); }
  std::string Hostname() override { return base_.Hostname(); }

 private:
  Status ReadOnly(const std::string& path) const {
    return Status::PermissionDenied(path + ": the scanned tree " + root_ + " is read-only");
  }

  static Result<UniqueFd> Beneath(int dir_fd, const std::string& rel, int flags) {
    struct open_how how = {};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    long fd;
    do {
      fd = syscall(SYS_openat2, dir_fd, rel.c_str(), &how, sizeof(how));
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return ErrnoStatus(rel, errno);
    return UniqueFd(static_cast<int>(fd));
  }

  Host& base_;
  const std::string root_;
  UniqueFd root_fd_;
};

struct Session {
  std::unique_ptr<agent::Store> store;
  rules::Policy policy;
};

Result<Session> Open(const TreeBaselineOptions& o) {
  const std::string rules_path = o.rules_path.empty() ? ContainerRulesPath() : o.rules_path;
  DW_ASSIGN_OR_RETURN(rules::Policy policy, rules::LoadPolicyFile(DefaultHost(), rules_path));
  DW_ASSIGN_OR_RETURN(
      std::unique_ptr<agent::Store> store,
      agent::Store::Open(DefaultHost(), o.db_path.empty() ? agent::DefaultDbPath() : o.db_path));
  return Session{std::move(store), std::move(policy)};
}

// Every file is read (no stat cache: container roots come and go, and a
// pid-based path would never hit it).
Result<agent::ScanResult> Scan(Session& s, const std::string& root) {
  ConfinedHost host(DefaultHost(), root);
  agent::ScanOptions so;
  so.root = root;
  so.full = true;
  so.content = s.store.get();
  DW_ASSIGN_OR_RETURN(agent::ScanResult scan, agent::ScanTree(host, s.policy, so, *s.store));
  DW_RETURN_IF_ERROR(s.store->Flush());
  return scan;
}

Result<int64_t> SaveSnapshot(Session& s, const agent::ScanResult& scan, const std::string& kind,
                             const std::string& target, const std::string& root_path) {
  agent::SnapshotRow row;
  row.kind = kind;
  row.target = target;
  row.root_path = root_path;
  row.rules_hash = s.policy.Fingerprint().Hex();
  row.content_hash = s.policy.ContentFingerprint().Hex();
  row.root = scan.root;
  row.created_ns = scan.started_ns;
  row.stats = scan.stats;
  row.warnings = scan.warnings;
  row.subtrees = scan.subtrees;
  return s.store->AddSnapshot(row);
}

// `recorded` false: compare with the latest revision of `name` (kNotFound
// when there is none and `record_missing` is false).
// `root_label` is what the snapshot records as its root path.
Result<TreeDrift> CompareOrRecord(const TreeBaselineOptions& options, const std::string& name,
                                  const std::string& root, const std::string& root_label,
                                  const std::vector<std::string>& excluded, bool record_missing) {
  DW_ASSIGN_OR_RETURN(Session s, Open(options));
  DW_ASSIGN_OR_RETURN(std::optional<agent::BaselineRow> base, s.store->LatestBaseline(name));
  if (!base && !record_missing) {
    return Status::NotFound("no baseline named '" + name + "' in " + s.store->path());
  }
  DW_ASSIGN_OR_RETURN(agent::ScanResult scan, Scan(s, root));
  TreeDrift out;
  out.baseline = name;
  out.warnings = scan.warnings;
  if (!base) {
    DW_ASSIGN_OR_RETURN(int64_t id, SaveSnapshot(s, scan, "baseline", name, root_label));
    DW_RETURN_IF_ERROR(
        s.store->AddBaseline(name, id, scan.started_ns, options.author, "first check").status());
    out.recorded = true;
    return out;
  }
  DW_ASSIGN_OR_RETURN(agent::SnapshotRow snap, s.store->GetSnapshot(base->snapshot_id));
  if (snap.rules_hash != s.policy.Fingerprint().Hex()) {
    out.warnings.push_back("the container rules changed since baseline '" + name +
                           "' was taken; drift may reflect the rule change");
  }
  // Growing files are re-read below the root only (agent::ClassifyChange).
  ConfinedHost confined(DefaultHost(), root);
  DW_RETURN_IF_ERROR(DiffTrees(*s.store, snap.root, *s.store, scan.root, [&](Change c) -> Status {
    if (container::IsUnder(c.path, excluded)) return Status::Ok();
    if (auto ev = agent::ClassifyChange(c, s.policy, confined, root))
      out.events.push_back(std::move(*ev));
    return Status::Ok();
  }));
  std::sort(out.events.begin(), out.events.end(), [](const DriftEvent& a, const DriftEvent& b) {
    return a.path != b.path ? a.path < b.path : a.kind < b.kind;
  });
  // The scan's trees are not kept: the next prune drops what no snapshot
  // reaches.
  DW_RETURN_IF_ERROR(s.store->Prune(kKeepCheckSnapshots));
  return out;
}

std::string RootKind(const container::DiscoveredContainer& c) {
  return c.root_fstype.empty() ? "a directory, not a mount point" : c.root_fstype;
}

}  // namespace

std::string ContainerRulesPath() {
  if (const char* env = std::getenv("DRIFTWATCH_CONTAINER_RULES"); env != nullptr && *env != '\0')
    return env;
  for (const char* candidate :
       {"/etc/driftwatch/container.yaml", DRIFTWATCH_DATADIR "/rules/container.yaml",
        DRIFTWATCH_SOURCE_DIR "/rules/default/container.yaml"}) {
    if (::access(candidate, R_OK) == 0) return candidate;
  }
  return "/etc/driftwatch/container.yaml";
}

std::string ImageBaselineName(const std::string& image, const Hash128& digest) {
  return "image:" + image + "@" + digest.Hex();
}

Result<ImageBaseline> RecordImageBaseline(const TreeBaselineOptions& options,
                                          const std::string& name, const std::string& rootfs) {
  DW_ASSIGN_OR_RETURN(Session s, Open(options));
  DW_ASSIGN_OR_RETURN(agent::ScanResult scan, Scan(s, rootfs));
  ImageBaseline out;
  out.digest = scan.root;
  out.entries = scan.stats.files + scan.stats.dirs + scan.stats.others;
  out.baseline = ImageBaselineName(name, scan.root);
  DW_ASSIGN_OR_RETURN(int64_t id, SaveSnapshot(s, scan, "baseline", "image:" + name, rootfs));
  DW_RETURN_IF_ERROR(
      s.store->AddBaseline(out.baseline, id, scan.started_ns, options.author, "image import")
          .status());
  return out;
}

Result<std::optional<Hash128>> BaselineRoot(const TreeBaselineOptions& options,
                                            const std::string& name) {
  DW_ASSIGN_OR_RETURN(
      std::unique_ptr<agent::Store> store,
      agent::Store::Open(DefaultHost(),
                         options.db_path.empty() ? agent::DefaultDbPath() : options.db_path));
  DW_ASSIGN_OR_RETURN(std::optional<agent::BaselineRow> base, store->LatestBaseline(name));
  if (!base) return std::optional<Hash128>();
  DW_ASSIGN_OR_RETURN(agent::SnapshotRow snap, store->GetSnapshot(base->snapshot_id));
  return std::optional<Hash128>(snap.root);
}

Result<ImageBaseline> RecordTreeBaseline(const TreeBaselineOptions& options,
                                         const std::string& name, const std::string& root,
                                         const std::string& root_label, const std::string& reason) {
  DW_ASSIGN_OR_RETURN(Session s, Open(options));
  DW_ASSIGN_OR_RETURN(agent::ScanResult scan, Scan(s, root));
  ImageBaseline out;
  out.digest = scan.root;
  out.entries = scan.stats.files + scan.stats.dirs + scan.stats.others;
  out.baseline = name;
  DW_ASSIGN_OR_RETURN(int64_t id, SaveSnapshot(s, scan, "baseline", name, root_label));
  DW_RETURN_IF_ERROR(
      s.store->AddBaseline(name, id, scan.started_ns, options.author, reason).status());
  return out;
}

Result<TreeDrift> CheckTreeAgainstBaseline(const TreeBaselineOptions& options,
                                           const std::string& name, const std::string& root,
                                           const std::vector<std::string>& excluded) {
  return CompareOrRecord(options, name, root, root, excluded, true);
}

Result<TreeDrift> DiffTreeWithBaseline(const TreeBaselineOptions& options, const std::string& name,
                                       const std::string& root,
                                       const std::vector<std::string>& excluded) {
  return CompareOrRecord(options, name, root, root, excluded, false);
}

std::string ContainerBaselineName(const container::DiscoveredContainer& c) {
  return "container:" + c.runtime + ":" + c.id;
}

bool NeedsRootScan(const container::DiscoveredContainer& c) {
  // No overlay: a mount of another file system, or a directory that is no
  // mount point at all (a chroot into it: mountinfo then shows no "/").
  return !c.drift_known && !c.layers && c.pid > 0;
}

Result<TreeDrift> CheckContainerRoot(const TreeBaselineOptions& options,
                                     const container::DiscoveredContainer& c,
                                     const std::string& proc, const std::string& name,
                                     bool record) {
  const std::string base = proc + "/" + std::to_string(c.pid);
  int raw = open((base + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (raw < 0) return ErrnoStatus(base + "/root", errno);
  UniqueFd root(raw);
  // The pid may have exited and been reused since discovery: the fd must be
  // the root of the same mount namespace.
  struct stat ns;
  if (stat((base + "/ns/mnt").c_str(), &ns) != 0 || ns.st_ino != c.mnt_ns) {
    return Status::NotFound("container process " + std::to_string(c.pid) + " is gone");
  }
  std::vector<std::string> excluded = c.excluded;
  // Docker writes /.dockerenv into each container's init layer: its own
  // marker, in no image and absent from `docker diff`.
  if (c.runtime == "docker") excluded.push_back("/.dockerenv");
  auto text =
      container::ReadSmallFile(DefaultHost(), base + "/mountinfo", container::kMaxMountInfoBytes);
  if (!text.ok()) return text.status();
  DW_ASSIGN_OR_RETURN(std::vector<container::MountInfo> mounts, container::ParseMountInfo(*text));
  for (const container::MountInfo& m : mounts) {
    if (m.mount_point != "/") excluded.push_back(m.mount_point);
  }
  // Scanned through this process's fd of the root: a later pid reuse
  // cannot redirect the scan.
  return CompareOrRecord(options, name, "/proc/self/fd/" + std::to_string(root.get()),
                         base + "/root", excluded, record);
}

void AddRootDrift(const TreeBaselineOptions& options, const std::string& proc,
                  const std::string& label, container::DiscoveredContainer* c,
                  std::vector<std::string>* warnings, const std::string& baseline, bool record) {
  const std::string name = baseline.empty() ? ContainerBaselineName(*c) : baseline;
  auto drift = CheckContainerRoot(options, *c, proc, name, record);
  if (!record && !drift.ok() && drift.status().code() == StatusCode::kNotFound &&
      drift.status().message().rfind("no baseline named", 0) == 0) {
    c->note =
        "root is " + RootKind(*c) + ": no baseline '" + name + "' yet (the first check records it)";
    return;
  }
  if (!drift.ok()) {
    c->note = "root is " + RootKind(*c) + ", scan failed: " + drift.status().ToString();
    return;
  }
  for (const std::string& w : drift->warnings) warnings->push_back("container " + label + ": " + w);
  if (drift->recorded) {
    warnings->push_back("container " + label + ": root is " + RootKind(*c) + ", baseline '" +
                        drift->baseline + "' recorded (first check)");
  }
  c->drift_known = true;
  c->events = std::move(drift->events);
  c->note.clear();
}

}  // namespace driftwatch::cli
