// API handlers for reading the fleet and for agent commands (api.h).
#include <cpprest/json.h>

#include <charconv>
#include <cstdint>
#include <map>
#include <optional>
#include <set>

#include "collector/api.h"
#include "collector/api_json.h"
#include "collector/api_util.h"
#include "core/drift_json.h"
#include "core/json_fields.h"

namespace driftwatch::collector {

using web::json::value;
using namespace api_internal;  // NOLINT: the handlers' shared helpers
using namespace json_fields;   // NOLINT: the request bodies' field readers

HttpResponse Api::ListHosts(const CollectorConfig& config) {
  auto hosts = store_.ListHosts();
  if (!hosts.ok()) return FromStatus(hosts.status());
  const int64_t now = now_ns_();
  value list = value::array(hosts->size());
  for (size_t i = 0; i < hosts->size(); ++i) {
    list[i] = HostToJson((*hosts)[i], now, config.silent_after_ns, false);
  }
  value o = value::object();
  o["hosts"] = list;
  return Json(200, o);
}

HttpResponse Api::GetHost(const CollectorConfig& config, const std::string& id) {
  auto h = store_.GetHost(id);
  if (!h.ok()) return FromStatus(h.status());
  value o = HostToJson(*h, now_ns_(), config.silent_after_ns, true);
  auto cmds = store_.ListCommands(id);
  if (!cmds.ok()) return FromStatus(cmds.status());
  value list = value::array(cmds->size());
  for (size_t i = 0; i < cmds->size(); ++i) list[i] = CommandToJson((*cmds)[i]);
  o["commands"] = list;
  return Json(200, o);
}

namespace {

// The realtime filters of /drift and /paths/history (docs/api.md):
// actor_exe, actor_uid, transient. The 400 answer when one does not parse.
std::optional<HttpResponse> ActorFilters(const HttpRequest& req, DriftQuery* q) {
  if (const std::string* e = QueryParam(req, "actor_exe")) q->actor_exe = *e;
  if (const std::string* u = QueryParam(req, "actor_uid")) {
    int64_t uid = -1;
    const auto [end, ec] = std::from_chars(u->data(), u->data() + u->size(), uid);
    if (ec != std::errc() || end != u->data() + u->size() || uid < 0 || uid > UINT32_MAX) {
      return Api::Error(400,
                        "actor_uid: expected a user id from 0 to 4294967295, got '" + *u + "'");
    }
    q->actor_uid = uid;
  }
  if (const std::string* t = QueryParam(req, "transient")) {
    if (*t != "true" && *t != "false") {
      return Api::Error(400, "transient: expected true or false, got '" + *t + "'");
    }
    q->transient = *t == "true";
  }
  return std::nullopt;
}

}  // namespace

HttpResponse Api::QueryDrift(const CollectorConfig& config, const HttpRequest& req) {
  static const std::set<std::string> kKnown = {
      "host",  "group",  "path",  "kind",      "severity",  "since",    "until",
      "order", "cursor", "limit", "actor_exe", "actor_uid", "transient"};
  for (const auto& [k, v] : req.query) {
    if (kKnown.count(k) == 0) return Error(400, "unknown query parameter '" + k + "'");
  }
  DriftQuery q;
  if (const std::string* h = QueryParam(req, "host")) q.host = *h;
  if (const std::string* g = QueryParam(req, "group")) q.group = *g;
  if (const std::string* p = QueryParam(req, "path")) q.path_glob = *p;
  if (const std::string* k = QueryParam(req, "kind")) {
    auto kind = ParseDriftKind(*k);
    if (!kind.ok()) return Error(400, "kind: " + kind.status().message());
    q.kind = *kind;
  }
  if (const std::string* s = QueryParam(req, "severity")) {
    auto sev = ParseSeverity(*s);
    if (!sev.ok()) return Error(400, "severity: " + sev.status().message());
    q.min_severity = *sev;
  }
  for (auto [key, out] : {std::pair{"since", &q.since_ns}, std::pair{"until", &q.until_ns}}) {
    if (const std::string* t = QueryParam(req, key)) {
      auto ns = ParseRfc3339(*t);
      if (!ns.ok()) return Error(400, std::string(key) + ": " + ns.status().message());
      *out = *ns;
    }
  }
  if (auto bad = ActorFilters(req, &q)) return *bad;
  auto page = PageQuery(req, config.max_page);
  if (!page.ok()) return FromStatus(page.status());
  q.page = WithLookahead(*page);
  auto events = store_.QueryDrift(q);
  if (!events.ok()) return FromStatus(events.status());
  return Json(200, EventPage(std::move(events).value(), *page));
}

HttpResponse Api::PathHistory(const CollectorConfig& config, const HttpRequest& req) {
  const std::string* path = QueryParam(req, "path");
  if (path == nullptr || path->empty()) return Error(400, "path: missing");
  DriftQuery q;
  if (auto bad = ActorFilters(req, &q)) return *bad;
  auto page = PageQuery(req, config.max_page);
  if (!page.ok()) return FromStatus(page.status());
  Result<std::vector<EventRecord>> events = std::vector<EventRecord>();
  if (q.actor_exe.empty() && !q.actor_uid && !q.transient) {
    events = store_.PathHistory(*path, WithLookahead(*page));
  } else {
    q.path = *path;
    q.page = WithLookahead(*page);
    events = store_.QueryDrift(q);
  }
  if (!events.ok()) return FromStatus(events.status());
  value o = EventPage(std::move(events).value(), *page);
  o["path"] = value(*path);
  return Json(200, o);
}

namespace {

// The host list's cursor: the last host id of a page (ids are
// [A-Za-z0-9._-], so the cursor needs no escaping) behind a version.
constexpr std::string_view kHostCursorPrefix = "h1.";

}  // namespace

HttpResponse Api::FleetSummary(const CollectorConfig& config, const HttpRequest& req) {
  static const std::set<std::string> kKnown = {"limit", "cursor", "attention"};
  for (const auto& [k, v] : req.query) {
    if (kKnown.count(k) == 0) return Error(400, "unknown query parameter '" + k + "'");
  }
  HostListPage page;
  auto limit = PageLimit(req, config.max_page);
  if (!limit.ok()) return FromStatus(limit.status());
  page.limit = *limit;
  if (const std::string* c = QueryParam(req, "cursor")) {
    if (c->rfind(kHostCursorPrefix, 0) != 0 || !ValidHostId(c->substr(kHostCursorPrefix.size()))) {
      return Error(400,
                   "cursor: not a cursor returned by this API (use the next_cursor of a "
                   "page)");
    }
    page.after = c->substr(kHostCursorPrefix.size());
  }
  if (const std::string* a = QueryParam(req, "attention")) {
    if (*a != "true" && *a != "false") {
      return Error(400, "attention: expected true or false, got '" + *a + "'");
    }
    page.attention = *a == "true";
  }
  const int64_t now = now_ns_();
  auto s = store_.Summary(now, config.silent_after_ns, page);
  if (!s.ok()) return FromStatus(s.status());
  value o = value::object();
  o["hosts"] = value::number(s->hosts);
  o["drifted_hosts"] = value::number(s->drifted_hosts);
  o["silent_hosts"] = value::number(s->silent_hosts);
  value sev = value::object();
  for (const auto& [severity, n] : s->events_by_severity) {
    sev[std::string(SeverityName(severity))] = value::number(n);
  }
  o["events_by_severity"] = sev;
  o["refused_hosts"] = value::number(s->refused_hosts);
  o["reports_refused"] = value::number(s->reports_refused);
  value list = value::array(s->host_list.size());
  for (size_t i = 0; i < s->host_list.size(); ++i) {
    const HostRecord& h = s->host_list[i];
    value x = value::object();
    x["id"] = value(h.id);
    x["group"] = value(h.group);
    x["last_seen"] = h.last_seen_ns ? value(FormatRfc3339Nanos(h.last_seen_ns)) : value::null();
    x["drifted"] = value::boolean(h.last_report_events > 0);
    x["silent"] = value::boolean(IsSilent(h, now, config.silent_after_ns));
    x["interval_seconds"] =
        h.interval_ns > 0 ? value::number(h.interval_ns / 1000000000) : value::null();
    x["baseline_age_seconds"] = h.baseline_since_ns
                                    ? value::number((now - h.baseline_since_ns) / 1000000000)
                                    : value::null();
    x["reports_refused"] = value::number(h.reports_refused);
    x["integrity_alerts"] = value::number(h.open_integrity_alerts);
    list[i] = x;
  }
  o["host_list"] = list;
  o["next_cursor"] = s->more && !s->host_list.empty()
                         ? value(std::string(kHostCursorPrefix) + s->host_list.back().id)
                         : value::null();
  return Json(200, o);
}

HttpResponse Api::PostCommand(const CollectorConfig& config, const std::string& host_id,
                              const HttpRequest& req) {
  auto body = ParseObject(req.body, config.max_json_depth, false);
  if (!body.ok()) return FromStatus(body.status());
  std::string kind;
  Status err = GetString(*body, "command", "", false, &kind);
  if (!err.ok()) return FromStatus(err);
  if (kind != "baseline" && kind != "check-now") {
    return Error(400, "command: expected baseline or check-now");
  }
  auto id = store_.QueueCommand(host_id, kind, now_ns_());
  if (!id.ok()) return FromStatus(id.status());
  value o = value::object();
  o["id"] = value::number(*id);
  o["host"] = value(host_id);
  o["command"] = value(kind);
  return Json(201, o);
}

HttpResponse Api::FleetBaseline(const CollectorConfig& config, const HttpRequest& req) {
  auto body = ParseObject(req.body, config.max_json_depth, true);
  if (!body.ok()) return FromStatus(body.status());
  std::string group;
  Status err = GetString(*body, "group", "", false, &group);
  if (!err.ok()) return FromStatus(err);
  auto ids = store_.QueueCommandForGroup(group, "baseline", now_ns_());
  if (!ids.ok()) return FromStatus(ids.status());
  value o = value::object();
  o["group"] = value(group);
  o["queued"] = value::number(static_cast<int64_t>(ids->size()));
  value list = value::array(ids->size());
  for (size_t i = 0; i < ids->size(); ++i) list[i] = value::number((*ids)[i]);
  o["commands"] = list;
  return Json(200, o);
}

HttpResponse Api::AgentCommands(const Caller& c) {
  const int64_t now = now_ns_();
  Status touch = store_.TouchHost(c.host_id, now);
  if (!touch.ok()) return FromStatus(touch);
  auto cmds = store_.TakeCommands(c.host_id, now);
  if (!cmds.ok()) return FromStatus(cmds.status());
  value list = value::array(cmds->size());
  for (size_t i = 0; i < cmds->size(); ++i) list[i] = SignedCommandJson((*cmds)[i]);
  value o = value::object();
  o["commands"] = list;
  return Json(200, o);
}

HttpResponse Api::AckCommand(const CollectorConfig& config, const Caller& c,
                             const std::string& id_text, const HttpRequest& req) {
  char* end = nullptr;
  long long id = std::strtoll(id_text.c_str(), &end, 10);
  if (id_text.empty() || *end != '\0' || id <= 0)
    return Error(400, "command id: expected an integer");
  auto body = ParseObject(req.body, config.max_json_depth, false);
  if (!body.ok()) return FromStatus(body.status());
  const value& v = *body;
  CommandAck ack;
  Status err = GetBool(v, "ok", "", true, &ack.ok);
  if (err.ok()) err = GetString(v, "detail", "", false, &ack.detail);
  if (!err.ok()) return FromStatus(err);
  if (const value* b = Find(v, "baseline")) {
    if (!b->is_object()) return FromStatus(TypeError("baseline", "an object"));
    const std::string field = "baseline";
    err = GetString(*b, "name", field, false, &ack.baseline);
    if (err.ok()) err = GetOptionalTime(*b, "created", field, &ack.baseline_created_ns);
    Hash128 root;
    if (err.ok()) err = GetHash(*b, "root", field, &root);
    if (err.ok()) err = GetInt64(*b, "revision", field, true, &ack.baseline_revision);
    if (!err.ok()) return FromStatus(err);
    if (!root.IsZero()) ack.baseline_root = root;
  }
  Status s = store_.AckCommand(c.host_id, id, ack, now_ns_());
  if (!s.ok()) return FromStatus(s);
  value o = value::object();
  o["id"] = value::number(static_cast<int64_t>(id));
  o["acknowledged"] = value::boolean(true);
  if (ack.ok && !ack.baseline.empty()) {
    const std::string signed_file = SignAckedRevision(c, id, v);
    if (!signed_file.empty()) o["baseline_signature"] = value(signed_file);
  }
  return Json(200, o);
}

}  // namespace driftwatch::collector
