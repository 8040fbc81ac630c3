// Which keys the agent trusts for signed baselines and commands
// (docs/integrity.md, "Signed baselines"), and the check's signature gate.
//
// Trusted are the PEM public key files of `trusted_keys` (agent.yaml) and
// the collector's key pinned at enrollment, kept in the agent store's
// report_state as key "collector_signing_key" (its PEM). Pinning is trust
// on first use: a later key is pinned only by a new enrollment (the
// re-pin procedure of docs/operations.md); the key it replaces is kept as
// retired, trusted for the signatures it made.
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
#include "report/client.h"

namespace driftwatch::report {

// The pinned collector key; nullopt when none is (or no store exists yet).
Result<std::optional<sign::PublicKey>> LoadPinnedKey(const std::string& db_path);
// Pins `key`. An earlier, different pinned key is kept as retired
// ("collector_signing_key_retired_<id>"): still trusted for the baseline
// signatures it made, no longer for commands.
Status SavePinnedKey(const std::string& db_path, const sign::PublicKey& key);
Result<std::vector<sign::PublicKey>> LoadRetiredPinnedKeys(const std::string& db_path);

// The keys of `key_files`, the pinned key and the retired pinned keys.
Result<std::vector<sign::PublicKey>> TrustedKeys(Host& host,
                                                 const std::vector<std::string>& key_files,
                                                 const std::string& db_path);

// The gate of `check` and the daemon's checks: Ok when
// config.require_signed_baselines is off, else agent::RequireSignedBaseline
// of `baseline` in the store at db_path with TrustedKeys. A key file that
// cannot be read is an error too (kInvalidArgument naming it).
Status SignatureGate(Host& host, const DaemonConfig& config, const std::string& db_path,
                     const std::string& baseline);

// Commands from the collector (docs/api.md, "Commands"): with a pinned key,
// a baseline, accept or restore command whose signature is missing or not
// the pinned key's over its canonical text for `host_id` is refused
// (kPermissionDenied, saying why). Without a pinned key, and for other
// kinds, Ok.
Status VerifyCommandSignature(const AgentCommand& command,
                              const std::optional<sign::PublicKey>& pinned,
                              const std::string& host_id);

// Fills the target and rules fingerprint of the revision `ack` names, read
// from the store at db_path, so that the collector can sign its statement.
Status AddStatementFields(Host& host, const std::string& db_path, BaselineAck* ack);

// Attaches the signed statement the collector answered to an ack: verified
// against the trusted keys (trusted_keys and the pinned key) and the
// store's revision, then kept as a baseline-signature chain record.
// Returns the record's description for the log.
Result<std::string> AttachAnsweredSignature(Host& host, const DaemonConfig& config,
                                            const std::string& signed_file);

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_REPORT_SIGNING_TRUST_H_
