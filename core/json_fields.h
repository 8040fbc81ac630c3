// Field readers shared by core's JSON codecs (drift_json.cc,
// check_result_json.cc) and the collector's request bodies: each looks up
// one member of a JSON object, checks its type and names the field
// ("events[3].old.size: expected a string") in its error.
// A missing or null member leaves *out as it was unless `required`.
//
// Thread-safety: pure functions.
#ifndef DRIFTWATCH_CORE_JSON_FIELDS_H_
#define DRIFTWATCH_CORE_JSON_FIELDS_H_

#include <cpprest/json.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/hash.h"
#include "core/status.h"

namespace driftwatch::json_fields {

// "prefix.key", or "key" when prefix is empty.
std::string Join(const std::string& prefix, std::string_view key);
Status TypeError(const std::string& field, std::string_view expected);
// The member `key` of an object; nullptr when absent or JSON null.
const web::json::value* Find(const web::json::value& obj, const char* key);

Status GetString(const web::json::value& obj, const char* key, const std::string& prefix,
                 bool required, std::string* out);
Status GetUint64(const web::json::value& obj, const char* key, const std::string& prefix,
                 bool required, uint64_t* out);
Status GetInt64(const web::json::value& obj, const char* key, const std::string& prefix,
                bool required, int64_t* out);
// Optional; at most 2^32-1.
Status GetUint32(const web::json::value& obj, const char* key, const std::string& prefix,
                 uint32_t* out);
// Optional; 32 hex digits.
Status GetHash(const web::json::value& obj, const char* key, const std::string& prefix,
               Hash128* out);
// Required; RFC 3339 (ParseRfc3339), as nanoseconds since the epoch.
Status GetTime(const web::json::value& obj, const char* key, const std::string& prefix,
               int64_t* out);
// A path in the wire's escaped form (UnescapePath), returned raw.
Status GetPath(const web::json::value& obj, const char* key, const std::string& prefix,
               bool required, std::string* out);
Status GetBool(const web::json::value& obj, const char* key, const std::string& prefix,
               bool required, bool* out);
// Optional; RFC 3339 (ParseRfc3339) as nanoseconds since the epoch. An empty
// string counts as absent, as in GetHash.
Status GetOptionalTime(const web::json::value& obj, const char* key, const std::string& prefix,
                       int64_t* out);
// Optional; an array of strings (replaces *out when present).
Status GetStringList(const web::json::value& obj, const char* key, const std::string& prefix,
                     std::vector<std::string>* out);
// Optional; an integer in [INT32_MIN, INT32_MAX].
Status GetInt32(const web::json::value& obj, const char* key, const std::string& prefix,
                int32_t* out);

}  // namespace driftwatch::json_fields

#endif  // DRIFTWATCH_CORE_JSON_FIELDS_H_
