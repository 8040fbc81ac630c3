// FleetStore: the collector's storage interface (schema in docs/collector.md).
//
// The embedded backend is SQLite (sqlite_store.h); a PostgreSQL backend will
// implement the same interface so that several stateless collectors can
// share one database. All SQL of a backend lives in its one .cc file.
//
// Contract shared by every backend:
//  - IngestReport stores a whole report in one transaction (never half a
//    report). A report_id seen before is not stored again: the original
//    IngestResult is returned with duplicate = true.
//  - Event ids grow with insertion. Queries return events ordered by
//    detection time (the check's finish), ties broken by id, newest or
//    oldest first (EventPageQuery); a page starts strictly after or before
//    a key of that order, so that paging is stable under concurrent ingest
//    and an event delivered late lands in its place by detection time.
//  - A realtime report (CheckResult::source "realtime") adds its events to
//    the host's history and counts and moves its last_seen_ns, but leaves
//    the host's last check (target, baseline, root, subtrees, last report
//    time, events and summary) as it was. Its events are dated, as every
//    event, by the report's finish, so that the order stays the one
//    cursors page through; the event's own time is in its body ("time").
//  - Unknown hosts are kNotFound; a host id enrolled twice is kAlreadyExists.
//  - Strings (paths, globs, group names) are bound as parameters, never
//    spliced into SQL, and are returned byte for byte.
//
// Thread-safety: implementations are safe to call from several threads.
#ifndef DRIFTWATCH_COLLECTOR_STORE_H_
#define DRIFTWATCH_COLLECTOR_STORE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collector/escrow.h"
#include "collector/event_chain.h"
#include "collector/tree_store.h"
#include "core/drift.h"
#include "core/hash.h"
#include "core/status.h"

