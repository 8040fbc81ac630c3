// `driftwatch diff PATH`: one file's kept baseline copy against the file
// now (docs/content.md, "Diffs"), and the pieces the container form
// (`container:NAME:/path`) shares with it.
//
// Only regular files are diffed, read without following symlinks (neither
// the last component nor a parent directory), at most the rule's
// content_max bytes. Content whose rule says `content: redact` is never
// read into the result: only whether it differs (from its digest).
//
// Errors: kInvalidArgument for a path that is not clean and absolute or not
// a regular file; kNotFound for a path in neither the baseline nor the tree,
// or a missing baseline; kFailedPrecondition when the content is not kept
// (no `content: keep` rule, over content_max, or no copy in the baseline),
// saying which.
//
// Thread-safety: each call opens its own store handle.
#ifndef DRIFTWATCH_AGENT_PATH_DIFF_H_
#define DRIFTWATCH_AGENT_PATH_DIFF_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/check.h"
#include "core/host.h"
#include "core/status.h"

namespace driftwatch::agent {

// Two versions of one file compared.
struct FileDiff {
  bool differs = false;
  // "" (a text diff, empty when equal), "binary" (a side looks binary; no
  // text diff) or "redacted" (nothing of the content is shown).
  std::string note;
  std::string diff;  // GNU `diff -u` output for the labels given
};

// The unified diff of two sides; nullopt is an absent file (diffed against
// empty text, as `diff -N` does).
FileDiff DiffTexts(const std::optional<std::string>& old_text,
                   const std::optional<std::string>& new_text, const std::string& old_label,
                   const std::string& new_label);

// The regular file at logical `path` below the directory `root` (a host
// path), read without following any symlink: nullopt when it (or a parent)
// does not exist. kInvalidArgument when it or a parent is not what it must
// be (a symlink, a directory), kResourceExhausted past max_bytes.
Result<std::optional<std::string>> ReadFileBeneath(Host& host, const std::string& root,
                                                   std::string_view path, uint64_t max_bytes);

struct PathDiff {
  std::string baseline;
  int64_t revision = 0;
  std::string old_label;  // "PATH\tbaseline NAME revision N"
  std::string new_label;  // "PATH\tnow"
  FileDiff file;
};

// Compares the kept copy of `path` in the latest revision of
// options.baseline (taken of options.root, with the rules at
// options.rules_path) with the file under options.root now.
Result<PathDiff> DiffPathWithBaseline(const CheckOptions& options, const std::string& path);

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_PATH_DIFF_H_
