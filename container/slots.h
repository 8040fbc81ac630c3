// A/B slots: a service runs in one of two containers, "<service>-a" and
// "<service>-b". Deploy starts the passive slot from the new image, runs the
// health command inside it, and only on success makes it active and stops
// the old slot (kept, with its layer, for rollback). On failure the running
// slot is left alone and the error says why (exit code and output of the
// last health check). Rollback starts the previous slot again, checks its
// health the same way, and swaps back. Both slots mount the same volumes, so
// state kept in volumes carries over.
//
// Thread-safety: one deploy or rollback per service at a time.
#ifndef DRIFTWATCH_CONTAINER_SLOTS_H_
#define DRIFTWATCH_CONTAINER_SLOTS_H_

#include <chrono>
#include <string>
#include <vector>

#include "container/state.h"

namespace driftwatch::container {

struct DeployOptions {
  std::string service;
  // The new slot's spec. With no command, everything but the image is the
  // active slot's.
  ContainerSpec spec;
  std::string health;  // run as /bin/sh -c HEALTH inside the slot
  int health_tries = 20;
  std::chrono::milliseconds health_interval{100};
};

struct SlotOutcome {
  std::string active;     // slot now serving
  std::string container;  // its container name
  std::string stopped;    // container stopped by the swap, or ""
};

Result<SlotOutcome> Deploy(const StateDir& state, const DeployOptions& options);
Result<SlotOutcome> Rollback(
    const StateDir& state, const std::string& service, int health_tries = 20,
    std::chrono::milliseconds health_interval = std::chrono::milliseconds(100));

// "<service>-<slot>".
std::string SlotContainer(const std::string& service, const std::string& slot);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_SLOTS_H_