namespace driftwatch::collector {

enum class Role { kEnroll, kRead, kAdmin, kAgent, kReenroll };
// "enroll", "read", "admin", "agent", "reenroll"
std::string_view RoleName(Role r);
Result<Role> ParseRole(std::string_view name);

// What an enroll or reenroll token still allows (docs/collector.md "Enroll
// tokens"); tokens of the other roles have no limits.
struct TokenLimits {
  int64_t uses_left = -1;  // enrollments left; -1 = unlimited
  int64_t expires_ns = 0;  // 0 = never; the token is refused from then on
};

// Why `limits` refuse a token at now_ns: "" when they allow it, else
// "token_expired" or "token_used_up" (the API's error codes, docs/api.md).
std::string_view TokenLimitsRefusal(const TokenLimits& limits, int64_t now_ns);
// OK, or kPermissionDenied saying why (TokenLimitsRefusal).
Status CheckTokenLimits(const TokenLimits& limits, int64_t now_ns);

struct TokenInfo {
  Role role = Role::kRead;
  std::string host_id;  // agent and reenroll tokens only
  TokenLimits limits;
  int64_t revoked_ns = 0;    // 0 = not revoked; refused from then on
  int64_t last_used_ns = 0;  // 0 = never (updated at most once a minute)
};

// A token as listed (docs/api.md "GET /tokens"): everything but the secret.
// `id` is "t_" and the first 12 hex digits of the stored SHA-256 (TokenId in
// auth.h): public, and no help in finding the secret.
struct TokenRecord {
  std::string id;
  TokenInfo info;
  int64_t created_ns = 0;
};

struct HostRecord {
  std::string id;
  std::string group;
  std::string agent_version;
  std::string target;  // hostname the agent reports from
  int64_t enrolled_ns = 0;
  int64_t last_seen_ns = 0;    // any authenticated agent request
  int64_t last_report_ns = 0;  // 0 before the first report
  std::string baseline;
  int64_t baseline_revision = 0;
  int64_t baseline_since_ns = 0;  // when this revision was created (or first seen)
  Hash128 root;
  std::vector<std::pair<std::string, Hash128>> subtrees;
  int64_t reports = 0;
  int64_t events = 0;
  int64_t last_report_events = 0;  // drift in the latest report (folded events included)
  int64_t interval_ns = 0;         // the agent's check interval; 0 = never said
  // The latest report's summary as served (ReportSummaryJson in api_json.h):
  // exact counts per kind and severity, what was folded, list caps.
  std::string last_summary_json;
  // Reports of this host the collector refused (docs/api.md "Refused reports").
  int64_t reports_refused = 0;
  int64_t last_refused_ns = 0;
  std::string last_refused_reason;
  // Integrity alerts of this host not resolved yet (docs/integrity.md).
  int64_t open_integrity_alerts = 0;
};

// Whether a host is silent at now_ns: no report yet, or none within three of
// its check intervals (silent_after_ns when the agent never said its interval).
inline bool IsSilent(const HostRecord& h, int64_t now_ns, int64_t silent_after_ns) {
  const int64_t window = h.interval_ns > 0 ? 3 * h.interval_ns : silent_after_ns;
  return h.last_report_ns == 0 || now_ns - h.last_report_ns > window;
}

// The latest inventory a host reported (docs/collector.md).
struct HostInventory {
  std::string packages_digest;  // "" when the host never sent packages
  int64_t packages_count = 0;
  int64_t packages_ns = 0;  // when the stored list was received
  std::vector<PackageInfo> packages;
  bool containers_known = false;  // false until a report carried containers
  int64_t containers_ns = 0;
  std::vector<ContainerInfo> containers;
};

// One baseline revision a host reported or created through a command.
struct BaselineRevision {
  std::string name;
  int64_t revision = 0;
  Hash128 root;
  int64_t since_ns = 0;       // created (from a command ack), else first seen
  int64_t first_seen_ns = 0;  // first report against it (or the ack)
  int64_t last_seen_ns = 0;   // latest report against it
};

// The containers of one runtime among those of an image.
struct RuntimeCount {
  std::string runtime;
  int64_t containers = 0;
  int64_t drifted = 0;
  friend bool operator==(const RuntimeCount&, const RuntimeCount&) = default;
};

// Fleet image sprawl: one (image, digest) pair and where it runs, across
// every runtime.
struct ImageUsage {
  std::string image;   // "" when the runtime did not say
  std::string digest;  // "" when unknown
  int64_t hosts = 0;
  int64_t containers = 0;
  int64_t drifted = 0;                   // containers with drift events
  std::vector<std::string> host_ids;     // sorted
  std::vector<RuntimeCount> runtimes;    // sorted by runtime
  std::vector<std::string> image_ids;    // sorted, distinct, "" left out
  std::vector<std::string> image_trees;  // sorted, distinct, "" left out: more than one
                                         // is the same reference built differently
};

// One container of a host's latest inventory, as the fleet lists it
// (GET /containers). The Kubernetes fields come from its labels
// (io.kubernetes.pod.namespace, io.kubernetes.pod.name,
// io.kubernetes.container.name), "" when it has none.
struct FleetContainer {
  std::string host_id;
  int64_t pos = 0;  // its place in the host's report
  ContainerInfo info;
  std::string k8s_namespace;
  std::string k8s_pod;
  std::string k8s_container;
};

// Filters of ListContainers, combined with AND; "" / nullopt = any.
// Containers are listed by (host id bytewise, pos); a page starts strictly
// after `after` when set.
struct ContainerQuery {
  std::string host;
  std::string image;
  std::string digest;
  std::string runtime;
  std::string k8s_namespace;
  std::string k8s_pod;
  std::optional<bool> drifted;                           // events > 0 in the latest report
  bool kubernetes_only = false;                          // only containers with a namespace label
  std::optional<std::pair<std::string, int64_t>> after;  // (host id, pos)
  int limit = 100;
};

// One report as received; `events_json` holds the wire form of each event
// (serialized DriftEventToJson), in report order, `result` the decoded one.
struct ReportEnvelope {
  std::string report_id;
  std::string host_id;
  std::string agent_version;
  int64_t sent_ns = 0;
  int64_t received_ns = 0;
  CheckResult result;
  std::vector<std::string> events_json;
  // The exact event count of the check (listed, in parts, folded) and the
  // summary stored for the host (HostRecord::last_summary_json).
  int64_t total_events = 0;
  std::string summary_json;
};

struct IngestResult {
  bool duplicate = false;
  // The report named a package digest without the list, and the store does
  // not hold that list: the agent should send it in full next time.
  bool packages_needed = false;
  int64_t report_seq = 0;      // collector-side sequence of the report
  int64_t first_event_id = 0;  // 0 when the report carried no events
  int64_t events = 0;
  int64_t received_ns = 0;
  // The escrow's answer when the report carried a chain (escrow.h); a
  // duplicate gets the answer its original got.
  std::optional<ChainAnswer> chain;
  int64_t integrity_alerts = 0;  // raised by this report (explained ones included)
};

// One integrity alert (docs/api.md "Integrity"): a finding of the escrow
// (escrow.h) for a host, open until an operator resolves it (trust reset).
// Explained changes are stored resolved at detection.
struct IntegrityAlert {
  int64_t id = 0;
  std::string host_id;
  std::string kind;      // escrow.h kAlert*
  std::string severity;  // "critical", "high", "info"
  int64_t epoch = 0;     // the chain epoch it was raised in
  int64_t seq = 0;       // the chain record concerned, 0 when none
  std::string detail;
  int64_t detected_ns = 0;
  int64_t resolved_ns = 0;  // 0 = open
  std::string resolved_by;  // "collector" for explained changes, else who reset trust
  std::string resolution;   // why
};

struct IntegrityQuery {
  std::string host;  // "" = every host
  bool open_only = false;
  int limit = 1000;  // newest first
};

// What the collector holds for one host (GET /hosts/{host}/chain).
struct HostChain {
  std::string host_id;
  HeldChain held;
  int64_t epoch_started_ns = 0;  // 0 for the first epoch
  std::string epoch_reason;      // the trust reset that started it
  std::optional<chain::SelfDigests> self;
  int64_t self_ns = 0;
  EventChainHead events;  // the collector's own event chain (event_chain.h)
  int64_t open_alerts = 0;
};

// Alert routes checked inside the ingest transaction: a qualifying event
// gets one queued alert per route (deduplicated by (event, route)).
struct AlertRoute {
  std::string name;
  Severity min_severity = Severity::kHigh;
  std::vector<std::string> groups;  // empty = every group
};

struct EventRecord {
  int64_t id = 0;
  std::string host_id;
  std::string report_id;
  int64_t detected_ns = 0;  // the check's finish time
  int64_t received_ns = 0;
  std::string event_json;  // wire form of the DriftEvent
};

// A position in the order of drift events: detection time, then id.
struct EventKey {
  int64_t detected_ns = 0;
  int64_t id = 0;
};

// One page of events in a given order (docs/api.md "Order and cursors").
// With neither key set, the page starts at the beginning of the order. With
// `after`, it holds the first `limit` events strictly after that key in the
// order; with `before`, the last `limit` events strictly before it. Either
// way the events are returned in the page's order. Set at most one key.
struct EventPageQuery {
  bool newest_first = true;  // order=desc (the default) or order=asc
  std::optional<EventKey> after;
  std::optional<EventKey> before;
  int limit = 100;
};

struct DriftQuery {
  std::string host;       // "" = any
  std::string group;      // "" = any
  std::string path_glob;  // "" = any; SQLite GLOB syntax: * ? [...]
  std::string path;       // "" = any; one exact escaped path (a path's history)
  std::optional<DriftKind> kind;
  std::optional<Severity> min_severity;
  std::optional<int64_t> since_ns;  // detected_ns >= since
  std::optional<int64_t> until_ns;  // detected_ns < until
  std::optional<int64_t> event_id;  // only the event of this id
  // Realtime events (docs/api.md): the changer's executable in the escaped
  // form of the wire ("" = any), its uid, and transient or not.
  std::string actor_exe;
  std::optional<int64_t> actor_uid;
  std::optional<bool> transient;
  EventPageQuery page;
};

// One page of the fleet summary's host list, in host id order (bytewise).
struct HostListPage {
  std::string after;  // "" = from the first host; else ids strictly after it
  int limit = 0;      // hosts in the page; 0 = none (the counts only)
  // Only the hosts that want attention: drifted, silent, with refused
  // reports or open integrity alerts.
  bool attention = false;
};

// The fleet's counts, over every host, and one page of its hosts. The
// counts do not read the hosts' records: their cost does not grow with
// the page.
struct FleetSummary {
  int64_t hosts = 0;
  int64_t drifted_hosts = 0;  // latest report had drift
  int64_t silent_hosts = 0;   // no report within the silent window (IsSilent)
  int64_t refused_hosts = 0;  // hosts with at least one report refused
  int64_t reports_refused = 0;
  std::vector<std::pair<Severity, int64_t>> events_by_severity;
  std::vector<HostRecord> host_list;  // the page asked for
  bool more = false;                  // hosts follow the page
};

struct CommandRecord {
  int64_t id = 0;
  std::string host_id;
  std::string kind;                // "baseline", "check-now", "accept" or "restore"
  std::vector<std::string> paths;  // accept, restore: raw paths (restore: or globs)
  // restore: every drifted path, also remove added paths, only say what
  // would be done, and why (docs/api.md "Restore").
  bool all = false;
  bool remove_added = false;
  bool dry_run = false;
  std::string reason;
  int64_t created_ns = 0;
  int64_t handed_out_ns = 0;
  int64_t acked_ns = 0;
  bool ok = false;
  std::string detail;
};

struct CommandAck {
  bool ok = false;
  std::string detail;
  // Set when a baseline command created a new revision.
  std::string baseline;
  int64_t baseline_revision = 0;
  int64_t baseline_created_ns = 0;
  std::optional<Hash128> baseline_root;
};

struct PendingAlert {
  int64_t id = 0;
  std::string route;
  int64_t event_id = 0;
  int attempts = 0;
  EventRecord event;
};

struct StoreCounts {
  int64_t hosts = 0;
  int64_t reports = 0;
  int64_t events = 0;
  int64_t pending_commands = 0;
  int64_t pending_alerts = 0;
};

class FleetStore {
 public:
  virtual ~FleetStore() = default;

