// Which keys the agent trusts for signed baselines and commands
// (docs/integrity.md, "Signed baselines"), and the check's signature gate.
//
// Trusted are the PEM public key files of `trusted_keys` (agent.yaml) and
// the collector's key pinned at enrollment, kept in the agent store's
// report_state as key "collector_signing_key" (its PEM). Pinning is trust
// on first use: a later key is pinned only by a new enrollment (the
// re-pin procedure of docs/operations.md).
//
// Thread-safety: each call opens its own database handle.
#ifndef DRIFTWATCH_REPORT_SIGNING_TRUST_H_
#define DRIFTWATCH_REPORT_SIGNING_TRUST_H_

#include <optional>
#include <string>
#include <vector>

#include "core/host.h"
#include "core/sign.h"
#include "core/status.h"
#include "report/agent_config.h"

namespace driftwatch::report {

// The pinned collector key; nullopt when none is (or no store exists yet).
Result<std::optional<sign::PublicKey>> LoadPinnedKey(const std::string& db_path);
// Pins `key` (replacing an earlier one).
Status SavePinnedKey(const std::string& db_path, const sign::PublicKey& key);

// The keys of `key_files` then the pinned key, when there is one.
Result<std::vector<sign::PublicKey>> TrustedKeys(Host& host,
                                                 const std::vector<std::string>& key_files,
                                                 const std::string& db_path);

// The gate of `check` and the daemon's checks: Ok when
// config.require_signed_baselines is off, else agent::RequireSignedBaseline
// of `baseline` in the store at db_path with TrustedKeys. A key file that
// cannot be read is an error too (kInvalidArgument naming it).
Status SignatureGate(Host& host, const DaemonConfig& config, const std::string& db_path,
                     const std::string& baseline);

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_REPORT_SIGNING_TRUST_H_
