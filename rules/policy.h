// Policy: the parsed rule set of the rule language v1 (docs/rules.md).
//
// A Policy is an ordered list of Rules (load order: an included file's rules
// come before the rules of the file that includes it) plus an index that
// answers "which rule governs this path" quickly. The most specific matching
// rule wins; ignore rules take part in that contest like any other rule.
//
// Specificity, compared in this order (higher wins):
//   1. a pattern without any wildcard (an exact path) beats every glob;
//   2. more leading literal components ("/etc/ssh/**" = 2 beats "/etc/**" = 1);
//   3. more literally matched bytes overall ("/etc/*.conf" = 8 beats "/etc/*" = 3);
//   4. fewer '**' components;
//   5. the rule later in load order.
//
// Thread-safety: a Policy is immutable once built; every method is const and
// may be called from many threads at once. Match() does not allocate.
#ifndef DRIFTWATCH_RULES_POLICY_H_
#define DRIFTWATCH_RULES_POLICY_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/drift.h"
#include "core/entry.h"
#include "core/hash.h"
#include "core/host.h"
#include "core/status.h"
#include "rules/glob.h"

namespace driftwatch::rules {

// The rule language version this build reads.
inline constexpr int kRulesVersion = 1;

// Caps on hostile or runaway input.
inline constexpr size_t kMaxRuleFileBytes = 1 << 20;  // per file
inline constexpr size_t kMaxRuleFiles = 64;           // top file + includes
inline constexpr int kMaxIncludeDepth = 8;            // top file is depth 0
inline constexpr size_t kMaxRules = 10000;            // over all files
inline constexpr size_t kMaxSets = 1000;              // over all files
inline constexpr size_t kMaxCheckItems = 64;          // names in one list

// What is kept of a file's content (docs/content.md, docs/rules.md).
enum class ContentMode : uint8_t {
  kNone = 0,    // digests only
  kKeep = 1,    // a compressed copy in the agent store, for diffs and restore
  kRedact = 2,  // never kept, never diffed: events say "redacted"
};
std::string_view ContentModeName(ContentMode m);  // "none", "keep", "redact"
Result<ContentMode> ParseContentMode(std::string_view name);
// A content_max value: bytes, or a number with a K, M or G suffix (powers
// of 1024; "KiB"/"MiB"/"GiB" and lower case accepted), at most
// kMaxContentMaxBytes.
Result<uint64_t> ParseContentSize(std::string_view text);

inline constexpr uint64_t kDefaultContentMaxBytes = 1 << 20;
// The largest content_max a rule may set (a kept file is held in memory
// while it is hashed and compressed).
inline constexpr uint64_t kMaxContentMaxBytes = 64 << 20;

// Whether a path takes part in comparisons with the host's peers (docs/rules.md
// "Peers"): `peer: ignore` marks what is truly per host (/etc/hostname,
// machine-id, host keys), left out of fleet outliers and group baselines.
enum class PeerMode : uint8_t {
  kCompare = 0,  // the default
  kIgnore = 1,
};
std::string_view PeerModeName(PeerMode m);  // "compare", "ignore"
Result<PeerMode> ParsePeerMode(std::string_view name);

struct Rule;

// The content decision for one path (Policy::Content).
struct ContentRule {
  ContentMode mode = ContentMode::kNone;
  uint64_t max_bytes = kDefaultContentMaxBytes;  // keep: larger files are not kept
  const Rule* rule = nullptr;                    // the rule that decided; null: none did
};

struct Rule {
  std::string glob;           // absolute pattern as written
  uint32_t mask = kAttrType;  // Attr bits (core/entry.h); kAttrType always set
  bool ignore = false;
  Severity severity = Severity::kMedium;
  HashAlgo hash = HashAlgo::kXxh128;
  bool cross_mounts = false;
  std::string origin;  // "host.yaml:12" (file base name : line of the rule)
  // `content:` and `content_max:` (docs/rules.md). Content is decided apart
  // from checks: by the most specific rule that sets `content` (see
  // Policy::Content). A rule with only path, content and content_max is
  // content_only: it decides content and takes no part in Match().
  std::optional<ContentMode> content;
  uint64_t content_max = kDefaultContentMaxBytes;
  // Only path and content or peer keys: the rule decides those and takes no
  // part in Match().
  bool content_only = false;
  // `peer:` (docs/rules.md "Peers"), decided like content: by the most
  // specific rule that sets it (Policy::PeerIgnored).
  std::optional<PeerMode> peer;

  // "/etc/** (host.yaml:12)", or just the glob when origin is empty. Used as
  // the `rule` field of drift events.
  std::string Describe() const;
};

class Policy {
 public:
  // Builds a policy from rules in load order. Fails (kInvalidArgument) when a
  // glob does not compile ("ORIGIN: glob '...': reason") or when there are
  // more than kMaxRules rules. kAttrType is added to every mask.
  static Result<Policy> Create(std::vector<Rule> rules,
                               std::optional<Severity> package_upgrades = std::nullopt,
                               std::vector<std::string> files = {});

  Policy(Policy&&) = default;
  Policy& operator=(Policy&&) = default;
  Policy(const Policy&) = default;
  Policy& operator=(const Policy&) = default;

