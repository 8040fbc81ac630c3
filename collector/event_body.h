// How both fleet stores keep an event's wire JSON (docs/collector.md, "Event
// bodies"): most bodies are short JSON objects with the same keys and
// values, so they are compressed with zstd against a dictionary of such
// bodies built into driftwatch, and kept as text ("z1:" and the base64 of
// the frame) in the same column as plain JSON bodies, which stay readable.
//
// The dictionary of "z1" never changes: a body packed once is read with it
// for as long as it is kept. A better dictionary is a new prefix.
//
// Thread-safety: pure functions (the dictionaries are built once).
#ifndef DRIFTWATCH_COLLECTOR_EVENT_BODY_H_
#define DRIFTWATCH_COLLECTOR_EVENT_BODY_H_

#include <string>
#include <string_view>

#include "core/status.h"

namespace driftwatch::collector {

// The stored form of an event's wire JSON: packed when that is shorter,
// else the JSON itself.
std::string PackEventBody(std::string_view json);

// The wire JSON of a stored body: a plain JSON body as it is, a packed one
// unpacked. kCorruption for a packed body that does not decode.
Result<std::string> UnpackEventBody(std::string_view stored);

// The wire JSON of a stored body for readers that show what is there: a
// body that does not unpack is returned as stored, so that its parse fails
// where a damaged JSON body's would, and the event chain sees the change.
std::string StoredEventJson(std::string_view stored);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_EVENT_BODY_H_
