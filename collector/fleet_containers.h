// Pure helpers of the collector's fleet view of containers (docs/api.md
// "GET /containers", "GET /kubernetes"): the stored text of a container's
// labels and excluded paths, its Kubernetes identity, the JSON row the API
// serves, and which container of a report a drift event belongs to.
//
// Thread-safety: pure functions; a ContainerIndex is immutable once built.
#ifndef DRIFTWATCH_COLLECTOR_FLEET_CONTAINERS_H_
#define DRIFTWATCH_COLLECTOR_FLEET_CONTAINERS_H_

#include <cpprest/json.h>

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collector/store.h"
#include "core/drift.h"

namespace driftwatch::collector {

// The Kubernetes labels the CRI puts on a pod's containers.
inline constexpr std::string_view kK8sNamespaceLabel = "io.kubernetes.pod.namespace";
inline constexpr std::string_view kK8sPodLabel = "io.kubernetes.pod.name";
inline constexpr std::string_view kK8sContainerLabel = "io.kubernetes.container.name";

// Labels as stored: a JSON object of strings ("{}" for none). The inverse
// reads them back sorted by key; text that is not such an object gives none.
std::string LabelsToJson(const std::vector<std::pair<std::string, std::string>>& labels);
std::vector<std::pair<std::string, std::string>> LabelsFromJson(const std::string& text);

// Namespace, pod and container name from the labels ("" when absent).
struct KubernetesIdentity {
  std::string k8s_namespace;
  std::string pod;
  std::string container;
};
KubernetesIdentity KubernetesOf(const std::vector<std::pair<std::string, std::string>>& labels);

// A FleetContainer with its Kubernetes fields filled from its labels.
FleetContainer MakeFleetContainer(std::string host_id, int64_t pos, ContainerInfo info);

// The row GET /containers serves: the wire form of the container
// (ContainerInfoToJson) plus "host", "drifted", "namespace", "pod" and
// "pod_container" (null when not a Kubernetes container).
web::json::value FleetContainerJson(const FleetContainer& c);

// What a drift event carries about its container (docs/api.md "GET /drift"):
// {runtime, name, id, image, image_digest, namespace, pod}; namespace and
// pod are null when the container has no such label.
web::json::value ContainerRefJson(const ContainerInfo& c);

// The label of an event path "container:LABEL:/path" (split at the first
// ":/" after the prefix); "" for a path of no container.
std::string_view ContainerLabelOf(std::string_view event_path);

// Finds the container of a report that an event path names. A report's
// containers are known under the label `check` gives them in event paths
// (docs/wire.md): this launcher's containers by their name, others by
// "RUNTIME:NAME", whichever form their `name` has; a label also matches a
// name as given, or "RUNTIME:SHORT-ID", when no container has it as its
// own label. The first container wins when two claim the same label.
class ContainerIndex {
 public:
  explicit ContainerIndex(const std::vector<ContainerInfo>& containers);
  // nullptr when the path names no container of the report.
  const ContainerInfo* Find(std::string_view event_path) const;
  bool empty() const { return by_label_.empty(); }

 private:
  std::vector<ContainerInfo> containers_;
  std::map<std::string, size_t, std::less<>> by_label_;
};

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_FLEET_CONTAINERS_H_
