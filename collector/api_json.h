// JSON views of the collector's records, as served by the REST API
// (docs/api.md). Pure functions.
#ifndef DRIFTWATCH_COLLECTOR_API_JSON_H_
#define DRIFTWATCH_COLLECTOR_API_JSON_H_

#include <cpprest/json.h>

#include <string>

#include "collector/store.h"
#include "collector/tree_store.h"
#include "core/drift.h"
#include "core/status.h"

namespace driftwatch::collector {

// `detail`: GET /hosts/ID (subtrees, folded prefixes); GET /hosts lists
// hosts without them, so that its size grows with the fleet only.
web::json::value HostToJson(const HostRecord& h, int64_t now_ns, int64_t silent_after_ns,
                            bool detail);
// What a report stands for (docs/api.md "Report summary"): exact counts per
// kind and severity of its check, listed/folded/parts, the folded
// prefixes, and the stored and true counts of its capped lists.
web::json::value ReportSummaryJson(const CheckResult& r, size_t warnings_total,
                                   size_t subtrees_total);
// The body stored for an event (EventRecord::event_json): its wire form
// without the diff, which is stored apart (FleetStore::EventDiff), and with
// "has_diff": true when it had one.
std::string ListedEventJson(const DriftEvent& e);
// The stored wire event plus "id", "host", "report_id", "detected",
// "received", and "has_diff" (false when the body does not say true).
web::json::value EventToJson(const EventRecord& e);
web::json::value CommandToJson(const CommandRecord& c);
// A token as GET /tokens lists it (never the secret); api_lifecycle.cc.
web::json::value TokenRecordJson(const TokenRecord& t);
// Integrity (api_integrity.cc, docs/api.md "Integrity").
web::json::value ChainAnswerJson(const ChainAnswer& a);
web::json::value IntegrityAlertJson(const IntegrityAlert& a);
web::json::value HostChainJson(const HostChain& c);
// A group baseline revision (docs/api.md "Group baselines").
web::json::value GroupBaselineJson(const GroupBaseline& b);

// An opaque pagination cursor of /drift and /paths/history (docs/api.md
// "Order and cursors"): a key of the (detected, id) order, the order the
// page was made for, and whether the cursor reads the page after the key
// (next_cursor) or the one before it (prev_cursor). Written as
// "c2.<d|a><n|p>.<16 hex digits: detected_ns offset by 2^63>.<hex id>";
// DecodeCursor refuses anything else (kInvalidArgument), older "c1."
// cursors included.
struct EventCursor {
  bool newest_first = true;
  bool before = false;
  EventKey key;
};
std::string EncodeCursor(const EventCursor& c);
Result<EventCursor> DecodeCursor(const std::string& cursor);

// Whether a host or group name is acceptable: 1..128 bytes of [A-Za-z0-9._-]
// (groups may also be empty).
bool ValidHostId(const std::string& id);
bool ValidGroup(const std::string& group);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_API_JSON_H_
