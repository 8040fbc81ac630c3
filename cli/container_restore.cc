#include "cli/container_restore.h"

#include <cstdio>
#include <memory>

#include "agent/restore_fs.h"
#include "agent/restore_plan.h"
#include "agent/store.h"
#include "container/launcher.h"
#include "container/layer_fs.h"
#include "container/upper_diff.h"

namespace driftwatch::cli {
namespace {

std::string Parent(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

// The nearest upper directory above `path` that hides or renames the
// image's ("" when none).
std::string HidingAncestor(const container::UpperListing& upper, const std::string& path) {
  for (std::string dir = Parent(path);; dir = Parent(dir)) {
    const container::UpperNode* n = upper.Find(dir);
    if (n != nullptr && (n->opaque || n->redirect)) return dir;
    if (dir == "/") return "";
  }
}

struct Step {
  std::string action;
  std::string detail;
  Status status;
};

Step RestoreEvent(agent::RestoreFs& fs, const container::UpperListing& upper,
                  const container::ContainerRecord& r, const DriftEvent& e, bool* removed_tree) {
  const std::string hiding = HidingAncestor(upper, e.path);
  if (!hiding.empty()) {
    return {"refused",
            "beneath " + hiding +
                ", an opaque or renamed directory of the upper layer: removing "
                "an entry there would not bring the image's back",
            Status::Ok()};
  }
  const container::UpperNode* node = upper.Find(e.path);
  if (node == nullptr) return {"refused", "not in the upper layer", Status::Ok()};
  auto lookup = [](const std::string&) -> Result<std::optional<Entry>> {
    return std::optional<Entry>();  // the upper layer's directories are never made
  };
  auto dir = fs.OpenParent(e.path, lookup);
  if (!dir.ok()) return {"refused", dir.status().message(), Status::Ok()};
  const int dir_fd = dir->valid() ? dir->get() : -1;
  const std::string name = e.path.substr(e.path.rfind('/') + 1);
  const bool both_dirs = e.old_entry && e.new_entry && e.old_entry->type == EntryType::kDir &&
                         e.new_entry->type == EntryType::kDir;
  if (e.kind == DriftKind::kModified && both_dirs) {
    if (r.userns.enabled()) {
      return {"refused",
              "a directory of a container in a user namespace (its owners are shifted on disk)",
              Status::Ok()};
    }
    Entry want = *e.old_entry;
    Status s = fs.Chown(dir_fd, name, want);
    if (s.ok()) s = fs.Chmod(dir_fd, name, want);
    char mode[16];
    std::snprintf(mode, sizeof mode, "%04o", want.mode & 07777);
    return {"chmod",
            "owner " + std::to_string(want.uid) + ":" + std::to_string(want.gid) + ", mode " +
                mode + " as in the image",
            s};
  }
  if (e.kind == DriftKind::kRemoved && !node->whiteout) {
    return {"refused", "no whiteout at this path in the upper layer", Status::Ok()};
  }
  uint64_t count = 0;
  Status s = fs.RemoveTree(dir_fd, name, &count);
  *removed_tree = node->entry.type == EntryType::kDir;
  switch (e.kind) {
    case DriftKind::kAdded:
      return {"remove", "remove " + std::to_string(count) + " upper-layer entries", s};
    case DriftKind::kRemoved:
      return {"create", "remove the whiteout: the image's entry shows again", s};
    default:
      return {"write", "remove the upper copy: the image's shows again", s};
  }
}

}  // namespace

Result<agent::RestoreResult> RestoreContainer(const container::StateDir& state,
                                              const ContainerRestoreOptions& options) {
  Host& host = state.host();
  DW_ASSIGN_OR_RETURN(container::ContainerRecord r,
                      container::InspectContainer(state, options.name));
  if (container::IsRunning(host, r)) {
    return Status::InvalidArgument(
        "container " + r.name +
        " is running: its upper layer cannot be changed under the mounted overlay; stop it "
        "first (driftwatch container stop " +
        r.name + ")");
  }
  DW_ASSIGN_OR_RETURN(std::vector<DriftEvent> events, container::DiffContainer(state, r));
  const std::string upper_dir = state.ContainerDir(r.name) + "/upper";
  DW_ASSIGN_OR_RETURN(container::UpperListing upper,
                      container::ReadUpperLayer(host, upper_dir, r.userns));
  DW_ASSIGN_OR_RETURN(agent::RestoreFs fs,
                      agent::RestoreFs::Open(host, upper_dir, options.dry_run));
  agent::RestoreResult result;
  result.baseline = "image:" + r.image;
  std::vector<std::string> removed;
  for (const DriftEvent& e : events) {
    if (!options.paths.empty() && !agent::SelectedBy(e.path, options.paths)) continue;
    if (container::IsUnder(e.path, removed)) continue;
    bool removed_tree = false;
    Step step = RestoreEvent(fs, upper, r, e, &removed_tree);
    const bool ok = step.action != "refused" && step.status.ok();
    std::string detail = step.status.ok() ? step.detail : "failed: " + step.status.message();
    if (ok && options.dry_run) detail = "dry run: would " + detail;
    result.actions.push_back({e.path, step.action, detail, ok});
    if (!ok) ++result.refused;
    if (ok && removed_tree) removed.push_back(e.path);
  }
  if (!options.paths.empty() && result.actions.empty()) {
    return Status::NotFound("container " + r.name + ": no drift at the given paths");
  }
  if (!options.dry_run) {
    DW_ASSIGN_OR_RETURN(std::unique_ptr<agent::Store> store,
                        agent::Store::Open(host, options.db_path.empty() ? agent::DefaultDbPath()
                                                                         : options.db_path));
    agent::RestoreRow row;
    row.created_ns = host.NowNs();
    row.author = options.author;
    row.reason = options.reason;
    row.baseline = "container:" + r.name + " " + result.baseline;
    row.refused = result.refused;
    row.actions = result.actions;
    DW_ASSIGN_OR_RETURN(result.history_id, store->RecordRestore(row));
  }
  return result;
}

}  // namespace driftwatch::cli
