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
// The `cursor` parameter as an event id (0 when absent).
Result<int64_t> Cursor(const HttpRequest& req);
// {"events": [...], "next_cursor": ...}; a full page gets a cursor.
web::json::value EventPage(const std::vector<EventRecord>& events, int limit);
// Parses a request body that must be a JSON object nested at most max_depth.
Result<web::json::value> ParseObject(const std::string& body, int max_depth, bool allow_empty);

}  // namespace driftwatch::collector::api_internal

#endif  // DRIFTWATCH_COLLECTOR_API_UTIL_H_
