// The agent store's file on disk: where it may live and who may read it.
//
// The store holds the agent's bearer token (report_state), so the file, its
// -wal and -shm companions (SQLite gives them the database file's mode) and
// the directory around it are the agent's alone: the file is created 0600
// in a directory created 0700, and an existing file or directory that its
// group or others may read, write or enter is refused with the chmod that
// fixes it. Files are reached through the Host handed in; SQLite then
// opens the checked file itself.
//
// Errors name the reason in words an operator can act on, from the errno
// the kernel gives the Host's own open of the path:
//   "PATH: permission denied: run as root or pass --db FILE"
//   "PATH: read-only file system"
//   "PATH: is a directory"
//   "PATH: not a directory: DIR is a file"
//   "DIR: readable by group or others (mode 0755); the store holds the
//    agent's token: chmod 700 DIR"
//
// Thread-safety: stateless functions; safe from any thread.
#ifndef DRIFTWATCH_AGENT_STORE_FILE_H_
#define DRIFTWATCH_AGENT_STORE_FILE_H_

#include <string>

#include "core/host.h"
#include "core/status.h"

namespace driftwatch::agent {

// Makes `path` ready for SQLite to open read-write: its directory exists
// (created 0700 with its parents when missing) and is private, the file is
// a regular file (created empty, 0600, when missing), it and its -wal and
// -shm are private, and it can be opened for writing. Fails with the
// messages above; nothing is changed on the way to a failure but the
// missing directories made.
Status PrepareStoreFile(Host& host, const std::string& path);

// Checks `path` without creating anything, as PrepareStoreFile does, for a
// store that must already exist (kNotFound "PATH: no agent store here" when
// it does not).
Status CheckStoreFile(Host& host, const std::string& path);

// Replaces SQLite's "unable to open database file" of a failed open of
// `path` with the reason found by looking at the path through `host`;
// returns `failed` unchanged when nothing better is found.
Status ExplainStoreOpenError(Host& host, const std::string& path, const Status& failed);

// The directory that holds `path` ("." for a bare name).
std::string StoreDir(const std::string& path);

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_STORE_FILE_H_
