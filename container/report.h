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

std::string DiscoveredText(const std::vector<DiscoveredContainer>& found);
web::json::value DiscoveredJson(const std::vector<DiscoveredContainer>& found);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_REPORT_H_
