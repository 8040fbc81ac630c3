// Drift events and check results: what a check finds and what an agent
// reports (the wire format is in docs/wire.md; JSON codec in core/drift_json.h).
//
// Thread-safety: plain values.
#ifndef DRIFTWATCH_CORE_DRIFT_H_
#define DRIFTWATCH_CORE_DRIFT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/actor.h"
#include "core/chain.h"
#include "core/entry.h"
#include "core/status.h"

namespace driftwatch {

enum class Severity : uint8_t { kLow = 1, kMedium = 2, kHigh = 3, kCritical = 4 };
std::string_view SeverityName(Severity s);  // "low", "medium", "high", "critical"
Result<Severity> ParseSeverity(std::string_view name);

enum class DriftKind : uint8_t {
  kAdded = 1,
  kModified,
  kRemoved,
  kPackageInstalled,
  kPackageRemoved,
  kPackageChanged,
  kPackageFileModified,
};
// "added", "modified", "removed", "package-installed", "package-removed",
// "package-changed", "package-file-modified".
std::string_view DriftKindName(DriftKind k);
Result<DriftKind> ParseDriftKind(std::string_view name);

struct DriftEvent {
  std::string path;  // absolute, raw bytes (see EscapePath for display)
  DriftKind kind = DriftKind::kModified;
  uint32_t changed = 0;            // Attr bits that differ (modified); 0 otherwise
  std::optional<Entry> old_entry;  // absent for added
  std::optional<Entry> new_entry;  // absent for removed
  Severity severity = Severity::kMedium;
  std::string rule;  // the rule that matched, e.g. "/etc/**" (host.yaml:12)
  // Package events and upgrade attribution.
  std::string package;
  std::string from_version;
  std::string to_version;
  std::string cause;  // "" or "package-upgrade"
  // Realtime events (docs/realtime.md): when the watcher saw the change and
  // the process that made it. A change undone before the watcher reported it
  // (or before the next check) is `transient`: kind, old and new describe the
  // change, `actor` made it and `reverted_by` undid it (when known).
  int64_t time_ns = 0;  // 0 for events a check found
  std::optional<Actor> actor;
  bool transient = false;
  std::optional<Actor> reverted_by;
  // Content (docs/content.md). For a file whose rule keeps its content and
  // whose content changed: `diff` is the unified diff (in the format of `diff -u`,
  // core/text_diff.h) of the baseline's copy against the content the check
  // read, labelled with the path, at most kMaxEventDiffBytes (cut at a line
  // end, ending with the kDiffTruncatedMarker line). Otherwise "" and
  // `content_note` says why there is none: "redacted" (the rule says
  // `content: redact`: nothing of the content leaves the file), "binary",
  // "not-kept" (a side has no kept copy: over the size cap, or kept by
  // neither baseline nor check), or "omitted" (the diff did not fit the
  // report: FitReport, core/report_fold.h; the agent's history has it). Both are "" when the rule
  // keeps no content or the content did not change.
  std::string diff;
  std::string content_note;
};

// Cap on DriftEvent::diff, on the wire and in stores.
inline constexpr size_t kMaxEventDiffBytes = 64 << 10;
// The last line of a cut diff ("\ " lines are part of the unified format).
inline constexpr std::string_view kDiffTruncatedMarker = "\\ driftwatch: diff truncated\n";

struct DriftSummary {
  uint64_t added = 0;
  uint64_t modified = 0;
  uint64_t removed = 0;
  uint64_t packages = 0;  // all package-* kinds
};
DriftSummary Summarize(const std::vector<DriftEvent>& events);

// Event counts per kind and severity (index = the enum's value; 0 unused).
struct EventCounts {
  int64_t total = 0;
  int64_t kinds[8] = {};
  int64_t severities[5] = {};
  void Add(DriftKind k, Severity s, int64_t n = 1);
  void Add(const EventCounts& other);
  friend bool operator==(const EventCounts&, const EventCounts&) = default;
};
EventCounts CountEvents(const std::vector<DriftEvent>& events);

// Folded and split reports (docs/wire.md "Reports over the budget"): a
// check whose events do not fit one report lists its critical and high
// events in full (over several reports when need be: the head and its
// parts) and summarises the rest of its events as counts and the common
// prefixes of their paths.
struct PathPrefixCount {
  std::string prefix;  // raw bytes, ends with '/'
  int64_t events = 0;
  friend bool operator==(const PathPrefixCount&, const PathPrefixCount&) = default;
};
struct ReportFold {
  // Events summarised instead of listed, with their counts and prefixes.
  EventCounts folded;
  std::vector<PathPrefixCount> prefixes;  // at most kMaxFoldPrefixes
  // Head of a folded or split check: the exact counts of the whole check
  // (listed here, listed in its parts, folded); nullopt when the report
  // lists every event itself.
  std::optional<EventCounts> totals;
  int64_t parts = 0;  // head: the reports the check's events span (0 = one)
  // A part: the head's report id and this part's number (1..parts-1).
  std::string part_of;
  int64_t part = 0;
  bool IsPart() const { return !part_of.empty(); }
};
constexpr size_t kMaxFoldPrefixes = 32;

struct ScanStats {
  uint64_t files = 0;
  uint64_t dirs = 0;
  uint64_t others = 0;        // symlinks, fifos, sockets, devices
  uint64_t bytes_hashed = 0;  // bytes read for hashing
  uint64_t files_hashed = 0;  // files read (the rest came from the stat cache)
  int64_t duration_ns = 0;
};

// One container running on the host when it was checked (docs/wire.md).
struct ContainerInfo {
  std::string name;     // the launcher's or the runtime's name, else "<runtime>:<short id>"
  std::string id;       // runtime id
  std::string runtime;  // "driftwatch", "docker", "containerd", "podman", "cri-o", ... or "unknown"
  std::string image;    // image reference ("busybox:latest"); "" when unknown
  // The registry digest ("sha256:<64 hex>") where the runtime has one; for
  // this launcher's containers its image digest; "" when unknown.
  std::string image_digest;
  bool drift_known = false;  // false when the container could not be diffed
  int64_t events = 0;        // drift events of this container in the report
  // Identity read from the runtime's own state files (docs/containers.md).
  std::string image_id;    // the runtime's image id ("sha256:<64 hex>"); "" when unknown
  std::string image_tree;  // hex Merkle root of the image's lower layers as scanned; "" when not
  std::vector<std::pair<std::string, std::string>> labels;  // sorted by key, keys unique
  int64_t started_ns = 0;                                   // 0 when unknown
  int64_t pid = 0;                                          // the lowest pid seen in it
  // Volumes and bind mounts of the runtime's config, left out of the drift
  // as declared state (container paths, sorted).
  std::vector<std::string> excluded;
  std::string note;  // why identity or drift is incomplete; "" when complete
  friend bool operator==(const ContainerInfo&, const ContainerInfo&) = default;
};
// Wire limits of the identity fields (ContainerInfoFromJson refuses more).
inline constexpr size_t kMaxContainerLabels = 256;
inline constexpr size_t kMaxContainerLabelBytes = 4096;  // a key or a value
inline constexpr size_t kMaxContainerExcluded = 256;
inline constexpr size_t kMaxContainerNoteBytes = 1024;

// One installed package (docs/wire.md "packages").
struct PackageInfo {
  std::string manager;  // "dpkg", "apk", "rpm"
  std::string name;
  std::string version;
  std::string arch;  // "" when the database records none
  friend bool operator==(const PackageInfo&, const PackageInfo&) = default;
};

// The host's installed packages: always the digest and count; the list
// itself only when `full` (the agent sends it when the digest changed).
struct PackageInventory {
  Hash128 digest;  // XXH3-128 of PackageInventoryText(list)
  int64_t count = 0;
  bool full = false;
  std::vector<PackageInfo> list;  // sorted by (manager, name, arch) when full
};
// The canonical text the digest covers: one "manager\tname\tversion\tarch\n"
// line per package, in list order.
std::string PackageInventoryText(const std::vector<PackageInfo>& list);

// How a check examined the tree: a full walk, or only the paths the realtime
// journal marked dirty since the previous check (docs/realtime.md).
struct WalkInfo {
  bool journal = false;     // true: only dirty paths and their parents were examined
  int64_t dirty_paths = 0;  // journal: the dirty paths re-examined
  std::string full_reason;  // full walk while realtime runs: why the journal could not be used
  friend bool operator==(const WalkInfo&, const WalkInfo&) = default;
};

struct CheckResult {
  std::string target;    // hostname, or "container:<id>"
  std::string baseline;  // name
  int64_t baseline_revision = 0;
  Hash128 baseline_root;
  Hash128 root;  // Merkle root of the current scan
  int64_t started_ns = 0;
  int64_t finished_ns = 0;
  // Merkle hashes of the top-level watched directories ("/etc", "/usr/bin"),
  // so a collector can tell which subtrees differ between two hosts.
  std::vector<std::pair<std::string, Hash128>> subtrees;
  std::vector<DriftEvent> events;
  std::vector<std::string> warnings;
  ScanStats stats;
  // Inventory (absent in older reports): the agent's check interval (0 =
  // not a scheduled check), the running containers (nullopt = not checked)
  // and the installed packages (nullopt = not read).
  int64_t interval_ns = 0;
  std::optional<std::vector<ContainerInfo>> containers;
  std::optional<PackageInventory> packages;
  ReportFold fold;  // what a report over the budget summarised (see ReportFold)
  // "" for a check; "realtime" for the events the watcher saw between checks
  // (no root, subtrees, stats or inventory of its own: the collector keeps
  // the host's last check as its state and adds the events to its history).
  std::string source;
  WalkInfo walk;
  // Integrity (docs/integrity.md; checks only, absent from older agents):
  // the agent store's chain records for the collector's escrow, and the
  // digests of the agent's executable, rules and configuration.
  std::optional<driftwatch::chain::ReportChain> chain;
  std::optional<driftwatch::chain::SelfDigests> self;
};
// The counts a report stands for: fold.totals when set, else its listed
// events plus the folded ones.
EventCounts ReportCounts(const CheckResult& r);

// Escapes a byte path for display and JSON: valid UTF-8 passes through,
// "\" becomes "\\", control bytes become \n, \t, \r or \xHH, and bytes
// that are not valid UTF-8 become \xHH, as do the bytes of the Unicode
// bidirectional controls (U+061C, U+200E, U+200F, U+202A..U+202E,
// U+2066..U+2069: U+202E is \xe2\x80\xae), which would otherwise reorder
// what a terminal or the dashboard shows. Reversible with UnescapePath.
std::string EscapePath(std::string_view raw);
// True when `s` is well-formed UTF-8: no overlong forms, surrogates or code
// points past U+10FFFF (the test EscapePath applies).
bool IsValidUtf8(std::string_view s);
// `s` with each byte that is not part of well-formed UTF-8 replaced by
// U+FFFD: text for JSON and web pages, where the bytes themselves cannot go.
std::string ReplaceInvalidUtf8(std::string_view s);
Result<std::string> UnescapePath(std::string_view escaped);

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_DRIFT_H_
