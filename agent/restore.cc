#include "agent/restore.h"

#include <fcntl.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "agent/content.h"
#include "agent/restore_fs.h"
#include "agent/restore_plan.h"
#include "agent/scanner.h"
#include "agent/store.h"
#include "core/diff.h"
#include "core/tree_io.h"
#include "rules/policy.h"

namespace driftwatch::agent {
namespace {

std::string BaseName(const std::string& path) { return path.substr(path.rfind('/') + 1); }

bool Beneath(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         (dir == "/" || path[dir.size()] == '/');
}

std::string Octal(uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

// Why a file's content cannot be put back, from its content rule.
std::string NotKeptReason(const rules::Policy& policy, const std::string& path) {
  const rules::ContentRule rule = policy.Content(path);
  switch (rule.mode) {
    case rules::ContentMode::kRedact:
      return "its content is redacted (content: redact), so no copy was kept";
    case rules::ContentMode::kNone:
      return "its content was not kept (no rule says content: keep)";
    case rules::ContentMode::kKeep:
      break;
  }
  return "its content was not kept (larger than content_max " + std::to_string(rule.max_bytes) +
         " bytes, or the baseline predates content: keep)";
}

// Everything one restore works with.
struct Run {
  const RestoreOptions& options;
  Host& host;
  std::optional<rules::Policy> policy;  // set by OpenRun
  std::unique_ptr<Store> store;
  ContentStore* blobs = nullptr;  // the store
  BaselineRow baseline;
  SnapshotRow snapshot;
  RestoreResult result;
};

void Add(Run& run, const std::string& path, std::string action, std::string detail, bool ok) {
  if (run.options.dry_run && ok && action != "unchanged") detail = "dry run: would " + detail;
  run.result.actions.push_back({path, std::move(action), std::move(detail), ok});
}

// The xattr set `e` records: nullptr when its rule records none; kNotFound
// when it was not kept.
Result<std::optional<std::vector<Xattr>>> WantedXattrs(Run& run, const Entry& e) {
  if (!(e.mask & kAttrXattrs)) return std::optional<std::vector<Xattr>>();
  if (e.xattrs.IsZero()) return std::optional<std::vector<Xattr>>(std::vector<Xattr>{});
  std::optional<std::vector<Xattr>> kept;
  if (run.blobs != nullptr) {
    DW_ASSIGN_OR_RETURN(kept, run.blobs->GetXattrs(e.xattrs));
  }
  if (!kept) return Status::NotFound("its extended attributes (ACLs, capabilities) were not kept");
  return kept;
}

Result<std::string> WantedContent(Run& run, const std::string& path, const Entry& e) {
  if (!(e.mask & kAttrHash)) {
    return Status::NotFound("its rule records no content digest, so no copy was kept");
  }
  std::optional<std::string> kept;
  if (run.blobs != nullptr) {
    DW_ASSIGN_OR_RETURN(kept, run.blobs->GetContent(e.content));
  }
  if (kept) return *kept;
  if ((e.mask & kAttrSize) && e.size == 0) return std::string();
  return Status::NotFound(NotKeptReason(*run.policy, path));
}

// Restores one path; false when it was refused or failed.
bool RestoreOne(Run& run, RestoreFs& fs, const Change& c) {
  const std::string& path = c.path;
  const RestorePlan plan = PlanChange(c, run.options.remove_added);
  if (!plan.refusal.empty()) {
    Add(run, path, "refused", plan.refusal, false);
    return false;
  }
  if (plan.steps.empty()) {
    Add(run, path, "unchanged", plan.note, true);
    return true;
  }
  // Fetch what the steps need before touching anything.
  std::optional<std::string> content;
  std::optional<std::vector<Xattr>> xattrs;
  const EntryType type = c.old_entry ? c.old_entry->type : c.new_entry->type;
  for (RestoreStep step : plan.steps) {
    const bool makes_file =
        (step == RestoreStep::kCreate || step == RestoreStep::kWrite) && type == EntryType::kFile;
    Status missing = Status::Ok();
    if (makes_file && !content) {
      auto got = WantedContent(run, path, *c.old_entry);
      if (got.ok()) content = std::move(*got);
      missing = got.status();
    }
    if (missing.ok() && (step == RestoreStep::kCreate || step == RestoreStep::kWrite ||
                         step == RestoreStep::kXattrs || step == RestoreStep::kSymlink)) {
      auto got = WantedXattrs(run, *c.old_entry);
      if (got.ok()) xattrs = std::move(*got);
      missing = got.status();
    }
    if (!missing.ok()) {
      Add(run, path, "refused", missing.message(), false);
      return false;
    }
  }
  BaselineLookup lookup = [&run](const std::string& p) {
    return LookupEntry(*run.store, run.snapshot.root, p);
  };
  auto parent = fs.OpenParent(path, lookup);
  if (!parent.ok()) {
    Add(run, path, "refused", parent.status().message(), false);
    return false;
  }
  const int dir = parent->valid() ? parent->get() : -1;
  const std::string name = BaseName(path);
  for (RestoreStep step : plan.steps) {
    const std::string action = StepName(step, c.old_entry ? c.old_entry->type : type);
    Status s = Status::Ok();
    std::string detail;
    if (step == RestoreStep::kRemove) {
      uint64_t removed = 0;
      s = fs.RemoveTree(dir, name, &removed);
      detail = "remove " + std::to_string(removed) + (removed == 1 ? " entry" : " entries");
    } else {
      Entry want = *c.old_entry;
      // Attributes its rule does not record stay as they are now.
      struct stat st;
      std::optional<std::vector<Xattr>> keep_xattrs = xattrs;
      if (dir >= 0 && run.host.StatAt(dir, name, &st).ok() && !S_ISLNK(st.st_mode)) {
        if (!(want.mask & kAttrPerm)) want.mode = st.st_mode & 07777, want.mask |= kAttrPerm;
        if (!(want.mask & kAttrUid)) want.uid = st.st_uid, want.mask |= kAttrUid;
        if (!(want.mask & kAttrGid)) want.gid = st.st_gid, want.mask |= kAttrGid;
        if (!keep_xattrs) {
          auto now = run.host.XattrsAt(dir, name);
          if (now.ok()) keep_xattrs = std::move(*now);
        }
      }
      const std::vector<Xattr>* xp = keep_xattrs ? &*keep_xattrs : nullptr;
      switch (step) {
        case RestoreStep::kCreate:
        case RestoreStep::kWrite:
        case RestoreStep::kSymlink:
          s = fs.Create(dir, name, want, content ? &*content : nullptr, xp);
          if (want.type == EntryType::kDir) {
            detail = "make the directory, mode " + Octal(want.mode);
            if (fs.dry_run()) fs.NoteMade(path);
          } else if (want.type == EntryType::kSymlink) {
            detail = "point it at " + want.link_target;
          } else {
            detail = "write " + std::to_string(content ? content->size() : 0) +
                     " bytes from baseline " + run.baseline.name + " revision " +
                     std::to_string(run.baseline.revision);
          }
          break;
        case RestoreStep::kChown:
          s = fs.Chown(dir, name, want);
          detail = "owner " + std::to_string(want.uid) + ":" + std::to_string(want.gid);
          break;
        case RestoreStep::kXattrs:
          if (xp != nullptr) s = fs.SetXattrs(dir, name, *xp);
          detail = "set " + std::to_string(xp ? xp->size() : 0) + " extended attributes";
          break;
        case RestoreStep::kChmod:
          s = fs.Chmod(dir, name, want);
          detail = "mode " + Octal(want.mode);
          break;
        case RestoreStep::kRemove:
          break;
      }
    }
    if (!s.ok()) {
      Add(run, path, action, "failed: " + s.message(), false);
      return false;
    }
    Add(run, path, action, detail, true);
  }
  return true;
}

Status OpenRun(Run& run) {
  const CheckOptions& co = run.options.check;
  const std::string rules_path = co.rules_path.empty() ? DefaultRulesPath() : co.rules_path;
  DW_ASSIGN_OR_RETURN(rules::Policy policy, rules::LoadPolicyFile(run.host, rules_path));
  run.policy.emplace(std::move(policy));
  DW_ASSIGN_OR_RETURN(run.store,
                      Store::Open(run.host, co.db_path.empty() ? DefaultDbPath() : co.db_path));
  run.blobs = run.store.get();
  DW_ASSIGN_OR_RETURN(std::optional<BaselineRow> row, run.store->LatestBaseline(co.baseline));
  if (!row) {
    return Status::NotFound("no baseline named '" + co.baseline + "' in " + run.store->path() +
                            " (create one with: driftwatch baseline create)");
  }
  run.baseline = *row;
  DW_ASSIGN_OR_RETURN(run.snapshot, run.store->GetSnapshot(row->snapshot_id));
  if (run.snapshot.root_path != co.root) {
    return Status::InvalidArgument("baseline '" + co.baseline + "' was taken of root " +
                                   run.snapshot.root_path + ", not " + co.root);
  }
  run.result.baseline = run.baseline.name;
  run.result.revision = run.baseline.revision;
  return Status::Ok();
}

// The drift the rules report, at the selected paths, in path order (a
// directory before what is beneath it).
Result<std::vector<Change>> SelectedDrift(Run& run) {
  const CheckOptions& co = run.options.check;
  ScanOptions so;
  so.root = co.root;
  so.jobs = co.jobs;
  so.cache = run.store.get();
  DW_RETURN_IF_ERROR(run.store->BeginScanReads());
  auto scan = ScanTree(run.host, *run.policy, so, *run.store);
  run.store->EndScanReads();
  if (!scan.ok()) return scan.status();
  DW_RETURN_IF_ERROR(run.store->Flush());
  std::vector<Change> out;
  DW_RETURN_IF_ERROR(
      DiffTrees(*run.store, run.snapshot.root, *run.store, scan->root, [&](Change c) -> Status {
        if (!run.options.all && !SelectedBy(c.path, run.options.paths)) return Status::Ok();
        if (ClassifyChange(c, *run.policy, run.host, co.root)) out.push_back(std::move(c));
        return Status::Ok();
      }));
  return out;
}

}  // namespace

Result<RestoreResult> Restore(const RestoreOptions& options) {
  if (options.check.host == nullptr) return Status::InvalidArgument("restore: no host given");
  if (!options.all && options.paths.empty()) {
    return Status::InvalidArgument("restore: no paths given (name paths or ask for all)");
  }
  Run run{options, *options.check.host, {}, nullptr, nullptr, {}, {}, {}};
  DW_RETURN_IF_ERROR(OpenRun(run));
  DW_ASSIGN_OR_RETURN(std::vector<Change> changes, SelectedDrift(run));
  if (changes.empty() && !options.all) {
    // Nothing drifted at the named paths: fine when the baseline has them.
    for (const std::string& p : options.paths) {
      DW_ASSIGN_OR_RETURN(std::optional<Entry> e, LookupEntry(*run.store, run.snapshot.root, p));
      if (e) Add(run, p, "unchanged", "already as in the baseline", true);
    }
    if (run.result.actions.empty()) {
      return Status::NotFound("no path of baseline '" + run.baseline.name +
                              "' matches the given paths, and none of them drifted");
    }
  }
  DW_ASSIGN_OR_RETURN(RestoreFs fs, RestoreFs::Open(run.host, options.check.root, options.dry_run));
  std::vector<std::string> removed;  // trees removed whole
  std::vector<std::string> failed;   // directories refused or failed
  for (const Change& c : changes) {
    auto under = [&c](const std::vector<std::string>& dirs) {
      return std::any_of(dirs.begin(), dirs.end(),
                         [&c](const std::string& d) { return Beneath(c.path, d); });
    };
    if (under(removed)) continue;
    if (under(failed)) {
      Add(run, c.path, "refused", "a directory above it was not restored", false);
      ++run.result.refused;
      continue;
    }
    const bool ok = RestoreOne(run, fs, c);
    const bool dir_now = c.new_entry && c.new_entry->type == EntryType::kDir;
    const bool dir_then = c.old_entry && c.old_entry->type == EntryType::kDir;
    if (!ok) {
      ++run.result.refused;
      if (dir_now || dir_then) failed.push_back(c.path);
    } else if (dir_now && !dir_then && options.remove_added) {
      // Removed with all it held: what was beneath it is gone.
      removed.push_back(c.path);
    }
  }
  if (!options.dry_run) {
    RestoreRow row;
    row.created_ns = run.host.NowNs();
    row.author = options.author;
    row.reason = options.reason;
    row.baseline = run.baseline.name;
    row.revision = run.baseline.revision;
    row.refused = run.result.refused;
    row.actions = run.result.actions;
    DW_ASSIGN_OR_RETURN(run.result.history_id, run.store->RecordRestore(row));
  }
  return run.result;
}

}  // namespace driftwatch::agent
