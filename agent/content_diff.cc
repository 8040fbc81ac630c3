#include "agent/content_diff.h"

#include "core/text_diff.h"

namespace driftwatch::agent {
namespace {

bool IsFile(const std::optional<Entry>& e) { return e && e->type == EntryType::kFile; }

// Whether the event is about a regular file's content: added or removed
// files, and files whose hash changed.
bool ContentChanged(const DriftEvent& e) {
  switch (e.kind) {
    case DriftKind::kAdded:
      return IsFile(e.new_entry);
    case DriftKind::kRemoved:
      return IsFile(e.old_entry);
    case DriftKind::kModified:
      return IsFile(e.old_entry) && IsFile(e.new_entry) && (e.changed & kAttrHash) != 0;
    default:
      return false;
  }
}

// One side's kept text: "" for a side that is absent, nullopt when its
// content is not kept (over the cap, no digest, no blob, or unreadable:
// the last is also a warning).
std::optional<std::string> KeptSide(ContentStore& store, const std::optional<Entry>& entry,
                                    const rules::ContentRule& rule, const std::string& path,
                                    std::vector<std::string>* warnings) {
  if (!entry) return std::string();
  if (entry->content.empty() || entry->size > rule.max_bytes) return std::nullopt;
  auto blob = store.GetContent(entry->content);
  if (!blob.ok()) {
    warnings->push_back("content of " + EscapePath(path) + ": " + blob.status().message());
    return std::nullopt;
  }
  return std::move(*blob);
}

}  // namespace

std::vector<std::string> AddContentDiffs(ContentStore& store, const rules::Policy& policy,
                                         std::vector<DriftEvent>* events) {
  std::vector<std::string> warnings;
  for (DriftEvent& e : *events) {
    if (!ContentChanged(e)) continue;
    const rules::ContentRule rule = policy.Content(e.path);
    e.diff.clear();
    e.content_note.clear();
    if (rule.mode == rules::ContentMode::kNone) continue;
    if (rule.mode == rules::ContentMode::kRedact) {
      e.content_note = "redacted";
      continue;
    }
    std::optional<std::string> old_text = KeptSide(store, e.old_entry, rule, e.path, &warnings);
    std::optional<std::string> new_text = KeptSide(store, e.new_entry, rule, e.path, &warnings);
    if (!old_text || !new_text) {
      e.content_note = "not-kept";
      continue;
    }
    if (LooksBinary(*old_text) || LooksBinary(*new_text)) {
      e.content_note = "binary";
      continue;
    }
    UnifiedDiffOptions options;
    options.old_label = EscapePath(e.path);  // a newline in a name cannot fake a line
    options.new_label = EscapePath(e.path);
    options.max_bytes = kMaxEventDiffBytes;
    e.diff = UnifiedDiff(*old_text, *new_text, options);
  }
  return warnings;
}

}  // namespace driftwatch::agent
