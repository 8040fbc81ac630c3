// The column lists and JSON columns shared by both fleet stores (store_rows.h).
#include "collector/store_rows.h"

#include <cpprest/json.h>

#include <system_error>

#include "core/drift_json.h"

namespace driftwatch::collector::store_rows {

const char* const kHostColumns =
    "id, grp, agent_version, target, enrolled_ns, last_seen_ns, last_report_ns, baseline, "
    "baseline_revision, baseline_since_ns, root, subtrees, reports, events, last_report_events, "
    "interval_ns, coalesce(s.last_summary, ''), coalesce(s.refused, 0), "
    "coalesce(s.refused_ns, 0), coalesce(s.refused_reason, ''), "
    "(SELECT count(*) FROM integrity_alerts ia WHERE ia.host_id = hosts.id AND "
    "ia.resolved_ns = 0)";

const char* const kHostFrom = " FROM hosts LEFT JOIN host_report_status s ON s.host_id = hosts.id";

const char* const kCommandColumns =
    "id, host_id, kind, created_ns, handed_out_ns, acked_ns, ok, detail, paths, args";

const char* const kTokenColumns = "role, host_id, uses_left, expires_ns, revoked_ns, last_used_ns";

const char* const kTokenRecordColumns =
    "id, created_ns, role, host_id, uses_left, expires_ns, revoked_ns, last_used_ns";

// The Kubernetes columns (k8s_*) are written beside `labels` for the
// filters; a row's identity is read from the labels alone.
const char* const kContainerColumns =
    "name, container_id, runtime, image, image_digest, drift_known, events, image_id, "
    "image_tree, labels, started_ns, pid, excluded, note";

const char* const kImageRowColumns =
    "image, image_digest, host_id, events, runtime, image_id, image_tree";

const char* const kCountsSelect =
    "SELECT (SELECT count(*) FROM hosts), (SELECT max(seq) FROM reports), "
    "(SELECT coalesce(sum(n), 0) FROM event_counts), "
    "(SELECT count(*) FROM commands WHERE acked_ns = 0), "
    "(SELECT count(*) FROM alerts WHERE delivered_ns = 0)";

Subtrees HostSubtrees(const std::string& json) {
  std::error_code ec;
  const web::json::value v = web::json::value::parse(json, ec);
  if (ec) return {};
  auto subtrees = SubtreesFromJson(v, "subtrees");
  return subtrees.ok() ? std::move(subtrees).value() : Subtrees();
}

EventScan PlanEventScan(const EventPageQuery& page) {
  EventScan scan;
  // A page before a key is read against the page's order, nearest first.
  scan.reverse = page.before.has_value();
  scan.ascending = page.newest_first == scan.reverse;
  if (page.before) {
    scan.from = *page.before;
  } else if (page.after) {
    scan.from = *page.after;
  } else if (scan.ascending) {
    scan.from = {INT64_MIN, INT64_MIN};
  } else {
    scan.from = {INT64_MAX, INT64_MAX};
  }
  return scan;
}

Hash128 HashFromHex(const std::string& hex) {
  auto h = Hash128::FromHex(hex);
  return h.ok() ? *h : Hash128();
}

EventActorColumns ActorColumns(const DriftEvent& e) {
  EventActorColumns c;
  if (e.actor) {
    c.actor = ActorToJson(*e.actor).serialize();
    if (!e.actor->exe.empty()) c.actor_exe = EscapePath(e.actor->exe);
    if (e.actor->uid >= 0) c.actor_uid = e.actor->uid;
  }
  c.transient = e.transient;
  if (e.reverted_by) c.reverted_by = ActorToJson(*e.reverted_by).serialize();
  if (e.time_ns != 0) c.event_ns = e.time_ns;
  return c;
}

}  // namespace driftwatch::collector::store_rows