  // The most specific rule matching `path` (absolute, normalized; "/" is the
  // root), which may be an ignore rule; nullptr when no rule matches. The
  // pointer stays valid as long as the Policy.
  const Rule* Match(std::string_view path) const;

  // False only when no path strictly below directory `dir` can get a
  // non-ignore rule from Match(): then a scanner may skip the subtree. It
  // accounts for ignore rules that cover the whole subtree and outrank every
  // non-ignore rule that could match in it ("/var/cache/**" ignore under
  // "/**"). When it is true, the subtree must be walked even if Match(dir)
  // itself is an ignore rule ("/var/log/**" ignore, "/var/log/auth.log").
  bool CouldMatchBelow(std::string_view dir) const;

  // What is kept of the content of the file at `path`: the most specific
  // rule (same ranking as Match) among those that set `content`; mode kNone
  // when none matches. Ignore rules never decide content.
  ContentRule Content(std::string_view path) const;

  // Whether `path` is host-specific: the most specific rule (same ranking as
  // Match) among those that set `peer` says `ignore`. Ignore rules never set
  // peer. A host-specific directory makes everything beneath it so.
  bool PeerIgnored(std::string_view path) const;
  // False only when no path strictly below directory `dir` can be
  // PeerIgnored: a walk collecting host-specific paths may skip the subtree.
  bool PeerIgnoredBelow(std::string_view dir) const;

  // Where a scan starts: the literal prefixes of the non-ignore rules,
  // sorted, with every prefix inside another one dropped. A root may name a
  // file (an exact-path rule such as "/etc/shadow") or not exist at all.
  std::vector<std::string> Roots() const;

  // XXH3-128 over the effective rules: globs, masks, ignore, severities,
  // hashes, cross_mounts, their order, and package_upgrades. Origins (file
  // names, line numbers) are left out: moving a rule to another line does
  // not change what is checked. Content (`content`, `content_max` and the
  // content-only rules) is left out too: it does not change what is
  // checked, and a scan keeps what the rules in force say (a file newly
  // kept has no blob, so the stat cache does not spare it a read).
  Hash128 Fingerprint() const;
  // XXH3-128 over what decides content: the globs, content modes and
  // content_max of the rules that set `content`, in order. A scan that
  // reuses an earlier one (journal-driven) must have been taken with the
  // same, or newly kept files would be taken over without their content.
  Hash128 ContentFingerprint() const;

  const std::vector<Rule>& rules() const { return rules_; }
  std::optional<Severity> package_upgrades() const { return package_upgrades_; }
  // Every file loaded, the top one first, then includes in the order they
  // were first reached.
  const std::vector<std::string>& files() const { return files_; }

 private:
  // Rank of a rule, compared lexicographically; see the file comment.
  struct Rank {
    uint32_t literal;  // 1 for an exact path
    uint32_t components;
    uint32_t bytes;
    uint32_t inv_stars;  // UINT32_MAX - double_stars
    uint32_t order;
    friend auto operator<=>(const Rank&, const Rank&) = default;
  };
  // A node of the trie of literal prefixes; node 0 is "/".
  struct Node {
    uint32_t parent = 0;
    std::vector<std::pair<std::string, uint32_t>> children;  // sorted by name
    int32_t exact = -1;                                      // best exact-path rule of this path
    std::vector<uint32_t> globs;          // wildcard rules with this prefix, best first
    std::optional<Rank> best_kept_below;  // best non-ignore rule in the strict subtree
  };

  Policy() = default;
  // Walks the trie along `path`; returns the deepest node reached and whether
  // every component of `path` was consumed.
  uint32_t Walk(std::string_view path, bool* whole) const;

  std::vector<Rule> rules_;
  std::vector<Glob> globs_;
  std::vector<Rank> ranks_;
  std::vector<Node> nodes_;
  std::optional<Severity> package_upgrades_;
  std::vector<std::string> files_;
  // The rules that set `content` (ignore rules left out), as a policy of
  // their own so that Content() ranks them like Match() does; null when
  // there are none. content_rules_[i] is the index in rules_ of its rule i.
  std::shared_ptr<const Policy> content_;
  std::vector<uint32_t> content_rules_;
  // The rules that set `peer`, as a policy of their own: `peer: compare`
  // rules are its ignore rules, so its Match() answers PeerIgnored. Null
  // when there are none.
  std::shared_ptr<const Policy> peer_;
};

// Reads one file's text; used to resolve includes.
using ReadFileFn = std::function<Result<std::string>(const std::string& path)>;

// Parses one rule document (pure: all file access goes through read_file).
// `file_name` names the document in messages and, through its directory,
// anchors relative includes: read_file receives the include joined to the
// including file's directory (lexically normalized), or the include itself
// when it is absolute. Every error is kInvalidArgument (kUnsupported for an
// unknown `version`) with a message "FILE:LINE:COL: what" (1-based).
Result<Policy> ParsePolicy(std::string_view yaml, const std::string& file_name,
                           const ReadFileFn& read_file);

// Reads `path` and its includes through host.ReadFile (at most
// kMaxRuleFileBytes each) and parses them. A missing or unreadable top file
// is the host's error ("PATH: No such file or directory").
Result<Policy> LoadPolicyFile(Host& host, const std::string& path);

}  // namespace driftwatch::rules

#endif  // DRIFTWATCH_RULES_POLICY_H_