  // Tokens are identified by the SHA-256 hex of the secret; the secret
  // itself is never stored.
  virtual Status AddToken(const std::string& sha256_hex, Role role, const std::string& host_id,
                          int64_t now_ns, const TokenLimits& limits) = 0;
  // nullopt when unknown. Revoked tokens are found (with revoked_ns set).
  virtual Result<std::optional<TokenInfo>> LookupToken(const std::string& sha256_hex) = 0;
  // Every token, oldest first (by creation time, then id).
  virtual Result<std::vector<TokenRecord>> ListTokens() = 0;
  // Revokes the token(s) with public id `id` (TokenRecord::id) at now_ns and
  // returns when they were revoked (the first time, for a token revoked
  // before). kNotFound for an unknown id.
  virtual Result<int64_t> RevokeToken(const std::string& id, int64_t now_ns) = 0;
  // Records a use of the token at now_ns (TokenInfo::last_used_ns).
  virtual Status TouchToken(const std::string& sha256_hex, int64_t now_ns) = 0;

  // Creates the host and its agent token in one transaction, which also
  // takes one use of the token that enrolls it (`enroll_sha256`, an enroll,
  // admin or reenroll token; "" when no token enrolls it, as in an import):
  // of two enrollments racing for a token's last use, exactly one succeeds.
  // kPermissionDenied, with nothing changed, when that token is unknown,
  // revoked, expired at now_ns, used up, or a reenroll token of another
  // host; kAlreadyExists (no use taken) when the host is enrolled already.
  // Re-enrollment: a reenroll token of `host_id` enrolls it again when it
  // exists: the host keeps its id and history (events, reports, inventory,
  // baselines, commands), takes the new group and agent version, and its
  // agent tokens issued before are revoked at now_ns.
  virtual Status EnrollHost(const std::string& host_id, const std::string& group,
                            const std::string& agent_version, const std::string& token_sha256,
                            int64_t now_ns, const std::string& enroll_sha256) = 0;
  virtual Status TouchHost(const std::string& host_id, int64_t now_ns) = 0;
  virtual Result<std::vector<HostRecord>> ListHosts() = 0;
  virtual Result<HostRecord> GetHost(const std::string& host_id) = 0;
  // Removes a host and everything stored for it (its reports, events and
  // their queued alerts, commands, inventory, baselines, refusals) in one
  // transaction; its agent and reenroll tokens are revoked at now_ns (kept,
  // listed as revoked). kNotFound when unknown.
  virtual Status RemoveHost(const std::string& host_id, int64_t now_ns) = 0;
  // Gives host `from` the id `to`, with all it has (events, reports,
  // inventory, baselines, commands, its tokens), in one transaction.
  // kNotFound when `from` is unknown, kAlreadyExists when `to` exists.
  virtual Status RenameHost(const std::string& from, const std::string& to) = 0;

