#include "collector/fleet_containers.h"

#include <algorithm>
#include <system_error>

#include "core/drift_json.h"

namespace driftwatch::collector {

using web::json::value;

namespace {

constexpr std::string_view kPrefix = "container:";

value StringOrNull(const std::string& s) { return s.empty() ? value::null() : value(s); }

std::string LabelValue(const std::vector<std::pair<std::string, std::string>>& labels,
                       std::string_view key) {
  for (const auto& [k, v] : labels) {
    if (k == key) return v;
  }
  return "";
}

}  // namespace

std::string LabelsToJson(const std::vector<std::pair<std::string, std::string>>& labels) {
  value o = value::object();
  for (const auto& [k, v] : labels) o[k] = value::string(v);
  return o.serialize();
}

std::vector<std::pair<std::string, std::string>> LabelsFromJson(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::error_code ec;
  const value o = value::parse(text, ec);
  // Written by the store only; unreadable text carries no labels.
  if (ec || !o.is_object()) return out;
  for (const auto& [k, v] : o.as_object()) {
    if (v.is_string()) out.emplace_back(k, v.as_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

KubernetesIdentity KubernetesOf(const std::vector<std::pair<std::string, std::string>>& labels) {
  return {LabelValue(labels, kK8sNamespaceLabel), LabelValue(labels, kK8sPodLabel),
          LabelValue(labels, kK8sContainerLabel)};
}

FleetContainer MakeFleetContainer(std::string host_id, int64_t pos, ContainerInfo info) {
  FleetContainer c;
  KubernetesIdentity k = KubernetesOf(info.labels);
  c.host_id = std::move(host_id);
  c.pos = pos;
  c.info = std::move(info);
  c.k8s_namespace = std::move(k.k8s_namespace);
  c.k8s_pod = std::move(k.pod);
  c.k8s_container = std::move(k.container);
  return c;
}

value FleetContainerJson(const FleetContainer& c) {
  value x = ContainerInfoToJson(c.info);
  x["host"] = value(c.host_id);
  x["drifted"] = value::boolean(c.info.events > 0);
  x["namespace"] = StringOrNull(c.k8s_namespace);
  x["pod"] = StringOrNull(c.k8s_pod);
  x["pod_container"] = StringOrNull(c.k8s_container);
  return x;
}

value ContainerRefJson(const ContainerInfo& c) {
  const KubernetesIdentity k = KubernetesOf(c.labels);
  value x = value::object();
  x["runtime"] = value(c.runtime);
  x["name"] = value(c.name);
  x["id"] = value(c.id);
  x["image"] = value(c.image);
  x["image_digest"] = value(c.image_digest);
  x["namespace"] = StringOrNull(k.k8s_namespace);
  x["pod"] = StringOrNull(k.pod);
  return x;
}

std::string_view ContainerLabelOf(std::string_view event_path) {
  if (event_path.substr(0, kPrefix.size()) != kPrefix) return {};
  const size_t sep = event_path.find(":/", kPrefix.size());
  if (sep == std::string_view::npos || sep == kPrefix.size()) return {};
  return event_path.substr(kPrefix.size(), sep - kPrefix.size());
}

ContainerIndex::ContainerIndex(const std::vector<ContainerInfo>& containers)
    : containers_(containers) {
  // Labels as `check` makes them first, so that a docker container named
  // "web" never takes the label "web" of this launcher's container "web".
  for (size_t i = 0; i < containers_.size(); ++i) {
    const ContainerInfo& c = containers_[i];
    const std::string own = c.runtime + ":";
    std::string label;
    if (c.runtime == "driftwatch" || c.name.rfind(own, 0) == 0) {
      label = c.name;
    } else {
      label = own + c.name;
    }
    if (!label.empty()) by_label_.emplace(std::move(label), i);
  }
  for (size_t i = 0; i < containers_.size(); ++i) {
    const ContainerInfo& c = containers_[i];
    if (!c.name.empty()) by_label_.emplace(c.name, i);
    if (!c.id.empty()) by_label_.emplace(c.runtime + ":" + c.id.substr(0, 12), i);
  }
}

const ContainerInfo* ContainerIndex::Find(std::string_view event_path) const {
  const std::string_view label = ContainerLabelOf(event_path);
  if (label.empty()) return nullptr;
  const auto it = by_label_.find(label);
  return it == by_label_.end() ? nullptr : &containers_[it->second];
}

}  // namespace driftwatch::collector
