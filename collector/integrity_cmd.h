// The collector's integrity commands (docs/integrity.md "At the
// collector"): `host trust-reset HOST --reason TEXT`, audited, and
// `verify [--host H] [--heads FILE]`, which recomputes the collector's own
// per-host event chains.
//
// Thread-safety: called from main's thread before any other starts.
#ifndef DRIFTWATCH_COLLECTOR_INTEGRITY_CMD_H_
#define DRIFTWATCH_COLLECTOR_INTEGRITY_CMD_H_

#include <map>
#include <string>

#include "collector/cli.h"
#include "core/host.h"

namespace driftwatch::collector::cli {

// Adds `host trust-reset` (under the `host` group, which must exist) and
// `verify` to the program.
void AddIntegrityCommands(CLI::App& root, Host& host);

// Trusts the host's next chain (TrustReset) and writes an audit line
// (event trust_reset) to the configured log file, else stderr.
int RunTrustReset(Host& host, const Flags& flags, const std::string& id);
// Exit 0 when every chain fits, 1 with one line per finding, 2 when the
// store or the heads file cannot be read.
int RunVerify(Host& host, const Flags& flags);

// The heads file: what GET /hosts/{host}/chain answered (one object, an
// array of them, or {"hosts": [...]}): host -> event chain length and head.
Result<std::map<std::string, ExportedHead>> ParseHeadsFile(const std::string& text);

}  // namespace driftwatch::collector::cli

#endif  // DRIFTWATCH_COLLECTOR_INTEGRITY_CMD_H_
