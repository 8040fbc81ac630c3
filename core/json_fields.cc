#include "core/json_fields.h"

#include "core/drift_json.h"
#include "core/entry.h"

namespace driftwatch::json_fields {

using web::json::value;

std::string Join(const std::string& prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
}

Status TypeError(const std::string& field, std::string_view expected) {
  return Status::InvalidArgument(field + ": expected " + std::string(expected));
}

const value* Find(const value& obj, const char* key) {
  const auto& o = obj.as_object();
  auto it = o.find(key);
  if (it == o.end() || it->second.is_null()) return nullptr;
  return &it->second;
}

Status GetString(const value& obj, const char* key, const std::string& prefix, bool required,
                 std::string* out) {
  const value* v = Find(obj, key);
  if (v == nullptr) {
    return required ? Status::InvalidArgument(Join(prefix, key) + ": missing") : Status::Ok();
  }
  if (!v->is_string()) return TypeError(Join(prefix, key), "a string");
  *out = v->as_string();
  return Status::Ok();
}

Status GetUint64(const value& obj, const char* key, const std::string& prefix, bool required,
                 uint64_t* out) {
  const value* v = Find(obj, key);
  if (v == nullptr) {
    return required ? Status::InvalidArgument(Join(prefix, key) + ": missing") : Status::Ok();
  }
  if (!v->is_number() || !v->as_number().is_uint64()) {
    return TypeError(Join(prefix, key), "a non-negative integer");
  }
  *out = v->as_number().to_uint64();
  return Status::Ok();
}

Status GetInt64(const value& obj, const char* key, const std::string& prefix, bool required,
                int64_t* out) {
  const value* v = Find(obj, key);
  if (v == nullptr) {
    return required ? Status::InvalidArgument(Join(prefix, key) + ": missing") : Status::Ok();
  }
  if (!v->is_number() || !v->as_number().is_int64()) {
    return TypeError(Join(prefix, key), "an integer");
  }
  *out = v->as_number().to_int64();
  return Status::Ok();
}

Status GetUint32(const value& obj, const char* key, const std::string& prefix, uint32_t* out) {
  uint64_t v = *out;
  DW_RETURN_IF_ERROR(GetUint64(obj, key, prefix, false, &v));
  if (v > UINT32_MAX) return TypeError(Join(prefix, key), "an integer below 2^32");
  *out = static_cast<uint32_t>(v);
  return Status::Ok();
}

Status GetHash(const value& obj, const char* key, const std::string& prefix, Hash128* out) {
  std::string hex;
  DW_RETURN_IF_ERROR(GetString(obj, key, prefix, false, &hex));
  if (hex.empty()) return Status::Ok();
  auto h = Hash128::FromHex(hex);
  if (!h.ok()) return TypeError(Join(prefix, key), "32 hex digits");
  *out = *h;
  return Status::Ok();
}

Status GetTime(const value& obj, const char* key, const std::string& prefix, int64_t* out) {
  std::string text;
  DW_RETURN_IF_ERROR(GetString(obj, key, prefix, true, &text));
  auto t = ParseRfc3339(text);
  if (!t.ok()) return Status::InvalidArgument(Join(prefix, key) + ": " + t.status().message());
  *out = *t;
  return Status::Ok();
}

Status GetPath(const value& obj, const char* key, const std::string& prefix, bool required,
               std::string* out) {
  std::string escaped;
  DW_RETURN_IF_ERROR(GetString(obj, key, prefix, required, &escaped));
  auto raw = UnescapePath(escaped);
  if (!raw.ok()) return Status::InvalidArgument(Join(prefix, key) + ": " + raw.status().message());
  *out = std::move(raw).value();
  return Status::Ok();
}

Status GetBool(const value& obj, const char* key, const std::string& prefix, bool required,
               bool* out) {
  const value* v = Find(obj, key);
  if (v == nullptr) {
    return required ? Status::InvalidArgument(Join(prefix, key) + ": missing") : Status::Ok();
  }
  if (!v->is_boolean()) return TypeError(Join(prefix, key), "a boolean");
  *out = v->as_bool();
  return Status::Ok();
}

Status GetOptionalTime(const value& obj, const char* key, const std::string& prefix, int64_t* out) {
  std::string text;
  DW_RETURN_IF_ERROR(GetString(obj, key, prefix, false, &text));
  if (text.empty()) return Status::Ok();
  auto t = ParseRfc3339(text);
  if (!t.ok()) return Status::InvalidArgument(Join(prefix, key) + ": " + t.status().message());
  *out = *t;
  return Status::Ok();
}

Status GetStringList(const value& obj, const char* key, const std::string& prefix,
                     std::vector<std::string>* out) {
  const value* v = Find(obj, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_array()) return TypeError(Join(prefix, key), "an array of strings");
  std::vector<std::string> list;
  for (const value& s : v->as_array()) {
    if (!s.is_string()) return TypeError(Join(prefix, key), "an array of strings");
    list.push_back(s.as_string());
  }
  *out = std::move(list);
  return Status::Ok();
}

Status GetInt32(const value& obj, const char* key, const std::string& prefix, int32_t* out) {
  int64_t v = *out;
  DW_RETURN_IF_ERROR(GetInt64(obj, key, prefix, false, &v));
  if (v < INT32_MIN || v > INT32_MAX) return TypeError(Join(prefix, key), "a 32-bit integer");
  *out = static_cast<int32_t>(v);
  return Status::Ok();
}

}  // namespace driftwatch::json_fields
