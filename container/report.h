// Text and JSON renderings of container listings and diffs, shared by the
// `container` and `containers` commands (formats in docs/containers.md).
//
// Thread-safety: pure functions.
#ifndef DRIFTWATCH_CONTAINER_REPORT_H_
#define DRIFTWATCH_CONTAINER_REPORT_H_

#include <cpprest/json.h>

#include <string>
#include <vector>

#include "container/discovery.h"
#include "container/state.h"
#include "core/drift.h"

namespace driftwatch::container {

// One line per event: "A /path", "C /path perm,hash xxh128:...", "D /path";
// regular files of A and C lines carry their new content hash.
std::string DiffText(const std::vector<DriftEvent>& events);
web::json::value DiffJson(const ContainerRecord& r, const std::vector<DriftEvent>& events);

struct PsRow {
  ContainerRecord record;
  bool drift_known = false;
  DriftSummary drift;
};
std::string PsText(const std::vector<PsRow>& rows);
web::json::value PsJson(const std::vector<PsRow>& rows);

// `driftwatch containers` (docs/containers.md "Other runtimes"): rows[i] is
// found[i] as reports carry it (ContainerInfoOf, with the image tree).
// Text: RUNTIME NAME IMAGE DIGEST DRIFT NOTE. JSON: every ContainerInfo field
// as the wire has it, with "events" the container's drift events (paths
// inside the container) instead of their count, plus pid, root_fstype,
// lower/upper layers, drifted and drift (counts by kind).
std::string DiscoveredText(const std::vector<DiscoveredContainer>& found,
                           const std::vector<ContainerInfo>& rows);
web::json::value DiscoveredJson(const std::vector<DiscoveredContainer>& found,
                                const std::vector<ContainerInfo>& rows);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_REPORT_H_