  virtual Result<IngestResult> IngestReport(const ReportEnvelope& report,
                                            const std::vector<AlertRoute>& routes) = 0;
  // Counts one refused report of a known host, with why (kNotFound when
  // the host is unknown).
  virtual Status RecordRefusedReport(const std::string& host_id, const std::string& reason,
                                     int64_t now_ns) = 0;

  virtual Result<std::vector<EventRecord>> QueryDrift(const DriftQuery& q) = 0;
  // The content diff stored with event `event_id` (DriftEvent::diff, kept
  // apart from the event's body so that listings do not read it): "" when
  // the event came without one; kNotFound when there is no such event.
  virtual Result<std::string> EventDiff(int64_t event_id) = 0;
  // Events of one exact path, a page in the order `page` asks for.
  virtual Result<std::vector<EventRecord>> PathHistory(const std::string& path,
                                                       const EventPageQuery& page) = 0;
  virtual Result<FleetSummary> Summary(int64_t now_ns, int64_t silent_after_ns,
                                       const HostListPage& page) = 0;
  // The counts alone.
  Result<FleetSummary> Summary(int64_t now_ns, int64_t silent_after_ns) {
    return Summary(now_ns, silent_after_ns, HostListPage{});
  }

  // Queues a command for one host (kNotFound when unknown), or for every host
  // of `group` ("" = all hosts); returns the command ids.
  virtual Result<int64_t> QueueCommand(const std::string& host_id, const std::string& kind,
                                       int64_t now_ns) = 0;
  virtual Result<std::vector<int64_t>> QueueCommandForGroup(const std::string& group,
                                                            const std::string& kind,
                                                            int64_t now_ns) = 0;
  // Hands out the host's commands not handed out before (each exactly once).
  virtual Result<std::vector<CommandRecord>> TakeCommands(const std::string& host_id,
                                                          int64_t now_ns) = 0;
  // Records the host's answer to a command it was handed. A command goes
  // queued -> handed out (TakeCommands) -> acknowledged, once: an ack of a
  // command not handed out yet, or acknowledged already, is
  // kFailedPrecondition and changes nothing. kNotFound when the command does
  // not exist or belongs to another host.
  virtual Status AckCommand(const std::string& host_id, int64_t command_id, const CommandAck& ack,
                            int64_t now_ns) = 0;
  virtual Result<std::vector<CommandRecord>> ListCommands(const std::string& host_id) = 0;
  // Queues an "accept" command carrying raw paths (kNotFound when the host
  // is unknown); the agent accepts exactly those paths into its baseline.
  virtual Result<int64_t> QueueAccept(const std::string& host_id,
                                      const std::vector<std::string>& paths, int64_t now_ns) = 0;
  // Queues a "restore" command carrying `restore`'s paths, all,
  // remove_added, dry_run and reason: for host `host_id` when it is not ""
  // (kNotFound when unknown), else for every host of `group` ("" = every
  // host), in one transaction. Returns the command ids.
  virtual Result<std::vector<int64_t>> QueueRestore(const std::string& host_id,
                                                    const std::string& group,
                                                    const CommandRecord& restore,
                                                    int64_t now_ns) = 0;

