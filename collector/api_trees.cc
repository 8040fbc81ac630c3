// The fleet's trees over the API, agent side (docs/api.md "Fleet trees"):
// have/want negotiation of tree objects (offer), their upload (objects),
// the host's current tree (agents/tree), its group's baseline
// (agents/group-baseline) and downloads of objects (fetch).
//
// Every list a request carries is capped (kMax*), and an upload is checked
// whole (ids, bytes, closure) before one PutTrees stores all or nothing.
#include <cpprest/json.h>

#include <string_view>

#include "collector/api.h"
#include "collector/api_json.h"
#include "collector/api_util.h"
#include "collector/tree_objects.h"
#include "core/base64.h"
#include "core/drift.h"
#include "core/drift_json.h"
#include "core/entry.h"

namespace driftwatch::collector {

using web::json::value;
using namespace api_internal;  // NOLINT: the handlers' shared helpers

namespace {

constexpr size_t kMaxOfferIds = 10000;
constexpr size_t kMaxUploadObjects = 4096;
constexpr size_t kMaxHostSpecificPaths = 4096;
constexpr size_t kMaxHostSpecificPathBytes = 4096;
constexpr size_t kMaxFetchIds = 1000;
constexpr size_t kMaxFetchBytes = 4 << 20;  // object data per answer

value IdsJson(const std::vector<Hash128>& ids) {
  value a = value::array(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) a[i] = value(ids[i].Hex());
  return a;
}

// 409 missing_objects: what the collector wants before it can store.
HttpResponse MissingObjects(const std::vector<Hash128>& want, const std::string& detail) {
  HttpResponse r = Api::Error(409, "missing_objects", detail);
  value o = value::parse(r.body);
  o["want"] = IdsJson(want);
  return Json(409, o);
}

// The array `field` of `body`: 1..max elements, else kInvalidArgument.
Result<const web::json::array*> ListField(const value& body, const char* field, size_t max,
                                          const char* what) {
  if (!body.has_field(field) || !body.at(field).is_array()) {
    return Status::InvalidArgument(std::string(field) + ": expected an array of " + what);
  }
  const web::json::array& a = body.at(field).as_array();
  if (a.size() == 0 || a.size() > max) {
    return Status::InvalidArgument(std::string(field) + ": expected 1 to " + std::to_string(max) +
                                   " " + what + ", got " + std::to_string(a.size()));
  }
  return &a;
}

// The ids of the array `field`: 1..max tree ids (ParseTreeId).
Result<std::vector<Hash128>> IdList(const value& body, const char* field, size_t max) {
  DW_ASSIGN_OR_RETURN(const web::json::array* a, ListField(body, field, max, "tree ids"));
  std::vector<Hash128> ids;
  ids.reserve(a->size());
  for (size_t i = 0; i < a->size(); ++i) {
    const value& v = a->at(i);
    if (!v.is_string()) {
      return Status::InvalidArgument(std::string(field) + "[" + std::to_string(i) +
                                     "]: expected 32 lowercase hex digits");
    }
    auto id = ParseTreeId(v.as_string());
    if (!id.ok()) {
      return Status::InvalidArgument(std::string(field) + "[" + std::to_string(i) +
                                     "]: " + id.status().message());
    }
    ids.push_back(*id);
  }
  return ids;
}

// The ids in first-seen order, each once.
std::vector<Hash128> Distinct(const std::vector<Hash128>& ids) {
  Hash128Set seen;
  std::vector<Hash128> out;
  for (const Hash128& id : ids) {
    if (seen.insert(id).second) out.push_back(id);
  }
  return out;
}

// A group baseline revision as GET /agents/group-baseline answers it.
value AgentBaselineJson(const GroupBaseline& b) {
  value o = value::object();
  o["group"] = value(b.group);
  o["revision"] = value::number(b.revision);
  o["root"] = value(b.root.Hex());
  o["source"] = value(b.source);
  o["by"] = value(b.by);
  o["why"] = value(b.why);
  o["created"] = value(FormatRfc3339Nanos(b.created_ns));
  return o;
}

}  // namespace

std::optional<HttpResponse> Api::RouteTrees(const CollectorConfig& config, const Caller& c,
                                            const HttpRequest& req,
                                            const std::vector<std::string>& p) {
  const bool trees =
      p.size() == 2 && p[0] == "trees" && (p[1] == "offer" || p[1] == "objects" || p[1] == "fetch");
  const bool agent_tree =
      p.size() == 2 && p[0] == "agents" && (p[1] == "tree" || p[1] == "group-baseline");
  if (!trees && !agent_tree) return std::nullopt;
  const bool get = p[1] == "group-baseline";
  if (req.method != (get ? "GET" : "POST")) {
    return Error(405, "method " + req.method + " not allowed on " + req.path);
  }
  const bool fetch = p[1] == "fetch";
  const bool allowed =
      c.role == Role::kAgent || (fetch && (c.role == Role::kRead || c.role == Role::kAdmin));
  if (!allowed) {
    return Error(
        403, std::string("a token of role '") + std::string(RoleName(c.role)) + "' may not " +
                 (fetch ? "fetch tree objects" : "send or read a host's tree (agent tokens only)"));
  }
  if (p[1] == "offer") return OfferTrees(config, req);
  if (p[1] == "objects") return PutTreeObjects(config, req);
  if (p[1] == "fetch") return FetchTrees(config, req);
  if (p[1] == "tree") return SetAgentTree(config, c, req);
  return AgentGroupBaseline(c);
}

HttpResponse Api::OfferTrees(const CollectorConfig& config, const HttpRequest& req) {
  auto body = ParseObject(req.body, config.max_json_depth, false);
  if (!body.ok()) return FromStatus(body.status());
  auto ids = IdList(*body, "ids", kMaxOfferIds);
  if (!ids.ok()) return FromStatus(ids.status());
  const std::vector<Hash128> distinct = Distinct(*ids);
  auto held = store_.trees().HasTrees(distinct);
  if (!held.ok()) return FromStatus(held.status());
  std::vector<Hash128> want;
  for (size_t i = 0; i < distinct.size(); ++i) {
    if (!(*held)[i]) want.push_back(distinct[i]);
  }
  value o = value::object();
  o["want"] = IdsJson(want);
  return Json(200, o);
}

HttpResponse Api::PutTreeObjects(const CollectorConfig& config, const HttpRequest& req) {
  auto body = ParseObject(req.body, config.max_json_depth, false);
  if (!body.ok()) return FromStatus(body.status());
  auto list = ListField(*body, "objects", kMaxUploadObjects, "objects");
  if (!list.ok()) return FromStatus(list.status());
  std::vector<TreeObject> objects;
  objects.reserve((*list)->size());
  for (size_t i = 0; i < (*list)->size(); ++i) {
    const value& v = (*list)->at(i);
    const std::string at = "objects[" + std::to_string(i) + "]";
    if (!v.is_object() || !v.has_string_field("id") || !v.has_string_field("data")) {
      return Error(400, at + ": expected {\"id\": hex, \"data\": base64}");
    }
    auto id = ParseTreeId(v.at("id").as_string());
    if (!id.ok()) return Error(400, at + ".id: " + id.status().message());
    const std::string hex = id->Hex();
    auto data = Base64Decode(v.at("data").as_string());
    if (!data.ok()) {
      return Error(400, "bad_object", "object " + hex + ": data is not base64");
    }
    if (TreeHash(*data) != *id) {
      return Error(
          400, "bad_object",
          "object " + hex + ": its data hashes to " + TreeHash(*data).Hex() + ", not to its id");
    }
    if (auto tree = ParseTree(*data); !tree.ok()) {
      return Error(400, "bad_object",
                   "object " + hex + ": not a tree object: " + tree.status().message());
    }
    objects.push_back(TreeObject{*id, std::move(data).value()});
  }
  TreeStore& trees = store_.trees();
  const auto held = [&trees](const std::vector<Hash128>& ids) { return trees.HasTrees(ids); };
  auto missing = MissingChildren(objects, held);
  if (!missing.ok()) return FromStatus(missing.status());
  if (!missing->empty()) {
    return MissingObjects(*missing,
                          "the objects name subtrees the collector does not hold; send those "
                          "first (children before parents)");
  }
  auto stored = trees.PutTrees(objects, now_ns_());
  if (!stored.ok() && stored.status().code() == StatusCode::kFailedPrecondition) {
    // A prune removed a subtree since the check: say which ones now.
    auto again = MissingChildren(objects, held);
    if (!again.ok()) return FromStatus(again.status());
    return MissingObjects(*again, stored.status().message());
  }
  if (!stored.ok()) return FromStatus(stored.status());
  value o = value::object();
  o["stored"] = value::number(*stored);
  o["held"] = value::number(static_cast<int64_t>(objects.size()) - *stored);
  return Json(200, o);
}

HttpResponse Api::SetAgentTree(const CollectorConfig& config, const Caller& c,
                               const HttpRequest& req) {
  auto body = ParseObject(req.body, config.max_json_depth, false);
  if (!body.ok()) return FromStatus(body.status());
  if (!body->has_string_field("root")) return Error(400, "root: expected a tree id");
  auto root = ParseTreeId(body->at("root").as_string());
  if (!root.ok()) return Error(400, "root: " + root.status().message());
  HostTree tree;
  tree.host_id = c.host_id;
  tree.root = *root;
  tree.set_ns = now_ns_();
  if (body->has_field("host_specific")) {
    const value& paths = body->at("host_specific");
    if (!paths.is_array()) return Error(400, "host_specific: expected an array of paths");
    if (paths.size() > kMaxHostSpecificPaths) {
      return Error(400, "host_specific: at most " + std::to_string(kMaxHostSpecificPaths) +
                            " paths, got " + std::to_string(paths.size()));
    }
    for (size_t i = 0; i < paths.size(); ++i) {
      const std::string at = "host_specific[" + std::to_string(i) + "]";
      const value& v = paths.at(i);
      if (!v.is_string()) return Error(400, at + ": expected an escaped path");
      auto raw = UnescapePath(v.as_string());
      if (!raw.ok()) return Error(400, at + ": " + raw.status().message());
      if (raw->empty() || raw->front() != '/' || raw->size() > kMaxHostSpecificPathBytes) {
        return Error(400, at + ": expected an absolute path of at most " +
                              std::to_string(kMaxHostSpecificPathBytes) + " bytes");
      }
      tree.host_specific.push_back(std::move(raw).value());
    }
  }
  Status s = store_.trees().SetHostTree(tree);
  if (s.code() == StatusCode::kFailedPrecondition) {
    return MissingObjects({tree.root}, "the collector does not hold the root " + root->Hex() +
                                           "; send its objects first");
  }
  if (!s.ok()) return FromStatus(s);
  value o = value::object();
  o["root"] = value(root->Hex());
  return Json(200, o);
}

HttpResponse Api::AgentGroupBaseline(const Caller& c) {
  auto host = store_.GetHost(c.host_id);
  if (!host.ok()) return FromStatus(host.status());
  auto baseline = store_.trees().GetGroupBaseline(host->group, 0);
  if (!baseline.ok()) return FromStatus(baseline.status());
  if (!*baseline) {
    return Error(404, "no_group_baseline",
                 "group '" + host->group +
                     "' has no baseline (driftwatch-collector baseline "
                     "--group)");
  }
  return Json(200, AgentBaselineJson(**baseline));
}

HttpResponse Api::FetchTrees(const CollectorConfig& config, const HttpRequest& req) {
  auto body = ParseObject(req.body, config.max_json_depth, false);
  if (!body.ok()) return FromStatus(body.status());
  auto ids = IdList(*body, "ids", kMaxFetchIds);
  if (!ids.ok()) return FromStatus(ids.status());
  const std::vector<Hash128> distinct = Distinct(*ids);
  value objects = value::array();
  std::vector<Hash128> missing;
  std::vector<Hash128> more;
  size_t bytes = 0;
  size_t next = 0;
  // Read in small batches so that one answer never loads much past its cap.
  constexpr size_t kBatch = 64;
  size_t count = 0;
  while (next < distinct.size() && bytes < kMaxFetchBytes) {
    std::vector<Hash128> batch(distinct.begin() + next,
                               distinct.begin() + std::min(distinct.size(), next + kBatch));
    auto data = store_.trees().GetTrees(batch);
    if (!data.ok()) return FromStatus(data.status());
    size_t i = 0;
    for (; i < batch.size(); ++i) {
      if (!(*data)[i]) {
        missing.push_back(batch[i]);
        continue;
      }
      // The first object always goes, however large, so that every call
      // makes progress.
      if (count > 0 && bytes + (*data)[i]->size() > kMaxFetchBytes) break;
      value o = value::object();
      o["id"] = value(batch[i].Hex());
      o["data"] = value(Base64Encode(*(*data)[i]));
      objects[count++] = o;
      bytes += (*data)[i]->size();
    }
    next += i;
    if (i < batch.size()) break;
  }
  more.assign(distinct.begin() + next, distinct.end());
  value o = value::object();
  o["objects"] = objects;
  o["missing"] = IdsJson(missing);
  o["more"] = IdsJson(more);
  return Json(200, o);
}

}  // namespace driftwatch::collector
