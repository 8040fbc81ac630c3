// Helpers shared by the runtimes' state readers (docker_state.cc,
// containerd_state.cc, podman_state.cc, runtime_state.cc): capped reads of
// the runtimes' files through a Host, JSON parsing of untrusted text, and
// the command lines of running daemons.
//
// The runtimes' files are untrusted input: every read is capped, JSON is
// depth- and size-checked before it is parsed (cpprestsdk parses
// recursively), and parse exceptions become kCorruption naming the file.
//
// Thread-safety: pure functions, or reentrant reads through the given Host.
#ifndef DRIFTWATCH_CONTAINER_RUNTIME_FILES_H_
#define DRIFTWATCH_CONTAINER_RUNTIME_FILES_H_

#include <cpprest/json.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "container/runtime_state.h"
#include "core/bolt.h"
#include "core/host.h"
#include "core/status.h"

namespace driftwatch::container {

// Largest state file read (config.v2.json, containers.json, ...).
inline constexpr size_t kMaxStateFile = 32 << 20;
// Largest bbolt database read into memory (meta.db, bolt_state.db).
inline constexpr size_t kMaxBoltFile = 512 << 20;
// Nesting accepted in a runtime's JSON; real files nest less than 10 deep.
inline constexpr int kMaxStateJsonDepth = 64;

// True when `s` can be one path component built from a runtime's file (a
// layer, cache or snapshot id, a namespace): not empty, ".", "..", and
// without '/' or NUL, so that it never leads out of the runtime's root.
bool SafeComponent(std::string_view s);

// Parses JSON text of the file `what`; bad JSON, nesting deeper than
// kMaxStateJsonDepth or more than 4 million values is kCorruption
// "WHAT: ...".
Result<web::json::value> ParseStateJson(std::string_view text, std::string_view what);

// The member `key` of an object as a string; "" when absent, null or not a
// string (runtimes leave fields out freely).
std::string JsonString(const web::json::value& obj, const char* key);
// The member as an object/array; nullptr when absent or of another type.
const web::json::value* JsonObject(const web::json::value& obj, const char* key);
const web::json::value* JsonArray(const web::json::value& obj, const char* key);
// The member as an integer; `fallback` when absent or not an integer.
int64_t JsonInt(const web::json::value& obj, const char* key, int64_t fallback);
bool JsonBool(const web::json::value& obj, const char* key);
// A JSON object of string values as sorted (key, value) pairs; members
// whose value is not a string are left out.
std::vector<std::pair<std::string, std::string>> JsonStringMap(const web::json::value* obj);

// Reads a whole file of at most `max_bytes` through the host (kNotFound
// when it is absent, as the host says).
Result<std::string> ReadStateFile(Host& host, const std::string& path,
                                  size_t max_bytes = kMaxStateFile);
// Reads and opens a bbolt database (at most kMaxBoltFile bytes). A daemon
// may commit while the file is read; a torn read shows as corruption, so a
// corrupt read is tried once more. Errors name the path.
Result<std::unique_ptr<const bolt::BoltDb>> ReadBoltFile(Host& host, const std::string& path);
// Names in a directory, sorted; kNotFound when it is absent.
Result<std::vector<std::string>> ListDir(Host& host, const std::string& path);
// True when `path` exists (any type, not followed).
bool PathExists(Host& host, const std::string& path);
// True when `path` is a directory (symlinks followed, as the kernel does
// for an overlay lowerdir).
bool IsDirectory(Host& host, const std::string& path);

// `s` without leading and trailing ASCII whitespace.
std::string_view TrimSpace(std::string_view s);
// True when `s` is exactly `len` lowercase hex digits.
bool IsLowerHex(std::string_view s, size_t len);
// "sha256:<64 hex>".
bool IsSha256Digest(std::string_view s);
// Sorts labels by key (a later duplicate key is dropped) and mounts by
// destination (a later duplicate destination is dropped).
void NormalizeContainer(RuntimeContainer* c);
// Appends `more` to a note ("a; b").
void AddNote(std::string* note, std::string_view more);

// The argv of every process under `proc` whose program's base name is one
// of `programs` (from /proc/PID/cmdline; processes that vanish or cannot
// be read are skipped). Sorted by pid.
std::vector<std::vector<std::string>> CommandLinesOf(
    Host& host, const std::string& proc, std::initializer_list<std::string_view> programs);
// Values of a flag in an argv: "--name VALUE" and "--name=VALUE" for each
// of `names` (short names "-g VALUE" too), in order.
std::vector<std::string> FlagValues(const std::vector<std::string>& argv,
                                    std::initializer_list<std::string_view> names);

// Home directories of the users of ETC/passwd other than root (uid 0),
// absolute and not "/", in file order: where rootless runtimes keep their
// state.
std::vector<std::string> UserHomes(Host& host, const std::string& etc);

// Appends `path` to `paths` unless it is already there or empty.
void AddUnique(std::vector<std::string>* paths, std::string path);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_RUNTIME_FILES_H_