  // Inventory. IngestReport keeps, per host, the latest containers (when a
  // report carries them), the latest full package list (a digest-only
  // report keeps the stored list when the digest matches) and every
  // distinct baseline revision reported; AckCommand records the revision a
  // baseline or accept command created. kNotFound for unknown hosts.
  virtual Result<HostInventory> GetInventory(const std::string& host_id) = 0;
  // Newest first (by since, then revision).
  virtual Result<std::vector<BaselineRevision>> ListBaselines(const std::string& host_id) = 0;
  // Every (image, digest) in the hosts' latest container inventories,
  // sorted by image then digest.
  virtual Result<std::vector<ImageUsage>> ListImages() = 0;
  // The containers of the hosts' latest inventories that match `q`, at most
  // q.limit, in the order of ContainerQuery.
  virtual Result<std::vector<FleetContainer>> ListContainers(const ContainerQuery& q) = 0;

  virtual Result<std::vector<PendingAlert>> DueAlerts(int64_t now_ns, int limit) = 0;
  virtual Status MarkAlertDelivered(int64_t alert_id, int64_t now_ns) = 0;
  virtual Status RescheduleAlert(int64_t alert_id, int attempts, int64_t next_ns,
                                 const std::string& error) = 0;

  // Deletes events detected before cutoff_ns (at most `batch` per call);
  // returns how many were deleted.
  virtual Result<int64_t> PruneEvents(int64_t cutoff_ns, int batch) = 0;
  virtual Result<StoreCounts> Counts() = 0;

