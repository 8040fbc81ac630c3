// The decoding of fleet store rows into the records of store.h, shared by
// the SQLite store (sqlite_*.cc) and the PostgreSQL store (pg_*.cc). Both
// select the same columns in the same order, so each kind of row is read
// in one place; the column lists both use are here too.
//
// A row is any type with `std::string Text(int col) const`,
// `int64_t Int(int col) const` and `bool Bool(int col) const`, columns
// numbered from 0, NULL reading as "", 0 and false: SqliteRow
// (sqlite_rows.h) and PgRow (pg_conn.h). Stored values that do not decode
// (a root that is not hex, subtrees that are not SubtreesToJson's) read as
// empty; only a token's role is checked.
//
// Thread-safety: pure functions and constants.
#ifndef DRIFTWATCH_COLLECTOR_STORE_ROWS_H_
#define DRIFTWATCH_COLLECTOR_STORE_ROWS_H_

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "collector/event_body.h"
#include "collector/fleet_containers.h"
#include "collector/inventory.h"
#include "collector/store.h"
#include "core/hash.h"

namespace driftwatch::collector::store_rows {

template <typename R>
concept Row = requires(const R& r, int col) {
  { r.Text(col) } -> std::convertible_to<std::string>;
  { r.Int(col) } -> std::convertible_to<int64_t>;
  { r.Bool(col) } -> std::convertible_to<bool>;
};

// The columns ReadHost decodes and the FROM clause they need:
// "SELECT " + kHostColumns + kHostFrom [+ " WHERE ..."].
extern const char* const kHostColumns;
extern const char* const kHostFrom;
extern const char* const kCommandColumns;      // FROM commands, as ReadCommand decodes
extern const char* const kCountsSelect;        // the one row ReadCounts decodes
extern const char* const kTokenColumns;        // FROM tokens, as ReadToken decodes
extern const char* const kTokenRecordColumns;  // FROM tokens, as ReadTokenRecord decodes
extern const char* const kContainerColumns;    // FROM host_containers, as ReadContainer decodes
extern const char* const kImageRowColumns;     // FROM host_containers, as ReadImageRow decodes

// hosts.subtrees, as the stores write it (SubtreesToJson, core/drift_json.h);
// a value that does not decode reads as no subtrees.
std::vector<std::pair<std::string, Hash128>> HostSubtrees(const std::string& json);
// The columns a store keeps beside an event's body for the realtime
// filters (docs/collector.md): the actor as wire JSON, its executable in
// the wire's escaped form and its uid (nullopt when unknown or no actor),
// transient, the reverting process and the event's own time (nullopt for
// events of a check).
struct EventActorColumns {
  std::optional<std::string> actor;
  std::optional<std::string> actor_exe;
  std::optional<int64_t> actor_uid;
  bool transient = false;
  std::optional<std::string> reverted_by;
  std::optional<int64_t> event_ns;
};
EventActorColumns ActorColumns(const DriftEvent& e);

// A hex tree id, or the zero id when it does not parse ("" included).
Hash128 HashFromHex(const std::string& hex);

// Columns: kHostColumns.
template <Row R>
HostRecord ReadHost(const R& r) {
  HostRecord h;
  h.id = r.Text(0);
  h.group = r.Text(1);
  h.agent_version = r.Text(2);
  h.target = r.Text(3);
  h.enrolled_ns = r.Int(4);
  h.last_seen_ns = r.Int(5);
  h.last_report_ns = r.Int(6);
  h.baseline = r.Text(7);
  h.baseline_revision = r.Int(8);
  h.baseline_since_ns = r.Int(9);
  h.root = HashFromHex(r.Text(10));
  h.subtrees = HostSubtrees(r.Text(11));
  h.reports = r.Int(12);
  h.events = r.Int(13);
  h.last_report_events = r.Int(14);
  h.interval_ns = r.Int(15);
  h.last_summary_json = r.Text(16);
  h.reports_refused = r.Int(17);
  h.last_refused_ns = r.Int(18);
  h.last_refused_reason = r.Text(19);
  h.open_integrity_alerts = r.Int(20);
  return h;
}

// Columns from `first` on: event id, host id, report id, detected_ns,
// received_ns, body (stored form, event_body.h).
template <Row R>
EventRecord ReadEvent(const R& r, int first = 0) {
  EventRecord e;
  e.id = r.Int(first);
  e.host_id = r.Text(first + 1);
  e.report_id = r.Text(first + 2);
  e.detected_ns = r.Int(first + 3);
  e.received_ns = r.Int(first + 4);
  e.event_json = StoredEventJson(r.Text(first + 5));
  return e;
}

// How both backends read an EventPageQuery as one range scan of the
// (detected_ns, id) order: the `limit` events strictly past `from` in the
// scan's direction, reversed afterwards when `reverse` (a page before a key
// is read backwards from it). Without a key, `from` lies before the first
// event of the scan.
struct EventScan {
  bool ascending = false;
  EventKey from;
  bool reverse = false;
};
EventScan PlanEventScan(const EventPageQuery& page);

// Columns: kCommandColumns.
template <Row R>
CommandRecord ReadCommand(const R& r) {
  CommandRecord c;
  c.id = r.Int(0);
  c.host_id = r.Text(1);
  c.kind = r.Text(2);
  c.created_ns = r.Int(3);
  c.handed_out_ns = r.Int(4);
  c.acked_ns = r.Int(5);
  c.ok = r.Bool(6);
  c.detail = r.Text(7);
  c.paths = PathsFromJson(r.Text(8));
  RestoreArgsFromJson(r.Text(9), &c);
  return c;
}

// Columns: alert id, route, event id, attempts, then the event as ReadEvent.
template <Row R>
PendingAlert ReadAlert(const R& r) {
  PendingAlert a;
  a.id = r.Int(0);
  a.route = r.Text(1);
  a.event_id = r.Int(2);
  a.attempts = static_cast<int>(r.Int(3));
  a.event = ReadEvent(r, 4);
  return a;
}

// Columns from `first` on: kTokenColumns. kCorruption for a role this build
// does not know.
template <Row R>
Result<TokenInfo> ReadToken(const R& r, int first = 0) {
  auto role = ParseRole(r.Text(first));
  if (!role.ok()) return Status::Corruption("tokens: unknown role " + r.Text(first));
  return TokenInfo{*role, r.Text(first + 1), TokenLimits{r.Int(first + 2), r.Int(first + 3)},
                   r.Int(first + 4), r.Int(first + 5)};
}

// Columns: kTokenRecordColumns.
template <Row R>
Result<TokenRecord> ReadTokenRecord(const R& r) {
  TokenRecord t;
  t.id = r.Text(0);
  t.created_ns = r.Int(1);
  DW_ASSIGN_OR_RETURN(t.info, ReadToken(r, 2));
  return t;
}

// Columns: name, revision, root, since_ns, first_seen_ns, last_seen_ns.
template <Row R>
BaselineRevision ReadBaselineRevision(const R& r) {
  BaselineRevision b;
  b.name = r.Text(0);
  b.revision = r.Int(1);
  b.root = HashFromHex(r.Text(2));
  b.since_ns = r.Int(3);
  b.first_seen_ns = r.Int(4);
  b.last_seen_ns = r.Int(5);
  return b;
}

// Columns: packages_digest, packages_count, packages_ns, containers_ns;
// fills those fields of *inv.
template <Row R>
void ReadInventoryHead(const R& r, HostInventory* inv) {
  inv->packages_digest = r.Text(0);
  inv->packages_count = r.Int(1);
  inv->packages_ns = r.Int(2);
  inv->containers_ns = r.Int(3);
  inv->containers_known = inv->containers_ns != 0;
}

// Columns: manager, name, version, arch.
template <Row R>
PackageInfo ReadPackage(const R& r) {
  return {r.Text(0), r.Text(1), r.Text(2), r.Text(3)};
}

// Columns from `first` on: kContainerColumns.
template <Row R>
ContainerInfo ReadContainer(const R& r, int first = 0) {
  ContainerInfo c;
  c.name = r.Text(first);
  c.id = r.Text(first + 1);
  c.runtime = r.Text(first + 2);
  c.image = r.Text(first + 3);
  c.image_digest = r.Text(first + 4);
  c.drift_known = r.Bool(first + 5);
  c.events = r.Int(first + 6);
  c.image_id = r.Text(first + 7);
  c.image_tree = r.Text(first + 8);
  c.labels = LabelsFromJson(r.Text(first + 9));
  c.started_ns = r.Int(first + 10);
  c.pid = r.Int(first + 11);
  c.excluded = PathsFromJson(r.Text(first + 12));
  c.note = r.Text(first + 13);
  return c;
}

// Columns: host_id, pos, then kContainerColumns.
template <Row R>
FleetContainer ReadFleetContainer(const R& r) {
  return MakeFleetContainer(r.Text(0), r.Int(1), ReadContainer(r, 2));
}

// Columns: kImageRowColumns.
template <Row R>
ImageRow ReadImageRow(const R& r) {
  return {r.Text(0), r.Text(1), r.Text(2), r.Int(3), r.Text(4), r.Text(5), r.Text(6)};
}

// Columns: kCountsSelect's.
template <Row R>
StoreCounts ReadCounts(const R& r) {
  StoreCounts c;
  c.hosts = r.Int(0);
  c.reports = r.Int(1);
  c.events = r.Int(2);
  c.pending_commands = r.Int(3);
  c.pending_alerts = r.Int(4);
  return c;
}

}  // namespace driftwatch::collector::store_rows

#endif  // DRIFTWATCH_COLLECTOR_STORE_ROWS_H_
