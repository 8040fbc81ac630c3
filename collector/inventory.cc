#include "collector/inventory.h"

#include <cpprest/json.h>

#include <map>
#include <set>
#include <utility>

namespace driftwatch::collector {

Status AckRefusal(const std::string& host_id, int64_t command_id,
                  const std::optional<CommandState>& row) {
  const std::string name = "command " + std::to_string(command_id);
  if (!row) return Status::NotFound("no " + name + " for host '" + host_id + "'");
  if (row->acked_ns != 0) {
    return Status::FailedPrecondition(name +
                                      " was acknowledged already; an acknowledgement "
                                      "is accepted once");
  }
  if (row->handed_out_ns == 0) {
    return Status::FailedPrecondition(name +
                                      " has not been handed out yet; poll "
                                      "/api/v1/agents/commands first");
  }
  return Status::Internal(name + ": acknowledgement not recorded");
}

std::string PathsToJson(const std::vector<std::string>& paths) {
  web::json::value a = web::json::value::array(paths.size());
  for (size_t i = 0; i < paths.size(); ++i) a[i] = web::json::value(EscapePath(paths[i]));
  return a.serialize();
}

std::string RestoreArgsToJson(const CommandRecord& c) {
  if (c.kind != "restore") return "{}";
  web::json::value o = web::json::value::object();
  o["all"] = web::json::value::boolean(c.all);
  o["remove_added"] = web::json::value::boolean(c.remove_added);
  o["dry_run"] = web::json::value::boolean(c.dry_run);
  o["reason"] = web::json::value(c.reason);
  return o.serialize();
}

void RestoreArgsFromJson(const std::string& text, CommandRecord* c) {
  if (text.empty() || text == "{}") return;
  try {
    const web::json::value o = web::json::value::parse(text);
    if (!o.is_object()) return;
    auto flag = [&o](const char* name) {
      return o.has_boolean_field(name) && o.at(name).as_bool();
    };
    c->all = flag("all");
    c->remove_added = flag("remove_added");
    c->dry_run = flag("dry_run");
    if (o.has_string_field("reason")) c->reason = o.at("reason").as_string();
  } catch (const std::exception&) {
    // Written by the store only; unreadable text carries no options.
  }
}

std::vector<std::string> PathsFromJson(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  try {
    web::json::value a = web::json::value::parse(text);
    if (!a.is_array()) return out;
    for (const web::json::value& p : a.as_array()) {
      if (!p.is_string()) continue;
      auto raw = UnescapePath(p.as_string());
      if (raw.ok()) out.push_back(std::move(raw).value());
    }
  } catch (const std::exception&) {
    // Written by the store only; unreadable text carries no paths.
  }
  return out;
}

std::vector<ImageUsage> AggregateImages(const std::vector<ImageRow>& rows) {
  struct Acc {
    std::set<std::string> hosts, ids, trees;
    std::map<std::string, RuntimeCount> runtimes;
    int64_t containers = 0;
    int64_t drifted = 0;
  };
  std::map<std::pair<std::string, std::string>, Acc> by_image;
  for (const ImageRow& r : rows) {
    Acc& a = by_image[{r.image, r.digest}];
    a.hosts.insert(r.host_id);
    RuntimeCount& rc = a.runtimes[r.runtime];
    rc.runtime = r.runtime;
    ++rc.containers;
    if (r.events > 0) ++rc.drifted;
    if (!r.image_id.empty()) a.ids.insert(r.image_id);
    if (!r.image_tree.empty()) a.trees.insert(r.image_tree);
    ++a.containers;
    if (r.events > 0) ++a.drifted;
  }
  std::vector<ImageUsage> out;
  out.reserve(by_image.size());
  for (auto& [key, a] : by_image) {
    ImageUsage u;
    u.image = key.first;
    u.digest = key.second;
    u.hosts = static_cast<int64_t>(a.hosts.size());
    u.containers = a.containers;
    u.drifted = a.drifted;
    u.host_ids.assign(a.hosts.begin(), a.hosts.end());
    for (auto& [name, rc] : a.runtimes) u.runtimes.push_back(std::move(rc));
    u.image_ids.assign(a.ids.begin(), a.ids.end());
    u.image_trees.assign(a.trees.begin(), a.trees.end());
    out.push_back(std::move(u));
  }
  return out;
}

}  // namespace driftwatch::collector
