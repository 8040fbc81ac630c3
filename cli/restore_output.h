// How `driftwatch restore`, `container restore` and `history` print a
// restore's actions (text and JSON). Defined in cli/restore_cmd.cc.
#ifndef DRIFTWATCH_CLI_RESTORE_OUTPUT_H_
#define DRIFTWATCH_CLI_RESTORE_OUTPUT_H_

#include <cpprest/json.h>

#include <string>
#include <vector>

#include "agent/restore.h"
#include "agent/store.h"

namespace driftwatch::cli {

// "write     /etc/app.conf: write 12 bytes from baseline default revision 1".
std::string FormatRestoreAction(const agent::RestoreAction& a);
// [{"path", "action", "detail", "ok"}], paths escaped (EscapePath).
web::json::value RestoreActionsToJson(const std::vector<agent::RestoreAction>& actions);
// Prints the result (one line per action and a summary, or one JSON
// object); returns the exit code: 0 when nothing was refused or failed, else 1.
int PrintRestore(const agent::RestoreResult& r, bool dry_run, bool json);

// A restore in `history`: "TIME  restore by AUTHOR from baseline B
// revision R: REASON" and its actions indented below, each line ending in
// a newline; in JSON {"kind": "restore", "time", "author", "reason",
// "baseline", "revision", "refused", "actions"}.
std::string FormatRestoreEntry(const agent::RestoreRow& r);
web::json::value RestoreEntryToJson(const agent::RestoreRow& r);

}  // namespace driftwatch::cli

#endif  // DRIFTWATCH_CLI_RESTORE_OUTPUT_H_
