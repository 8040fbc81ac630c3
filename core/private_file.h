// Files that hold a secret (the agent store, token files, the collector's
// database) are private: group and others have no access to them or to their
// directory. One mode check and one way of writing a mode, shared by every
// place that refuses a file open to other users.
//
// Thread-safety: pure functions.
#ifndef DRIFTWATCH_CORE_PRIVATE_FILE_H_
#define DRIFTWATCH_CORE_PRIVATE_FILE_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <string_view>

#include "core/status.h"

namespace driftwatch {

// Whether `mode` gives group or others any access (a bit of 077).
bool OpenToOthers(mode_t mode);

// The permission bits of `mode` as chmod takes them: "0644".
std::string OctalMode(mode_t mode);

// What kind of file `mode` is, for messages: "a directory", "a FIFO", "a
// socket", "a character device", "a block device", "a symlink", "a regular
// file".
const char* FileTypeName(mode_t mode);

// Ok when `st` (the status of `path`) is private; else kPermissionDenied
// "PATH: mode 0644 lets other users read WHAT; refusing to VERB it. Fix:
// chmod 600 PATH" (chmod 700 for a directory). The message names the file
// and its mode, never its contents.
Status CheckPrivate(const struct stat& st, const std::string& path, std::string_view what,
                    std::string_view verb);

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_PRIVATE_FILE_H_
