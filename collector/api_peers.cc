// The fleet's trees read side by side (docs/api.md "GET /fleet/compare",
// "GET /fleet/outliers", "/groups/{G}/baselines"): host-vs-host compare at
// the level of paths, peer outliers of a group, and the group's baselines.
#include <cpprest/json.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>

#include "collector/api.h"
#include "collector/api_json.h"
#include "collector/api_util.h"
#include "collector/auth.h"
#include "collector/group_baseline.h"
#include "collector/tree_compare.h"
#include "collector/tree_outliers.h"
#include "core/drift_json.h"
#include "core/json_fields.h"
#include "core/normal_path.h"

namespace driftwatch::collector {

using web::json::value;
using namespace api_internal;  // NOLINT: the handlers' shared helpers
using namespace json_fields;   // NOLINT: the request bodies' field readers

namespace {

constexpr size_t kDefaultPathLimit = 1000;
constexpr size_t kMaxPathLimit = 10000;

// An entry as drift events show one (EntryAttributesToJson: only the
// attributes its rule records), with a directory's subtree id; null for an
// absent path. A directory side whose hosts hold different trees has none.
value EntryJson(const std::optional<Entry>& e) {
  if (!e) return value::null();
  value o = EntryAttributesToJson(*e);
  if (e->type == EntryType::kDir && !e->subtree.IsZero()) o["subtree"] = value(e->subtree.Hex());
  return o;
}

value HashOrNull(const std::optional<HostTree>& t) {
  return t ? value(t->root.Hex()) : value::null();
}

// The `path` and `limit` parameters of /fleet/compare and /fleet/outliers,
// after refusing parameters other than `known`.
struct PathQuery {
  std::string prefix = "/";  // raw
  size_t limit = kDefaultPathLimit;
};
Result<PathQuery> ReadPathQuery(const HttpRequest& req, const std::set<std::string>& known) {
  for (const auto& [k, v] : req.query) {
    if (known.count(k) == 0) {
      return Status::InvalidArgument("unknown query parameter '" + k + "'");
    }
  }
  PathQuery q;
  if (const std::string* p = QueryParam(req, "path")) {
    auto raw = UnescapePath(*p);
    if (!raw.ok()) return Status::InvalidArgument("path: " + raw.status().message());
    if (Status s = CheckNormalPath(*raw); !s.ok()) {
      return Status::InvalidArgument("path '" + *p + "': " + s.message());
    }
    q.prefix = std::move(raw).value();
  }
  if (const std::string* l = QueryParam(req, "limit")) {
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(l->c_str(), &end, 10);
    if (l->empty() || *end != '\0' || v < 1 || errno == ERANGE) {
      return Status::InvalidArgument("limit: expected a positive integer");
    }
    q.limit = static_cast<size_t>(std::min<long long>(v, kMaxPathLimit));
  }
  return q;
}

}  // namespace

std::optional<HttpResponse> Api::RoutePeers(const CollectorConfig& config, const Caller& c,
                                            const HttpRequest& req,
                                            const std::vector<std::string>& p) {
  const bool fleet = p.size() == 2 && p[0] == "fleet" && (p[1] == "compare" || p[1] == "outliers");
  const bool baselines = p.size() == 3 && p[0] == "groups" && p[2] == "baselines";
  if (!fleet && !baselines) return std::nullopt;
  const bool can_read = c.role == Role::kRead || c.role == Role::kAdmin;
  auto forbidden = [&](const std::string& what) {
    return Error(403, "a token of role '" + std::string(RoleName(c.role)) + "' may not " + what);
  };
  if (fleet) {
    if (req.method != "GET")
      return Error(405, "method " + req.method + " not allowed on " + req.path);
    if (!can_read) return forbidden("read the fleet");
    return p[1] == "compare" ? FleetCompare(req) : FleetOutliers(req);
  }
  if (req.method == "GET") {
    if (!can_read) return forbidden("read group baselines");
    return GroupBaselines(p[1]);
  }
  if (req.method == "POST") {
    if (c.role != Role::kAdmin) return forbidden("make group baselines (admin only)");
    return PostGroupBaseline(config, c, p[1], req);
  }
  return Error(405, "method " + req.method + " not allowed on " + req.path);
}

HttpResponse Api::FleetCompare(const HttpRequest& req) {
  const std::string* a = QueryParam(req, "a");
  const std::string* b = QueryParam(req, "b");
  if (a == nullptr || b == nullptr) return Error(400, "a and b: two host ids are required");
  auto query = ReadPathQuery(req, {"a", "b", "path", "limit"});
  if (!query.ok()) return FromStatus(query.status());
  auto ha = store_.GetHost(*a);
  if (!ha.ok()) return FromStatus(ha.status());
  auto hb = store_.GetHost(*b);
  if (!hb.ok()) return FromStatus(hb.status());
  // The subtree roots of the hosts' latest reports, as before trees were kept.
  std::map<std::string, std::pair<std::optional<Hash128>, std::optional<Hash128>>> all;
  for (const auto& [path, h] : ha->subtrees) all[path].first = h;
  for (const auto& [path, h] : hb->subtrees) all[path].second = h;
  value list = value::array();
  value differ = value::array();
  size_t i = 0, d = 0;
  for (const auto& [path, hashes] : all) {
    const auto& [x, y] = hashes;
    std::string status = !x ? "only_b" : !y ? "only_a" : *x == *y ? "same" : "differ";
    value e = value::object();
    e["path"] = value(EscapePath(path));
    e["a"] = x ? value(x->Hex()) : value::null();
    e["b"] = y ? value(y->Hex()) : value::null();
    e["status"] = value(status);
    list[i++] = e;
    if (status != "same") differ[d++] = value(EscapePath(path));
  }
  TreeStore& trees = store_.trees();
  auto ta = trees.GetHostTree(*a);
  if (!ta.ok()) return FromStatus(ta.status());
  auto tb = trees.GetHostTree(*b);
  if (!tb.ok()) return FromStatus(tb.status());
  value o = value::object();
  o["a"] = value(*a);
  o["b"] = value(*b);
  o["root_equal"] = value::boolean(!ha->root.IsZero() && ha->root == hb->root);
  o["subtrees"] = list;
  o["differ"] = differ;
  value tree_roots = value::object();
  tree_roots["a"] = HashOrNull(*ta);
  tree_roots["b"] = HashOrNull(*tb);
  o["trees"] = tree_roots;
  o["path"] = value(EscapePath(query->prefix));
  o["paths"] = value::null();
  o["truncated"] = value::boolean(false);
  if (*ta && *tb) {
    auto report =
        ComparePaths(trees, (*ta)->root, (*tb)->root, query->prefix, query->limit, &tree_cache_);
    if (!report.ok()) return FromStatus(report.status());
    value paths = value::array(report->paths.size());
    for (size_t k = 0; k < report->paths.size(); ++k) {
      const PathDiff& pd = report->paths[k];
      value x = value::object();
      x["path"] = value(EscapePath(pd.path));
      x["status"] = value(!pd.a ? "only_b" : !pd.b ? "only_a" : "differ");
      x["a"] = EntryJson(pd.a);
      x["b"] = EntryJson(pd.b);
      value changed = value::array();
      size_t n = 0;
      for (std::string_view attr : AttrNames(pd.changed)) changed[n++] = value(std::string(attr));
      x["changed"] = changed;
      paths[k] = x;
    }
    o["paths"] = paths;
    o["truncated"] = value::boolean(report->truncated);
  }
  return Json(200, o);
}

HttpResponse Api::FleetOutliers(const HttpRequest& req) {
  const std::string* group = QueryParam(req, "group");
  if (group == nullptr || group->empty()) return Error(400, "group: missing");
  auto query = ReadPathQuery(req, {"group", "path", "limit"});
  if (!query.ok()) return FromStatus(query.status());
  auto hosts = store_.ListHosts();
  if (!hosts.ok()) return FromStatus(hosts.status());
  std::vector<std::string> members;
  for (const HostRecord& h : *hosts) {
    if (h.group == *group) members.push_back(h.id);
  }
  if (members.empty()) return Error(404, "no host is enrolled in group '" + *group + "'");
  auto trees = store_.trees().GroupTrees(*group);
  if (!trees.ok()) return FromStatus(trees.status());
  std::set<std::string> with_tree;
  for (const HostTree& t : *trees) with_tree.insert(t.host_id);
  value without = value::array();
  size_t w = 0;
  std::sort(members.begin(), members.end());
  for (const std::string& id : members) {
    if (with_tree.count(id) == 0) without[w++] = value(id);
  }
  auto report = FindOutliers(store_.trees(), *trees, query->prefix, query->limit, &tree_cache_);
  if (!report.ok()) return FromStatus(report.status());
  value paths = value::array(report->paths.size());
  for (size_t k = 0; k < report->paths.size(); ++k) {
    const OutlierPath& op = report->paths[k];
    value x = value::object();
    x["path"] = value(EscapePath(op.path));
    x["majority"] = EntryJson(op.majority);
    x["holders"] = value::number(op.holders);
    value outliers = value::array(op.outliers.size());
    for (size_t j = 0; j < op.outliers.size(); ++j) {
      value y = value::object();
      y["host"] = value(op.outliers[j].host_id);
      y["entry"] = EntryJson(op.outliers[j].entry);
      outliers[j] = y;
    }
    x["outliers"] = outliers;
    paths[k] = x;
  }
  value o = value::object();
  o["group"] = value(*group);
  o["path"] = value(EscapePath(query->prefix));
  o["hosts"] = value::number(static_cast<int64_t>(trees->size()));
  o["without_tree"] = without;
  o["differing_hosts"] = value::number(static_cast<int64_t>(report->differing_hosts.size()));
  o["paths"] = paths;
  o["ignored"] = value::number(report->ignored);
  o["truncated"] = value::boolean(report->truncated);
  return Json(200, o);
}

HttpResponse Api::GroupBaselines(const std::string& group) {
  auto list = store_.trees().ListGroupBaselines(group);
  if (!list.ok()) return FromStatus(list.status());
  value items = value::array(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    value x = GroupBaselineJson((*list)[i]);
    x.erase("group");
    items[i] = x;
  }
  value o = value::object();
  o["group"] = value(group);
  o["baselines"] = items;
  return Json(200, o);
}

HttpResponse Api::PostGroupBaseline(const CollectorConfig& config, const Caller& c,
                                    const std::string& group, const HttpRequest& req) {
  auto body = ParseObject(req.body, config.max_json_depth, false);
  if (!body.ok()) return FromStatus(body.status());
  GroupBaselineRequest r;
  r.group = group;
  Status err = GetString(*body, "from_host", "", false, &r.from_host);
  if (err.ok()) err = GetBool(*body, "from_majority", "", false, &r.from_majority);
  if (err.ok()) err = GetString(*body, "by", "", false, &r.by);
  if (err.ok()) err = GetString(*body, "why", "", false, &r.why);
  if (!err.ok()) return FromStatus(err);
  if (r.by.empty()) r.by = TokenId(c.token_sha256);
  auto made = MakeGroupBaseline(store_, r, now_ns_());
  if (!made.ok()) return FromStatus(made.status());
  return Json(201, GroupBaselineJson(*made));
}

}  // namespace driftwatch::collector
