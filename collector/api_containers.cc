// The fleet's containers over the API (docs/api.md "GET /containers",
// "GET /kubernetes"), and the container an event's path names, stored with
// the event at ingest so that its history keeps it after the container is
// gone.
#include <cpprest/json.h>

#include <cstdlib>
#include <map>
#include <set>
#include <string_view>

#include "collector/api.h"
#include "collector/api_json.h"
#include "collector/api_util.h"
#include "collector/fleet_containers.h"

namespace driftwatch::collector {

using web::json::value;
using namespace api_internal;  // NOLINT: the handlers' shared helpers

namespace {

// At most this many containers go into one /kubernetes answer (read from
// the store in pages of kKubernetesPage); the answer says when it stopped.
constexpr size_t kMaxKubernetesContainers = 10000;
constexpr int kKubernetesPage = 1000;

// `after` as /containers writes it in next_after: "HOST/POS".
std::string EncodeAfter(const FleetContainer& c) { return c.host_id + "/" + std::to_string(c.pos); }

Result<std::pair<std::string, int64_t>> DecodeAfter(const std::string& text) {
  const Status bad = Status::InvalidArgument(
      "after: not a next_after value of this API (HOST/POSITION); start without it");
  const size_t slash = text.rfind('/');
  if (slash == std::string::npos || slash + 1 >= text.size() || slash > 128) return bad;
  const std::string host = text.substr(0, slash);
  const std::string pos = text.substr(slash + 1);
  if (!ValidHostId(host) || pos.size() > 9) return bad;
  for (char ch : pos) {
    if (ch < '0' || ch > '9') return bad;
  }
  return std::make_pair(host, static_cast<int64_t>(std::strtoll(pos.c_str(), nullptr, 10)));
}

// The filters both endpoints share; nullopt when they are fine.
std::optional<HttpResponse> ReadFilters(const HttpRequest& req,
                                        const std::set<std::string_view>& known,
                                        ContainerQuery* q) {
  for (const auto& [k, v] : req.query) {
    if (known.count(k) == 0) return Api::Error(400, "unknown query parameter '" + k + "'");
  }
  const std::pair<const char*, std::string*> text[] = {{"host", &q->host},
                                                       {"image", &q->image},
                                                       {"digest", &q->digest},
                                                       {"runtime", &q->runtime},
                                                       {"namespace", &q->k8s_namespace},
                                                       {"pod", &q->k8s_pod}};
  for (const auto& [key, out] : text) {
    if (const std::string* v = QueryParam(req, key)) *out = *v;
  }
  if (!q->host.empty() && !ValidHostId(q->host)) {
    return Api::Error(400, "host: expected 1-128 characters of A-Z a-z 0-9 . _ -");
  }
  if (const std::string* d = QueryParam(req, "drifted")) {
    if (*d != "true" && *d != "false") {
      return Api::Error(400, "drifted: expected true or false, got '" + *d + "'");
    }
    q->drifted = *d == "true";
  }
  return std::nullopt;
}

value Counts(int64_t containers, int64_t drifted, int64_t events) {
  value o = value::object();
  o["containers"] = value::number(containers);
  o["drifted"] = value::number(drifted);
  o["events"] = value::number(events);
  return o;
}

}  // namespace

std::optional<HttpResponse> Api::RouteContainers(const CollectorConfig& config, const Caller& c,
                                                 const HttpRequest& req,
                                                 const std::vector<std::string>& p) {
  const bool list = p.size() == 1 && p[0] == "containers";
  const bool k8s = p.size() == 1 && p[0] == "kubernetes";
  if (!list && !k8s) return std::nullopt;
  if (req.method != "GET")
    return Error(405, "method " + req.method + " not allowed on " + req.path);
  if (c.role != Role::kRead && c.role != Role::kAdmin) {
    return Error(403, std::string("a token of role '") + std::string(RoleName(c.role)) +
                          "' may not read the fleet");
  }
  return list ? ListContainers(config, req) : Kubernetes(req);
}

HttpResponse Api::ListContainers(const CollectorConfig& config, const HttpRequest& req) {
  static const std::set<std::string_view> kKnown = {
      "host", "image", "digest", "runtime", "namespace", "pod", "drifted", "limit", "after"};
  ContainerQuery q;
  if (auto bad = ReadFilters(req, kKnown, &q)) return *bad;
  auto limit = PageLimit(req, config.max_page);
  if (!limit.ok()) return FromStatus(limit.status());
  if (const std::string* a = QueryParam(req, "after"); a != nullptr && !a->empty()) {
    auto after = DecodeAfter(*a);
    if (!after.ok()) return FromStatus(after.status());
    q.after = *after;
  }
  q.limit = *limit + 1;  // one more says whether a next page exists
  auto rows = store_.ListContainers(q);
  if (!rows.ok()) return FromStatus(rows.status());
  const bool more = rows->size() > static_cast<size_t>(*limit);
  if (more) rows->resize(static_cast<size_t>(*limit));
  value list = value::array(rows->size());
  for (size_t i = 0; i < rows->size(); ++i) list[i] = FleetContainerJson((*rows)[i]);
  value o = value::object();
  o["containers"] = list;
  o["next_after"] = more ? value(EncodeAfter(rows->back())) : value::null();
  return Json(200, o);
}

HttpResponse Api::Kubernetes(const HttpRequest& req) {
  static const std::set<std::string_view> kKnown = {"host",  "namespace", "pod",
                                                    "image", "runtime",   "drifted"};
  ContainerQuery q;
  if (auto bad = ReadFilters(req, kKnown, &q)) return *bad;
  q.kubernetes_only = true;
  q.limit = kKubernetesPage;
  std::vector<FleetContainer> all;
  bool truncated = false;
  while (true) {
    auto rows = store_.ListContainers(q);
    if (!rows.ok()) return FromStatus(rows.status());
    for (FleetContainer& r : *rows) {
      if (all.size() == kMaxKubernetesContainers) {
        truncated = true;
        break;
      }
      all.push_back(std::move(r));
    }
    if (truncated || rows->size() < static_cast<size_t>(kKubernetesPage)) break;
    q.after = std::make_pair(all.back().host_id, all.back().pos);
  }
  // namespace -> pod -> containers, each level sorted by name (bytewise);
  // containers keep the fleet's order (host, position).
  std::map<std::string, std::map<std::string, std::vector<const FleetContainer*>>> tree;
  for (const FleetContainer& r : all) tree[r.k8s_namespace][r.k8s_pod].push_back(&r);
  value namespaces = value::array();
  size_t ni = 0;
  for (const auto& [ns, pods] : tree) {
    int64_t ns_containers = 0, ns_drifted = 0, ns_events = 0;
    value pod_list = value::array();
    size_t pi = 0;
    for (const auto& [pod, rows] : pods) {
      int64_t drifted = 0, events = 0;
      std::set<std::string> hosts;
      value ctrs = value::array(rows.size());
      for (size_t i = 0; i < rows.size(); ++i) {
        hosts.insert(rows[i]->host_id);
        if (rows[i]->info.events > 0) ++drifted;
        events += rows[i]->info.events;
        ctrs[i] = FleetContainerJson(*rows[i]);
      }
      value x = value::object();
      x["pod"] = value(pod);
      value host_list = value::array();
      size_t hi = 0;
      for (const std::string& h : hosts) host_list[hi++] = value(h);
      x["hosts"] = host_list;
      x["drifted"] = value::number(drifted);
      x["events"] = value::number(events);
      x["containers"] = ctrs;
      pod_list[pi++] = x;
      ns_containers += static_cast<int64_t>(rows.size());
      ns_drifted += drifted;
      ns_events += events;
    }
    value x = Counts(ns_containers, ns_drifted, ns_events);
    x["namespace"] = value(ns);
    x["pods"] = pod_list;
    namespaces[ni++] = x;
  }
  value o = value::object();
  o["namespaces"] = namespaces;
  o["containers"] = value::number(static_cast<int64_t>(all.size()));
  o["truncated"] = value::boolean(truncated);
  return Json(200, o);
}

std::vector<std::string> Api::StoredEventBodies(const ReportEnvelope& env) {
  const CheckResult& r = env.result;
  std::vector<std::string> out;
  out.reserve(r.events.size());
  bool any = false;
  for (const DriftEvent& e : r.events) any = any || !ContainerLabelOf(e.path).empty();
  std::optional<ContainerIndex> index;
  if (any && r.containers) {
    index.emplace(*r.containers);
  } else if (any) {
    // An unknown host is refused by the ingest itself; no names then.
    auto inv = store_.GetInventory(env.host_id);
    if (inv.ok()) index.emplace(inv->containers);
  }
  for (const DriftEvent& e : r.events) {
    const ContainerInfo* c = index ? index->Find(e.path) : nullptr;
    if (c == nullptr) {
      out.push_back(ListedEventJson(e));
      continue;
    }
    value body = value::parse(ListedEventJson(e));
    body["container"] = ContainerRefJson(*c);
    out.push_back(body.serialize());
  }
  return out;
}

}  // namespace driftwatch::collector