  // Integrity (docs/integrity.md "At the collector"). IngestReport judges a
  // report's chain and self (escrow.h) in its transaction, and chains each
  // event it stores into its host's event chain (event_chain.h); a chain
  // whose heads do not recompute is kInvalidArgument and nothing is stored.
  // PruneEvents removes a host's events as a prefix of its event chain and
  // moves the host's anchor to the latest it removed.
  virtual Result<std::vector<IntegrityAlert>> ListIntegrityAlerts(const IntegrityQuery& q) = 0;
  // kNotFound for an unknown host.
  virtual Result<HostChain> GetHostChain(const std::string& host_id) = 0;
  // Starts the host's next chain epoch (nothing held, the next chain is
  // adopted; the records escrowed before are kept) and resolves its open
  // integrity alerts by `by` with `reason`, in one transaction; returns the
  // new epoch. kNotFound when unknown.
  virtual Result<int64_t> TrustReset(const std::string& host_id, const std::string& by,
                                     const std::string& reason, int64_t now_ns) = 0;
  // Recomputes the event chain of `host_id` ("" = every host) from its
  // anchor (EventChainVerifier), checking the heads in `expected` (host ->
  // a length and head exported earlier) on the way. Empty when all fits.
  virtual Result<std::vector<EventChainFinding>> VerifyEventChains(
      const std::string& host_id, const std::map<std::string, ExportedHead>& expected) = 0;
  // Whether the store can serve (GET /healthz): OK, or why not (the
  // database unreachable, its file replaced, removed or unreadable as a
  // database). Cheap enough to run every second; does not wait behind
  // requests where the backend allows.
  virtual Status CheckHealth() = 0;

  // The fleet's trees (tree_store.h), in the same database; owned by the
  // store and valid as long as it is. RemoveHost drops a host's tree and its
  // history (the objects go at the next PruneTrees); RenameHost moves them.
  virtual TreeStore& trees() = 0;
};

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_STORE_H_
