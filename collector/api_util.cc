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

Result<int64_t> Cursor(const HttpRequest& req) {
  const std::string* c = QueryParam(req, "cursor");
  if (c == nullptr || c->empty()) return int64_t{0};
  return DecodeCursor(*c);
}

value EventPage(const std::vector<EventRecord>& events, int limit) {
  value o = value::object();
  value list = value::array(events.size());
  for (size_t i = 0; i < events.size(); ++i) list[i] = EventToJson(events[i]);
  o["events"] = list;
  o["next_cursor"] = static_cast<int>(events.size()) == limit
                         ? value(EncodeCursor(events.back().id))
                         : value::null();
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
