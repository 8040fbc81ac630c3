// API handlers for content: an event's diff, and remote restore (api.h,
// docs/api.md "Content diffs" and "Restore").
#include <cpprest/json.h>

#include <charconv>
#include <cstdint>
#include <set>

#include "collector/api.h"
#include "collector/api_util.h"
#include "core/drift_json.h"
#include "core/json_fields.h"

namespace driftwatch::collector {

using web::json::value;
using namespace api_internal;  // NOLINT: the handlers' shared helpers
using namespace json_fields;   // NOLINT: the request bodies' field readers

namespace {

constexpr size_t kMaxRestorePaths = 1000;
constexpr size_t kMaxRestoreReason = 1000;
constexpr size_t kMaxRestorePath = 4096;

// The restore a body asks for (kInvalidArgument saying which field is
// wrong): {paths: [...]} or {all: true}, remove_added, dry_run, reason.
Result<CommandRecord> ParseRestore(const value& v) {
  CommandRecord c;
  c.kind = "restore";
  DW_RETURN_IF_ERROR(GetBool(v, "all", "", false, &c.all));
  DW_RETURN_IF_ERROR(GetBool(v, "remove_added", "", false, &c.remove_added));
  DW_RETURN_IF_ERROR(GetBool(v, "dry_run", "", false, &c.dry_run));
  DW_RETURN_IF_ERROR(GetString(v, "reason", "", false, &c.reason));
  if (c.reason.empty()) {
    return Status::InvalidArgument("reason: required (why the files are restored)");
  }
  if (c.reason.size() > kMaxRestoreReason) {
    return Status::InvalidArgument("reason: at most " + std::to_string(kMaxRestoreReason) +
                                   " bytes");
  }
  if (const value* paths = Find(v, "paths")) {
    if (!paths->is_array()) return TypeError("paths", "an array of paths");
    if (paths->size() > kMaxRestorePaths) {
      return Status::InvalidArgument("paths: at most " + std::to_string(kMaxRestorePaths) +
                                     " paths");
    }
    std::set<std::string> seen;
    for (size_t i = 0; i < paths->size(); ++i) {
      const std::string f = "paths[" + std::to_string(i) + "]";
      const value& p = paths->at(i);
      if (!p.is_string()) return TypeError(f, "a string");
      auto raw = UnescapePath(p.as_string());
      if (!raw.ok()) return raw.status().WithContext(f);
      if (raw->empty() || (*raw)[0] != '/' || raw->size() > kMaxRestorePath) {
        return Status::InvalidArgument(f + ": expected an absolute path or glob of at most " +
                                       std::to_string(kMaxRestorePath) + " bytes");
      }
      if (seen.insert(*raw).second) c.paths.push_back(std::move(raw).value());
    }
  }
  if (c.all == !c.paths.empty()) {
    return Status::InvalidArgument(
        c.all ? "paths: give either paths or all: true, not both"
              : "paths: expected a non-empty array of paths, or all: true");
  }
  return c;
}

value RestoreToJson(const CommandRecord& c) {
  value paths = value::array(c.paths.size());
  for (size_t i = 0; i < c.paths.size(); ++i) paths[i] = value(EscapePath(c.paths[i]));
  value o = value::object();
  o["command"] = value("restore");
  o["paths"] = paths;
  o["all"] = value::boolean(c.all);
  o["remove_added"] = value::boolean(c.remove_added);
  o["dry_run"] = value::boolean(c.dry_run);
  o["reason"] = value(c.reason);
  return o;
}

}  // namespace

std::optional<HttpResponse> Api::RouteContent(const CollectorConfig& config, const Caller& c,
                                              const HttpRequest& req,
                                              const std::vector<std::string>& p) {
  const bool diff = p.size() == 3 && p[0] == "events" && p[2] == "diff";
  const bool host = p.size() == 3 && p[0] == "hosts" && p[2] == "restore";
  const bool fleet = p.size() == 2 && p[0] == "fleet" && p[1] == "restore";
  if (!diff && !host && !fleet) return std::nullopt;
  if (req.method != (diff ? "GET" : "POST")) {
    return Error(405, "method " + req.method + " not allowed on " + req.path);
  }
  const bool allowed =
      diff ? c.role == Role::kRead || c.role == Role::kAdmin : c.role == Role::kAdmin;
  if (!allowed) {
    return Error(403, std::string("a token of role '") + std::string(RoleName(c.role)) +
                          "' may not " + (diff ? "read drift" : "restore files (admin only)"));
  }
  if (diff) return EventDiff(p[1]);
  if (host) return PostRestore(config, p[1], req);
  return FleetRestore(config, req);
}

HttpResponse Api::EventDiff(const std::string& id_text) {
  int64_t id = 0;
  const char* end = id_text.data() + id_text.size();
  const auto [at, ec] = std::from_chars(id_text.data(), end, id);
  if (id_text.empty() || ec != std::errc() || at != end || id <= 0) {
    return Error(400, "event id: expected a positive integer");
  }
  DriftQuery q;
  q.event_id = id;
  q.page.limit = 1;
  auto found = store_.QueryDrift(q);
  if (!found.ok()) return FromStatus(found.status());
  if (found->empty() || found->front().id != id) {
    return Error(404, "no event " + std::to_string(id));
  }
  auto diff = store_.EventDiff(id);
  if (!diff.ok()) return FromStatus(diff.status());
  value body;
  try {
    body = value::parse(found->front().event_json);
  } catch (const std::exception&) {
    body = value::object();  // stored by this collector; never expected
  }
  value o = value::object();
  o["id"] = value::number(static_cast<int64_t>(id));
  o["path"] = body.has_string_field("path") ? body.at("path") : value("");
  o["diff"] = diff->empty() ? value::null() : value(*diff);
  o["content"] = body.has_string_field("content") ? body.at("content") : value::null();
  return Json(200, o);
}

HttpResponse Api::PostRestore(const CollectorConfig& config, const std::string& host_id,
                              const HttpRequest& req) {
  auto body = ParseObject(req.body, config.max_json_depth, false);
  if (!body.ok()) return FromStatus(body.status());
  auto restore = ParseRestore(*body);
  if (!restore.ok()) return FromStatus(restore.status());
  auto ids = store_.QueueRestore(host_id, "", *restore, now_ns_());
  if (!ids.ok()) return FromStatus(ids.status());
  if (ids->size() != 1) return Error(500, "restore: expected one command");
  value o = RestoreToJson(*restore);
  o["id"] = value::number(ids->front());
  o["host"] = value(host_id);
  return Json(201, o);
}

HttpResponse Api::FleetRestore(const CollectorConfig& config, const HttpRequest& req) {
  auto body = ParseObject(req.body, config.max_json_depth, false);
  if (!body.ok()) return FromStatus(body.status());
  std::string group;
  Status err = GetString(*body, "group", "", false, &group);
  if (!err.ok()) return FromStatus(err);
  auto restore = ParseRestore(*body);
  if (!restore.ok()) return FromStatus(restore.status());
  auto ids = store_.QueueRestore("", group, *restore, now_ns_());
  if (!ids.ok()) return FromStatus(ids.status());
  value o = RestoreToJson(*restore);
  o["group"] = value(group);
  o["queued"] = value::number(static_cast<int64_t>(ids->size()));
  value list = value::array(ids->size());
  for (size_t i = 0; i < ids->size(); ++i) list[i] = value::number((*ids)[i]);
  o["commands"] = list;
  return Json(200, o);
}

}  // namespace driftwatch::collector
