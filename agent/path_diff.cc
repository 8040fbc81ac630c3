#include "agent/path_diff.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>

#include "agent/file_hash.h"
#include "agent/incremental.h"
#include "agent/store.h"
#include "core/normal_path.h"
#include "core/text_diff.h"
#include "core/tree_io.h"
#include "rules/policy.h"

namespace driftwatch::agent {
namespace {

std::string SizeText(uint64_t bytes) { return std::to_string(bytes) + " bytes"; }

Result<std::string> ReadAll(Host& host, int fd, const std::string& what, uint64_t max_bytes) {
  std::string out;
  char buf[64 << 10];
  for (;;) {
    DW_ASSIGN_OR_RETURN(size_t n, host.Read(fd, buf, sizeof buf));
    if (n == 0) return out;
    if (out.size() + n > max_bytes) {
      return Status::ResourceExhausted(what + ": larger than content_max (" + SizeText(max_bytes) +
                                       ")");
    }
    out.append(buf, n);
  }
}

// Whether the redacted file now differs from `entry`, from sizes and
// digests only.
Result<bool> RedactedDiffers(Host& host, const std::string& root, const std::string& path,
                             const std::optional<Entry>& entry) {
  struct stat st;
  Status s = host.StatAt(AT_FDCWD, HostPath(root, path), &st);
  const bool exists = s.ok() && S_ISREG(st.st_mode);
  if (!entry || !exists) return entry.has_value() != exists;
  if (static_cast<uint64_t>(st.st_size) != entry->size) return true;
  if (entry->content.empty()) return false;
  auto now = HashFilePrefix(host, HostPath(root, path), entry->size, entry->content.algo);
  if (!now.ok()) return now.status();
  return !(*now == entry->content);
}

}  // namespace

FileDiff DiffTexts(const std::optional<std::string>& old_text,
                   const std::optional<std::string>& new_text, const std::string& old_label,
                   const std::string& new_label) {
  FileDiff out;
  const std::string empty;
  const std::string& a = old_text ? *old_text : empty;
  const std::string& b = new_text ? *new_text : empty;
  out.differs = old_text.has_value() != new_text.has_value() || a != b;
  if (!out.differs) return out;
  if (LooksBinary(a) || LooksBinary(b)) {
    out.note = "binary";
    return out;
  }
  UnifiedDiffOptions options;
  options.old_label = old_label;
  options.new_label = new_label;
  out.diff = UnifiedDiff(a, b, options);
  return out;
}

Result<std::optional<std::string>> ReadFileBeneath(Host& host, const std::string& root,
                                                   std::string_view path, uint64_t max_bytes) {
  if (!IsCleanLogicalPath(path) || path == "/") {
    return Status::InvalidArgument("'" + EscapePath(path) +
                                   "': expected the absolute path of a file, like /etc/hosts");
  }
  auto dir = host.OpenAt(AT_FDCWD, root, O_RDONLY | O_DIRECTORY);
  if (!dir.ok()) return dir.status();
  UniqueFd fd = std::move(*dir);
  const std::vector<std::string> names = PathComponents(path);
  std::string walked;
  for (size_t i = 0; i < names.size(); ++i) {
    walked += "/" + names[i];
    const bool last = i + 1 == names.size();
    struct stat st;
    Status s = host.StatAt(fd.get(), names[i], &st);
    if (!s.ok()) {
      if (s.code() == StatusCode::kNotFound) return std::optional<std::string>();
      return s;
    }
    if (S_ISLNK(st.st_mode)) {
      return Status::InvalidArgument(EscapePath(walked) +
                                     " is a symlink; diff reads regular files and never follows "
                                     "symlinks");
    }
    if (!last && !S_ISDIR(st.st_mode)) return std::optional<std::string>();
    if (last && !S_ISREG(st.st_mode)) {
      return Status::InvalidArgument(EscapePath(walked) +
                                     " is not a regular file; diff compares regular files");
    }
    if (last && static_cast<uint64_t>(st.st_size) > max_bytes) {
      return Status::ResourceExhausted(EscapePath(walked) + ": larger than content_max (" +
                                       SizeText(max_bytes) + ")");
    }
    auto next = host.OpenAt(
        fd.get(), names[i],
        (last ? O_RDONLY : O_RDONLY | O_DIRECTORY) | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
    if (!next.ok()) return next.status();
    fd = std::move(*next);
  }
  DW_ASSIGN_OR_RETURN(std::string text, ReadAll(host, fd.get(), EscapePath(path), max_bytes));
  return std::optional<std::string>(std::move(text));
}

Result<PathDiff> DiffPathWithBaseline(const CheckOptions& options, const std::string& path) {
  if (options.host == nullptr) return Status::InvalidArgument("diff: no host given");
  if (!IsCleanLogicalPath(path) || path == "/") {
    return Status::InvalidArgument("'" + EscapePath(path) +
                                   "': expected the absolute path of a file, like /etc/hosts");
  }
  Host& host = *options.host;
  DW_ASSIGN_OR_RETURN(rules::Policy policy,
                      rules::LoadPolicyFile(host, options.rules_path.empty() ? DefaultRulesPath()
                                                                             : options.rules_path));
  DW_ASSIGN_OR_RETURN(
      std::unique_ptr<Store> store,
      Store::Open(host, options.db_path.empty() ? DefaultDbPath() : options.db_path));
  DW_ASSIGN_OR_RETURN(std::optional<BaselineRow> row, store->LatestBaseline(options.baseline));
  if (!row) {
    return Status::NotFound("no baseline named '" + options.baseline + "' in " + store->path() +
                            " (create one with: driftwatch baseline create)");
  }
  DW_ASSIGN_OR_RETURN(SnapshotRow snap, store->GetSnapshot(row->snapshot_id));
  if (snap.root_path != options.root) {
    return Status::InvalidArgument("baseline '" + options.baseline + "' was taken of root " +
                                   snap.root_path + ", not " + options.root);
  }
  PathDiff out;
  out.baseline = row->name;
  out.revision = row->revision;
  out.old_label =
      EscapePath(path) + "\tbaseline " + row->name + " revision " + std::to_string(row->revision);
  out.new_label = EscapePath(path) + "\tnow";
  const std::string shown = EscapePath(path);
  const std::string where =
      "baseline '" + row->name + "' revision " + std::to_string(row->revision);
  DW_ASSIGN_OR_RETURN(std::optional<Entry> entry, LookupEntry(*store, snap.root, path));
  if (entry && entry->type != EntryType::kFile) {
    return Status::InvalidArgument(shown + " is a " + std::string(EntryTypeName(entry->type)) +
                                   " in " + where + "; diff compares regular files");
  }
  const rules::ContentRule rule = policy.Content(path);
  if (rule.mode == rules::ContentMode::kRedact) {
    DW_ASSIGN_OR_RETURN(out.file.differs, RedactedDiffers(host, options.root, path, entry));
    out.file.note = "redacted";
    return out;
  }
  if (rule.mode != rules::ContentMode::kKeep) {
    return Status::FailedPrecondition(shown +
                                      ": its content is not kept: no rule says `content: keep` "
                                      "for it (docs/content.md)");
  }
  std::optional<std::string> old_text;
  if (entry) {
    if (entry->size > rule.max_bytes) {
      return Status::FailedPrecondition(shown + ": its content is not kept: it was " +
                                        SizeText(entry->size) + " in " + where +
                                        ", over content_max (" + SizeText(rule.max_bytes) + ")");
    }
    std::optional<std::string> blob;
    if (!entry->content.empty()) {
      DW_ASSIGN_OR_RETURN(blob, store->GetContent(entry->content));
    }
    if (!blob) {
      return Status::FailedPrecondition(
          shown + ": " + where +
          " has no copy of its content (taken before its rule kept content?); a new baseline "
          "keeps one: driftwatch baseline create");
    }
    old_text = std::move(blob);
  }
  DW_ASSIGN_OR_RETURN(std::optional<std::string> new_text,
                      ReadFileBeneath(host, options.root, path, rule.max_bytes));
  if (!entry && !new_text) {
    return Status::NotFound(shown + ": neither in " + where + " nor under " + options.root);
  }
  out.file = DiffTexts(old_text, new_text, out.old_label, out.new_label);
  return out;
}

}  // namespace driftwatch::agent
