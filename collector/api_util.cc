#include "collector/api_util.h"

#include <algorithm>

#include "collector/api_json.h"
#include "core/drift_json.h"

namespace driftwatch::collector::api_internal {

using web::json::value;

HttpResponse Json(int status, const value& v) {
  HttpResponse r;
  r.status = status;
  r.body = v.serialize();
  return r;
}

int HttpStatusFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kUnsupported:
      return 400;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kResourceExhausted:
      return 413;
    case StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

HttpResponse FromStatus(const Status& s) { return Api::Error(HttpStatusFor(s), s.message()); }

const std::string* QueryParam(const HttpRequest& req, std::string_view key) {
  for (const auto& [k, v] : req.query) {
    if (k == key) return &v;
  }
  return nullptr;
}

Result<int> PageLimit(const HttpRequest& req, int max_page) {
  const std::string* l = QueryParam(req, "limit");
  if (l == nullptr) return std::min(100, max_page);
  char* end = nullptr;
  long v = std::strtol(l->c_str(), &end, 10);
  if (l->empty() || *end != '\0' || v < 1) {
    return Status::InvalidArgument("limit: expected a positive integer");
  }
  return static_cast<int>(std::min<long>(v, max_page));
}

Result<EventPageQuery> PageQuery(const HttpRequest& req, int max_page) {
  EventPageQuery page;
  DW_ASSIGN_OR_RETURN(page.limit, PageLimit(req, max_page));
  const std::string* order = QueryParam(req, "order");
  if (order != nullptr && *order != "asc" && *order != "desc") {
    return Status::InvalidArgument("order: expected asc or desc");
  }
  const std::string* c = QueryParam(req, "cursor");
  if (c == nullptr || c->empty()) {
    page.newest_first = order == nullptr || *order == "desc";
    return page;
  }
  DW_ASSIGN_OR_RETURN(EventCursor cursor, DecodeCursor(*c));
  if (order != nullptr && (*order == "desc") != cursor.newest_first) {
    return Status::InvalidArgument(
        std::string("cursor: made for order=") + (cursor.newest_first ? "desc" : "asc") +
        ", not order=" + *order + "; repeat that order or start without a cursor");
  }
  page.newest_first = cursor.newest_first;
  (cursor.before ? page.before : page.after) = cursor.key;
  return page;
}

EventPageQuery WithLookahead(EventPageQuery asked) {
  asked.limit += 1;
  return asked;
}

value EventPage(std::vector<EventRecord> events, const EventPageQuery& asked) {
  const size_t limit = static_cast<size_t>(asked.limit);
  // The lookahead event lies beyond the page: before it when the page was
  // read backwards from a key, after it otherwise.
  const bool more = events.size() > limit;
  if (more && asked.before) events.erase(events.begin(), events.end() - limit);
  if (more && !asked.before) events.resize(limit);
  auto cursor = [&](bool before, const EventRecord& e) {
    return value(EncodeCursor({asked.newest_first, before, {e.detected_ns, e.id}}));
  };
  value o = value::object();
  value list = value::array(events.size());
  for (size_t i = 0; i < events.size(); ++i) list[i] = EventToJson(events[i]);
  o["events"] = list;
  value next = value::null(), prev = value::null();
  if (!events.empty()) {
    // A page read backwards was reached from the page after it; a page read
    // forwards from a key has at least that key before it.
    if (asked.before ? true : more) next = cursor(false, events.back());
    if (asked.before ? more : asked.after.has_value()) prev = cursor(true, events.front());
  }
  o["next_cursor"] = next;
  o["prev_cursor"] = prev;
  return o;
}

Result<value> ParseObject(const std::string& body, int max_depth, bool allow_empty) {
  if (body.empty() && allow_empty) return value::object();
  if (!JsonDepthWithin(body, max_depth)) {
    return Status::InvalidArgument("JSON nested deeper than " + std::to_string(max_depth) +
                                   " levels");
  }
  // Real bodies spend well over 8 bytes per value (a drift event about 17);
  // one of tiny values would cost ~75 bytes per value once parsed.
  const size_t max_values = body.size() / 8 + 1024;
  if (!JsonDepthWithin(body, max_depth, max_values)) {
    return Status::ResourceExhausted("JSON with more than " + std::to_string(max_values) +
                                     " values in " + std::to_string(body.size()) +
                                     " bytes: send fewer, larger values");
  }
  std::error_code ec;
  value v = value::parse(body, ec);
  if (ec) return Status::InvalidArgument("malformed JSON: " + ec.message());
  if (!v.is_object()) return Status::InvalidArgument("expected a JSON object");
  return v;
}

}  // namespace driftwatch::collector::api_internal
