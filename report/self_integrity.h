// The agent's own integrity (docs/integrity.md, "The agent's chain"): the
// digests of what runs — its executable, its rules, its configuration —
// that every check report carries ("self", docs/wire.md "Integrity"), and
// the chain records the store keeps when they change.
//
// Thread-safety: functions that borrow what they are given.
#ifndef DRIFTWATCH_REPORT_SELF_INTEGRITY_H_
#define DRIFTWATCH_REPORT_SELF_INTEGRITY_H_

#include <string>

#include "agent/store.h"
#include "core/chain.h"
#include "core/drift.h"
#include "core/host.h"
#include "core/status.h"

namespace driftwatch::report {

// The largest executable, rule or configuration file digested.
inline constexpr size_t kMaxSelfFileBytes = size_t{512} << 20;

// SHA-256 (hex) of the running executable (/proc/self/exe); "" when it
// cannot be read. Reads the whole file: callers keep the answer for the
// life of the process.
std::string ExeDigest(Host& host);

// SHA-256 (hex) of a file's bytes; "" when path is "" or the file does not
// exist. Other read errors are returned, naming the path.
Result<std::string> FileDigest(Host& host, const std::string& path);

// What a report's "self" holds: exe_digest as given, the digests of the
// rule file and of the configuration file ("" for none), the version.
Result<chain::SelfDigests> SelfDigestsOf(Host& host, const std::string& exe_digest,
                                         const std::string& rules_path,
                                         const std::string& config_path);

// Appends the records that say what runs (store_chain.h has their bodies):
// `agent-start` when `start` (the daemon starting) or when exe or version
// differ from the latest agent-start record; `rules` (with the rule set's
// fingerprint, "" when the rules do not parse) and `config` when their
// file's digest
// differs from the latest record of that kind for that path. A missing
// configuration file writes no record.
Status RecordSelf(Host& host, agent::Store& store, const chain::SelfDigests& self,
                  const std::string& rules_path, const std::string& config_path, bool start);

// Opens the agent store at db_path, RecordSelf's there, and sets
// result->self (result may be null: the daemon starting). Rules and
// configuration paths as the caller uses them ("" rules: the default rule
// file, agent::DefaultRulesPath()).
Status StampSelf(Host& host, const std::string& db_path, const std::string& exe_digest,
                 const std::string& rules_path, const std::string& config_path, bool start,
                 CheckResult* result);

// Appends the `enroll` record of an enrollment just saved to the agent
// store at db_path, with the id of the collector's key pinned at enrollment
// ("" for none).
Status RecordEnroll(Host& host, const std::string& db_path, const std::string& collector,
                    const std::string& host_id, const std::string& group);

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_REPORT_SELF_INTEGRITY_H_
