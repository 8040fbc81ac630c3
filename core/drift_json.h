// JSON codec of the wire format: CheckResult and DriftEvent as agents print
// them (`driftwatch check --format json`) and report them to a collector.
// The format is specified in docs/wire.md; keep the two in step.
//
// Encoding never fails. Decoding is strict about types: a field of the wrong
// type, an unknown enum name, a bad hash or timestamp is kInvalidArgument
// naming the field, e.g. "events[3].kind: expected one of added, modified,
// ...". Unknown fields are ignored so that newer agents can add fields.
// Decoding does no recursion beyond the fixed shape of the format; callers
// that accept untrusted bytes must cap body size and nesting depth before
// parsing (see JsonDepthWithin).
//
// Thread-safety: pure functions.
#ifndef DRIFTWATCH_CORE_DRIFT_JSON_H_
#define DRIFTWATCH_CORE_DRIFT_JSON_H_

#include <cpprest/json.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/drift.h"
#include "core/entry.h"
#include "core/status.h"

namespace driftwatch {

// {"type": "file", "perm": "0644", ...}: only the attributes in e.mask.
web::json::value EntryAttributesToJson(const Entry& e);
// The inverse; `field` names the object in error messages ("events[2].old").
// The decoded mask is the set of attributes present.
Result<Entry> EntryAttributesFromJson(const web::json::value& v, const std::string& field);

// The process behind a change (docs/wire.md "actor"): pid always, the other
// members only when known (no empty strings, no -1 ids, "exited" only when
// true); strings in the escaped form of EscapePath. The decoder refuses
// exe, parent_exe and cgroup over 4096 bytes, cmdline over kMaxActorCmdline
// and comm, login and container over 256 (raw bytes), naming the field.
web::json::value ActorToJson(const Actor& a);
Result<Actor> ActorFromJson(const web::json::value& v, const std::string& field);

web::json::value DriftEventToJson(const DriftEvent& e);
Result<DriftEvent> DriftEventFromJson(const web::json::value& v, const std::string& field);

// ["a", "b"]: warnings and other lists of text.
web::json::value StringsToJson(const std::vector<std::string>& items);
// One installed package: {"manager", "name", "version", "arch"} (the
// inventory of docs/wire.md), and back (`field` names the object in errors).
web::json::value PackageInfoToJson(const PackageInfo& p);
Result<PackageInfo> PackageInfoFromJson(const web::json::value& v, const std::string& field);
// One running container: {"name", "id", "runtime", "image", "image_digest",
// "drift_known", "events"} (docs/wire.md), and back.
web::json::value ContainerInfoToJson(const ContainerInfo& c);
Result<ContainerInfo> ContainerInfoFromJson(const web::json::value& v, const std::string& field);
// A scan's counts: {"files", "dirs", "others", "files_hashed",
// "bytes_hashed", "duration_ns"}.
web::json::value ScanStatsToJson(const ScanStats& stats);
// Subtree hashes as {"<escaped path>": "<32 hex digits>"}, and back (raw
// paths; `field` names the member in errors).
using Subtrees = std::vector<std::pair<std::string, Hash128>>;
web::json::value SubtreesToJson(const Subtrees& subtrees);
Result<Subtrees> SubtreesFromJson(const web::json::value& v, const std::string& field);

web::json::value CheckResultToJson(const CheckResult& r);
Result<CheckResult> CheckResultFromJson(const web::json::value& v);

// RFC 3339 UTC with nanoseconds: "2026-11-01T08:30:00.000000001Z".
std::string FormatRfc3339Nanos(int64_t unix_ns);
// That time as a JSON string, or null for 0 (a time not known or not set).
web::json::value TimeOrNull(int64_t unix_ns);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" (fraction up to
// 9 digits) and returns nanoseconds since the epoch.
Result<int64_t> ParseRfc3339(std::string_view text);

// True when the JSON text nests objects/arrays at most max_depth deep and
// holds at most max_values values (counted as its commas and its objects and
// arrays: a parsed value costs tens of bytes, so a body of tiny values costs
// many times its size once parsed). Linear scan without recursion; meant to
// run before web::json parsing of untrusted input.
bool JsonDepthWithin(std::string_view text, int max_depth, size_t max_values = SIZE_MAX);

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_DRIFT_JSON_H_
