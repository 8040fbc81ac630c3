// `driftwatch store verify`: recomputes the agent store's hash chain and
// holds the tables against it (docs/integrity.md, "The agent's chain").
//
// The chain: every record's seq follows the one before and its head is
// recomputed from the stored head before it; the first record that does not
// fit is named (seq, kind, time, why), and the walk goes on from its stored
// head, so that each changed record is named once. The tables: every
// baseline revision, check and restore has its record and matches it (a
// revision's snapshot root, rules and who/why; a check's events digest and
// roots; a restore's actions digest), every record of one names a row that
// exists, and every tree reachable from a baseline's snapshot hashes to its
// id. Work is one pass over each table; the tree walk is iterative and
// keeps the set of trees seen.
//
// Opens the store read-only: verifying never changes it.
//
// Thread-safety: a pure function of the file.
#ifndef DRIFTWATCH_AGENT_CHAIN_VERIFY_H_
#define DRIFTWATCH_AGENT_CHAIN_VERIFY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/host.h"
#include "core/status.h"

namespace driftwatch::agent {

struct VerifyFinding {
  int64_t seq = 0;   // the chain record it is about; 0 for a row without one
  std::string kind;  // the record's kind, or the table ("baselines", "trees", ...)
  int64_t time_ns = 0;
  std::string what;  // why it does not fit, naming both sides
};

struct StoreVerification {
  int64_t length = 0;  // records in the chain
  std::string head;    // the stored head of the last one (GenesisHead() when none)
  int64_t baselines = 0, checks = 0, restores = 0, trees = 0;  // rows held against it
  std::vector<VerifyFinding> findings;
  bool clean() const { return findings.empty(); }
};

// Verifies the agent store at `path`. Errors only when it cannot be read at
// all (missing, not a store, a schema without a chain: kUnsupported naming
// the fix); everything that does not fit is a finding.
Result<StoreVerification> VerifyStore(Host& host, const std::string& path);

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_CHAIN_VERIFY_H_
