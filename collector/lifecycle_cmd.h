// The collector's fleet lifecycle commands (docs/operations.md "Fleet
// lifecycle"): token list / revoke, host list / remove / rename. Each
// command is a Run* function of the parsed STORE flags (cli.h) and its
// operands.
//
// Output goes to stdout (a table, or JSON with --format json), errors to
// stderr; exit status cli::kExitOk or cli::kExitError. No secret is ever
// printed: tokens are shown by their public id (auth.h TokenId).
//
// Thread-safety: called from main's thread before any other starts.
#ifndef DRIFTWATCH_COLLECTOR_LIFECYCLE_CMD_H_
#define DRIFTWATCH_COLLECTOR_LIFECYCLE_CMD_H_

#include <string>

#include "collector/cli.h"
#include "core/host.h"

namespace driftwatch::collector::cli {

// Adds `token list`, `token revoke ID` (under the `token` command, which
// must exist) and `host list|remove ID|rename ID NEW` to the program.
void AddLifecycleCommands(CLI::App& root, Host& host);

// Writes a token's secret and a newline to a new file `path` of mode 0600,
// created with O_EXCL (synced before it returns): an existing `path`, even
// one made a moment before, is kAlreadyExists and left alone. Missing
// directories are created 0700; a directory group or others may enter is
// kPermissionDenied, naming the fix (chmod 700). The secret never appears in
// a message.
Status WriteTokenFile(Host& host, const std::string& path, const std::string& token);

// `flags` hold the STORE flags (db, store, store-pool, config) and, for the
// lists, `format` ("table" when absent).
int RunTokenList(Host& host, const Flags& flags);
int RunTokenRevoke(Host& host, const Flags& flags, const std::string& id);
int RunHostList(Host& host, const Flags& flags);
int RunHostRemove(Host& host, const Flags& flags, const std::string& id);
int RunHostRename(Host& host, const Flags& flags, const std::string& id, const std::string& name);

}  // namespace driftwatch::collector::cli

#endif  // DRIFTWATCH_COLLECTOR_LIFECYCLE_CMD_H_
