// The reports an agent keeps in its outbox, read from its database beside
// whatever else uses it (a running daemon, the test's own delivery calls).
// For test binaries that link the agent's reporting code (report_dep).
#ifndef DRIFTWATCH_TESTS_COLLECTOR_AGENT_OUTBOX_H_
#define DRIFTWATCH_TESTS_COLLECTOR_AGENT_OUTBOX_H_

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "report/outbox.h"

namespace driftwatch::collector_it {

// Oldest first; a test failure (and nothing) when the outbox cannot be read.
inline std::vector<report::QueuedReport> PendingReports(const std::string& agent_db) {
  auto outbox = report::Outbox::Open(agent_db);
  if (!outbox.ok()) {
    ADD_FAILURE() << agent_db << ": " << outbox.status().message();
    return {};
  }
  auto pending = (*outbox)->Pending(100);
  if (!pending.ok()) {
    ADD_FAILURE() << agent_db << ": " << pending.status().message();
    return {};
  }
  return *pending;
}

}  // namespace driftwatch::collector_it

#endif  // DRIFTWATCH_TESTS_COLLECTOR_AGENT_OUTBOX_H_
