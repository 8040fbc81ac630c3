// A report's container row as the inventory tests write them: the fields an
// agent sent before runtime identity, the identity left empty.
#ifndef DRIFTWATCH_TESTS_TESTING_CONTAINER_ROW_H_
#define DRIFTWATCH_TESTS_TESTING_CONTAINER_ROW_H_

#include <cstdint>
#include <string>
#include <utility>

#include "core/drift.h"

namespace driftwatch::testing {

inline ContainerInfo ContainerRow(std::string name, std::string id, std::string runtime,
                                  std::string image, std::string digest, bool known,
                                  int64_t events) {
  ContainerInfo c;
  c.name = std::move(name);
  c.id = std::move(id);
  c.runtime = std::move(runtime);
  c.image = std::move(image);
  c.image_digest = std::move(digest);
  c.drift_known = known;
  c.events = events;
  return c;
}

}  // namespace driftwatch::testing

#endif  // DRIFTWATCH_TESTS_TESTING_CONTAINER_ROW_H_
