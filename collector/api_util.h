// Helpers shared by the API handlers (api.cc, api_fleet.cc). Internal to
// the collector library.
#ifndef DRIFTWATCH_COLLECTOR_API_UTIL_H_
#define DRIFTWATCH_COLLECTOR_API_UTIL_H_

#include <cpprest/json.h>

#include <string>
#include <string_view>
#include <vector>

#include "collector/api.h"
#include "collector/store.h"
#include "core/status.h"

namespace driftwatch::collector::api_internal {

HttpResponse Json(int status, const web::json::value& v);
// The HTTP status of a Status code (kInvalidArgument -> 400, kNotFound -> 404, ...).
int HttpStatusFor(const Status& s);
HttpResponse FromStatus(const Status& s);
// The first value of a query parameter, or nullptr.
const std::string* QueryParam(const HttpRequest& req, std::string_view key);
// The `limit` parameter: default 100, capped at max_page, 400 when not positive.
Result<int> PageLimit(const HttpRequest& req, int max_page);
// The page of events a request asks for (docs/api.md "Order and cursors"):
// `order` (asc or desc, default desc, or the order a cursor was made for),
// `cursor` and `limit`. kInvalidArgument for another order, a malformed
// cursor, or a cursor made for the other order.
Result<EventPageQuery> PageQuery(const HttpRequest& req, int max_page);
// The store's query for `asked`: one event more than the page, which says
// whether more events lie beyond the page.
EventPageQuery WithLookahead(EventPageQuery asked);
// {"events": [...], "next_cursor": ..., "prev_cursor": ...} from the events
// the store answered for WithLookahead(asked).
web::json::value EventPage(std::vector<EventRecord> events, const EventPageQuery& asked);
// Parses a request body that must be a JSON object nested at most max_depth.
Result<web::json::value> ParseObject(const std::string& body, int max_depth, bool allow_empty);

}  // namespace driftwatch::collector::api_internal

#endif  // DRIFTWATCH_COLLECTOR_API_UTIL_H_
