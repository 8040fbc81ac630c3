// CollectorClient's tree endpoints (docs/wire.md "Trees"). Kept apart from
// client.cc by noun; the shared exchange is CollectorClient::Impl's.
#include <cpprest/json.h>

#include "core/base64.h"
#include "core/drift.h"
#include "core/drift_json.h"
#include "core/entry.h"
#include "core/json_fields.h"
#include "report/client.h"
#include "report/client_impl.h"

namespace driftwatch::report {
namespace {

using web::json::value;

// A fetch answers up to 4 MiB of object data, base64 on the wire.
constexpr size_t kMaxFetchAnswerBytes = size_t{8} << 20;

value HexArray(const std::vector<Hash128>& ids) {
  value arr = value::array(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) arr[i] = value::string(ids[i].Hex());
  return arr;
}

// The array `key` of 32-hex-digit ids; absent is empty.
Status GetIds(const value& obj, const char* key, const std::string& what,
              std::vector<Hash128>* out) {
  out->clear();
  const value* arr = json_fields::Find(obj, key);
  if (arr == nullptr) return Status::Ok();
  if (!arr->is_array()) return ClientUnexpected(what, json_fields::TypeError(key, "an array"));
  for (const value& v : arr->as_array()) {
    Result<Hash128> h = Status::InvalidArgument("");
    if (v.is_string()) h = Hash128::FromHex(v.as_string());
    if (!h.ok()) {
      return ClientUnexpected(what, json_fields::TypeError(key, "an array of 32 hex digits"));
    }
    out->push_back(*h);
  }
  return Status::Ok();
}

// The "want" of a 409 missing_objects answer; nullopt for any other answer.
std::optional<std::vector<Hash128>> MissingOf(const ClientAnswer& a, const std::string& what) {
  if (a.status != 409) return std::nullopt;
  auto v = ClientObjectOf(a, what);
  if (!v.ok()) return std::nullopt;
  std::string code;
  if (!json_fields::GetString(*v, "error", "", false, &code).ok() || code != "missing_objects") {
    return std::nullopt;
  }
  std::vector<Hash128> want;
  if (!GetIds(*v, "want", what, &want).ok()) return std::nullopt;
  return want;
}

void Count(const std::string& body, int64_t* sent_bytes) {
  if (sent_bytes != nullptr) *sent_bytes += static_cast<int64_t>(body.size());
}

}  // namespace

Result<std::vector<Hash128>> CollectorClient::OfferTrees(const std::vector<Hash128>& ids,
                                                         int64_t* sent_bytes) {
  const std::string what = "offer trees";
  if (ids.empty() || ids.size() > kMaxOfferIds) {
    return Status::InvalidArgument(what + ": " + std::to_string(ids.size()) + " ids (1 to " +
                                   std::to_string(kMaxOfferIds) + " per offer)");
  }
  value b = value::object();
  b["ids"] = HexArray(ids);
  const std::string body = b.serialize();
  Count(body, sent_bytes);
  DW_ASSIGN_OR_RETURN(ClientAnswer a,
                      impl_->Call("POST", "/api/v1/trees/offer", body, impl_->token));
  if (a.status != 200) return ClientStatusFor(a, what, false);
  DW_ASSIGN_OR_RETURN(value v, ClientObjectOf(a, what));
  std::vector<Hash128> want;
  DW_RETURN_IF_ERROR(GetIds(v, "want", what, &want));
  return want;
}

Result<TreeUploadAnswer> CollectorClient::UploadTrees(const std::vector<TreeObjectData>& objects,
                                                      int64_t* sent_bytes) {
  const std::string what = "upload trees";
  if (objects.empty() || objects.size() > kMaxUploadObjects) {
    return Status::InvalidArgument(what + ": " + std::to_string(objects.size()) +
                                   " objects (1 to " + std::to_string(kMaxUploadObjects) +
                                   " per upload)");
  }
  value arr = value::array(objects.size());
  for (size_t i = 0; i < objects.size(); ++i) {
    value o = value::object();
    o["id"] = value::string(objects[i].id.Hex());
    o["data"] = value::string(Base64Encode(objects[i].data));
    arr[i] = std::move(o);
  }
  value b = value::object();
  b["objects"] = std::move(arr);
  const std::string body = b.serialize();
  Count(body, sent_bytes);
  DW_ASSIGN_OR_RETURN(ClientAnswer a,
                      impl_->Call("POST", "/api/v1/trees/objects", body, impl_->token));
  TreeUploadAnswer out;
  if (auto missing = MissingOf(a, what)) {
    out.missing = std::move(*missing);
    return out;
  }
  if (a.status != 200) return ClientStatusFor(a, what, false);
  DW_ASSIGN_OR_RETURN(value v, ClientObjectOf(a, what));
  Status s = json_fields::GetInt64(v, "stored", "", true, &out.stored);
  if (s.ok()) s = json_fields::GetInt64(v, "held", "", true, &out.held);
  if (!s.ok()) return ClientUnexpected(what, s);
  return out;
}

Result<std::vector<Hash128>> CollectorClient::SetHostTree(
    const Hash128& root, const std::vector<std::string>& host_specific, int64_t* sent_bytes) {
  const std::string what = "set tree";
  if (host_specific.size() > kMaxHostSpecificPaths) {
    return Status::InvalidArgument(what + ": " + std::to_string(host_specific.size()) +
                                   " host-specific paths (at most " +
                                   std::to_string(kMaxHostSpecificPaths) + ")");
  }
  value paths = value::array(host_specific.size());
  for (size_t i = 0; i < host_specific.size(); ++i) {
    paths[i] = value::string(EscapePath(host_specific[i]));
  }
  value b = value::object();
  b["root"] = value::string(root.Hex());
  b["host_specific"] = std::move(paths);
  const std::string body = b.serialize();
  Count(body, sent_bytes);
  DW_ASSIGN_OR_RETURN(ClientAnswer a,
                      impl_->Call("POST", "/api/v1/agents/tree", body, impl_->token));
  if (auto missing = MissingOf(a, what)) {
    if (missing->empty()) missing->push_back(root);
    return std::move(*missing);
  }
  if (a.status != 200) return ClientStatusFor(a, what, false);
  return std::vector<Hash128>{};
}

Result<std::optional<GroupBaselineInfo>> CollectorClient::GetGroupBaseline() {
  const std::string what = "group baseline";
  DW_ASSIGN_OR_RETURN(ClientAnswer a,
                      impl_->Call("GET", "/api/v1/agents/group-baseline", "", impl_->token));
  if (a.status == 404) {
    std::string code;
    if (auto v = ClientObjectOf(a, what); v.ok()) {
      json_fields::GetString(*v, "error", "", false, &code).IgnoreError();
    }
    if (code == "no_group_baseline") return std::optional<GroupBaselineInfo>();
  }
  if (a.status != 200) return ClientStatusFor(a, what, false);
  DW_ASSIGN_OR_RETURN(value v, ClientObjectOf(a, what));
  GroupBaselineInfo out;
  std::string root;
  Status s = json_fields::GetString(v, "group", "", true, &out.group);
  if (s.ok()) s = json_fields::GetInt64(v, "revision", "", true, &out.revision);
  if (s.ok()) s = json_fields::GetString(v, "root", "", true, &root);
  if (s.ok()) s = json_fields::GetString(v, "source", "", false, &out.source);
  if (s.ok()) s = json_fields::GetString(v, "by", "", false, &out.by);
  if (s.ok()) s = json_fields::GetString(v, "why", "", false, &out.why);
  if (s.ok()) s = json_fields::GetOptionalTime(v, "created", "", &out.created_ns);
  if (s.ok()) {
    auto h = Hash128::FromHex(root);
    if (h.ok()) {
      out.root = *h;
    } else {
      s = json_fields::TypeError("root", "32 hex digits");
    }
  }
  if (!s.ok()) return ClientUnexpected(what, s);
  return std::optional<GroupBaselineInfo>(std::move(out));
}

Result<TreeFetchAnswer> CollectorClient::FetchTrees(const std::vector<Hash128>& ids) {
  const std::string what = "fetch trees";
  if (ids.empty() || ids.size() > kMaxFetchIds) {
    return Status::InvalidArgument(what + ": " + std::to_string(ids.size()) + " ids (1 to " +
                                   std::to_string(kMaxFetchIds) + " per fetch)");
  }
  value b = value::object();
  b["ids"] = HexArray(ids);
  DW_ASSIGN_OR_RETURN(ClientAnswer a, impl_->Call("POST", "/api/v1/trees/fetch", b.serialize(),
                                                  impl_->token, kMaxFetchAnswerBytes));
  if (a.status != 200) return ClientStatusFor(a, what, false);
  DW_ASSIGN_OR_RETURN(value v, ClientObjectOf(a, what));
  TreeFetchAnswer out;
  DW_RETURN_IF_ERROR(GetIds(v, "missing", what, &out.missing));
  DW_RETURN_IF_ERROR(GetIds(v, "more", what, &out.more));
  const value* objects = json_fields::Find(v, "objects");
  if (objects == nullptr || !objects->is_array()) {
    return ClientUnexpected(what, json_fields::TypeError("objects", "an array"));
  }
  for (const value& o : objects->as_array()) {
    const std::string field = "objects[" + std::to_string(out.objects.size()) + "]";
    if (!o.is_object()) return ClientUnexpected(what, json_fields::TypeError(field, "an object"));
    std::string id_hex, data64;
    Status s = json_fields::GetString(o, "id", field, true, &id_hex);
    if (s.ok()) s = json_fields::GetString(o, "data", field, true, &data64);
    if (!s.ok()) return ClientUnexpected(what, s);
    auto id = Hash128::FromHex(id_hex);
    if (!id.ok())
      return ClientUnexpected(what, json_fields::TypeError(field + ".id", "32 hex digits"));
    auto data = Base64Decode(data64);
    if (!data.ok()) return ClientUnexpected(what, data.status().WithContext(field + ".data"));
    // The collector is trusted with nothing it could corrupt: what it sends
    // must be the object asked for.
    if (TreeHash(*data) != *id) {
      return Status::Corruption(what + ": object " + id_hex + " does not match its id");
    }
    out.objects.push_back(TreeObjectData{*id, std::move(data).value()});
  }
  return out;
}

}  // namespace driftwatch::report
