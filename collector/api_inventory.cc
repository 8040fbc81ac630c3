// API handlers for host inventories, fleet images and accepting drift
// through the agent (api.h, docs/api.md).
#include <cpprest/json.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "collector/api.h"
#include "collector/api_util.h"
#include "core/drift_json.h"
#include "core/json_fields.h"
#include "core/normal_path.h"

namespace driftwatch::collector {

using web::json::value;
using namespace api_internal;  // NOLINT: the handlers' shared helpers

namespace {

constexpr size_t kMaxAcceptPaths = 1000;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Only host files can be accepted into the agent's baseline: container and
// package drift have their own state (docs/api.md). A host path must be one
// the agent takes: a normal path (core/normal_path.h), as its globs require.
Status CheckAcceptPath(const std::string& raw, const std::string& field) {
  if (raw.empty() || raw[0] != '/') {
    return Status::InvalidArgument(field + ": '" + EscapePath(raw.substr(0, 256)) +
                                   "' is not an absolute host path; container and package drift "
                                   "cannot be accepted into the host baseline");
  }
  if (Status s = CheckNormalPath(raw); !s.ok()) {
    std::string shown = EscapePath(raw.substr(0, 256));
    if (raw.size() > 256) shown += "...";
    return Status::InvalidArgument(field + ": '" + shown + "': " + s.message());
  }
  return Status::Ok();
}

}  // namespace

HttpResponse Api::HostPackages(const std::string& id, const HttpRequest& req) {
  for (const auto& [k, v] : req.query) {
    if (k != "name") return Error(400, "unknown query parameter '" + k + "'");
  }
  const std::string* filter = QueryParam(req, "name");
  const std::string needle = filter ? Lower(*filter) : "";
  auto inv = store_.GetInventory(id);
  if (!inv.ok()) return FromStatus(inv.status());
  value list = value::array();
  size_t n = 0;
  for (const PackageInfo& p : inv->packages) {
    if (!needle.empty() && Lower(p.name).find(needle) == std::string::npos) continue;
    list[n++] = PackageInfoToJson(p);
  }
  value o = value::object();
  o["host"] = value(id);
  o["digest"] = inv->packages_digest.empty() ? value::null() : value(inv->packages_digest);
  o["count"] = value::number(inv->packages_count);
  o["received"] = TimeOrNull(inv->packages_ns);
  o["matched"] = value::number(static_cast<int64_t>(n));
  o["packages"] = list;
  return Json(200, o);
}

HttpResponse Api::HostContainers(const std::string& id) {
  auto inv = store_.GetInventory(id);
  if (!inv.ok()) return FromStatus(inv.status());
  value list = value::array(inv->containers.size());
  for (size_t i = 0; i < inv->containers.size(); ++i) {
    const ContainerInfo& c = inv->containers[i];
    value x = ContainerInfoToJson(c);
    x["drifted"] = value::boolean(c.events > 0);
    list[i] = std::move(x);
  }
  value o = value::object();
  o["host"] = value(id);
  o["known"] = value::boolean(inv->containers_known);
  o["received"] = TimeOrNull(inv->containers_ns);
  o["containers"] = list;
  return Json(200, o);
}

HttpResponse Api::HostBaselines(const std::string& id) {
  auto host = store_.GetHost(id);
  if (!host.ok()) return FromStatus(host.status());
  auto revs = store_.ListBaselines(id);
  if (!revs.ok()) return FromStatus(revs.status());
  value list = value::array(revs->size());
  for (size_t i = 0; i < revs->size(); ++i) {
    const BaselineRevision& b = (*revs)[i];
    value x = value::object();
    x["name"] = value(b.name);
    x["revision"] = value::number(b.revision);
    x["root"] = b.root.IsZero() ? value::null() : value(b.root.Hex());
    x["since"] = TimeOrNull(b.since_ns);
    x["first_seen"] = TimeOrNull(b.first_seen_ns);
    x["last_seen"] = TimeOrNull(b.last_seen_ns);
    x["current"] =
        value::boolean(b.name == host->baseline && b.revision == host->baseline_revision);
    list[i] = x;
  }
  value cur = value::object();
  cur["name"] = value(host->baseline);
  cur["revision"] = value::number(host->baseline_revision);
  value o = value::object();
  o["host"] = value(id);
  o["current"] = cur;
  o["baselines"] = list;
  return Json(200, o);
}

HttpResponse Api::ListImages() {
  auto images = store_.ListImages();
  if (!images.ok()) return FromStatus(images.status());
  auto strings = [](const std::vector<std::string>& v) {
    value a = value::array(v.size());
    for (size_t k = 0; k < v.size(); ++k) a[k] = value(v[k]);
    return a;
  };
  // Per runtime: the distinct images and digests it runs, its containers.
  struct PerRuntime {
    std::set<std::string> names, digests;
    int64_t containers = 0, drifted = 0;
  };
  std::map<std::string, PerRuntime> runtimes;
  std::set<std::string> names, digests;
  int64_t sprawled = 0;
  value list = value::array(images->size());
  for (size_t i = 0; i < images->size(); ++i) {
    const ImageUsage& u = (*images)[i];
    if (!u.image.empty()) names.insert(u.image);
    if (!u.digest.empty()) digests.insert(u.digest);
    if (u.image_trees.size() > 1) ++sprawled;
    value x = value::object();
    x["image"] = value(u.image);
    x["digest"] = value(u.digest);
    x["hosts"] = value::number(u.hosts);
    x["containers"] = value::number(u.containers);
    x["drifted"] = value::number(u.drifted);
    x["host_ids"] = strings(u.host_ids);
    value rts = value::array(u.runtimes.size());
    for (size_t k = 0; k < u.runtimes.size(); ++k) rts[k] = value(u.runtimes[k].runtime);
    x["runtimes"] = rts;
    x["image_ids"] = strings(u.image_ids);
    x["image_trees"] = strings(u.image_trees);
    x["distinct_trees"] = value::number(static_cast<int64_t>(u.image_trees.size()));
    list[i] = x;
    for (const RuntimeCount& rc : u.runtimes) {
      PerRuntime& p = runtimes[rc.runtime];
      if (!u.image.empty()) p.names.insert(u.image);
      if (!u.digest.empty()) p.digests.insert(u.digest);
      p.containers += rc.containers;
      p.drifted += rc.drifted;
    }
  }
  value by_runtime = value::array(runtimes.size());
  size_t n = 0;
  for (const auto& [name, p] : runtimes) {
    value x = value::object();
    x["runtime"] = value(name);
    x["images"] = value::number(static_cast<int64_t>(p.names.size()));
    x["digests"] = value::number(static_cast<int64_t>(p.digests.size()));
    x["containers"] = value::number(p.containers);
    x["drifted"] = value::number(p.drifted);
    by_runtime[n++] = x;
  }
  value o = value::object();
  o["distinct_images"] = value::number(static_cast<int64_t>(names.size()));
  o["distinct_digests"] = value::number(static_cast<int64_t>(digests.size()));
  o["sprawled"] = value::number(sprawled);
  o["runtimes"] = by_runtime;
  o["images"] = list;
  return Json(200, o);
}

HttpResponse Api::PostAccept(const CollectorConfig& config, const std::string& id,
                             const HttpRequest& req) {
  auto body = ParseObject(req.body, config.max_json_depth, false);
  if (!body.ok()) return FromStatus(body.status());
  const value& v = *body;
  std::vector<std::string> paths;
  std::set<std::string> seen;
  auto add = [&](std::string raw, const std::string& field) -> Status {
    DW_RETURN_IF_ERROR(CheckAcceptPath(raw, field));
    if (seen.insert(raw).second) paths.push_back(std::move(raw));
    return Status::Ok();
  };
  const value* paths_field = json_fields::Find(v, "paths");
  const value* events_field = json_fields::Find(v, "events");
  if (!paths_field && !events_field) return Error(400, "paths or events: one is required");
  if (paths_field) {
    const value& a = *paths_field;
    if (!a.is_array()) return Error(400, "paths: expected an array of paths");
    if (a.size() > kMaxAcceptPaths) {
      return Error(400, "paths: at most " + std::to_string(kMaxAcceptPaths) + " paths");
    }
    for (size_t i = 0; i < a.size(); ++i) {
      const std::string f = "paths[" + std::to_string(i) + "]";
      if (!a.at(i).is_string()) return Error(400, f + ": expected a string");
      auto raw = UnescapePath(a.at(i).as_string());
      if (!raw.ok()) return Error(400, f + ": " + raw.status().message());
      Status s = add(std::move(raw).value(), f);
      if (!s.ok()) return FromStatus(s);
    }
  }
  if (events_field) {
    const value& a = *events_field;
    if (!a.is_array()) return Error(400, "events: expected an array of event ids");
    if (a.size() > kMaxAcceptPaths) {
      return Error(400, "events: at most " + std::to_string(kMaxAcceptPaths) + " events");
    }
    for (size_t i = 0; i < a.size(); ++i) {
      const std::string f = "events[" + std::to_string(i) + "]";
      const value& e = a.at(i);
      if (!e.is_number() || !e.as_number().is_int64() || e.as_number().to_int64() <= 0) {
        return Error(400, f + ": expected a positive event id");
      }
      const int64_t event_id = e.as_number().to_int64();
      DriftQuery q;
      q.host = id;
      q.event_id = event_id;
      q.page.limit = 1;
      auto found = store_.QueryDrift(q);
      if (!found.ok()) return FromStatus(found.status());
      if (found->empty() || found->front().id != event_id) {
        return Error(404, f + ": no event " + std::to_string(event_id) + " of host '" + id + "'");
      }
      std::string escaped;
      try {
        escaped = value::parse(found->front().event_json).at("path").as_string();
      } catch (const std::exception&) {
        return Error(500, f + ": stored event has no path");
      }
      auto raw = UnescapePath(escaped);
      if (!raw.ok()) return Error(500, f + ": stored event path: " + raw.status().message());
      Status s = add(std::move(raw).value(), f);
      if (!s.ok()) return FromStatus(s);
    }
  }
  if (paths.empty()) return Error(400, "paths: nothing to accept");
  auto cmd = store_.QueueAccept(id, paths, now_ns_());
  if (!cmd.ok()) return FromStatus(cmd.status());
  value list = value::array(paths.size());
  for (size_t i = 0; i < paths.size(); ++i) list[i] = value(EscapePath(paths[i]));
  value o = value::object();
  o["id"] = value::number(*cmd);
  o["host"] = value(id);
  o["command"] = value("accept");
  o["paths"] = list;
  return Json(201, o);
}

}  // namespace driftwatch::collector
