// The integrity fields of a report, "chain" and "self" (docs/wire.md).
#include "core/chain_json.h"

#include "core/json_fields.h"

namespace driftwatch {
namespace {

using web::json::value;
using namespace json_fields;  // NOLINT: the codec's field readers

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status GetDigest(const value& obj, const char* key, const std::string& prefix, bool required,
                 std::string* out) {
  DW_RETURN_IF_ERROR(GetString(obj, key, prefix, required, out));
  if (!out->empty() && !IsHex64(*out))
    return TypeError(Join(prefix, key), "64 lowercase hex digits");
  return Status::Ok();
}

Result<chain::Record> RecordFromJson(const value& v, const std::string& f) {
  if (!v.is_object()) return TypeError(f, "an object");
  chain::Record r;
  DW_RETURN_IF_ERROR(GetInt64(v, "seq", f, true, &r.seq));
  DW_RETURN_IF_ERROR(GetString(v, "kind", f, true, &r.kind));
  if (r.kind.empty() || r.kind.size() > 64) return TypeError(f + ".kind", "1 to 64 bytes");
  DW_RETURN_IF_ERROR(GetInt64(v, "time_ns", f, true, &r.time_ns));
  DW_RETURN_IF_ERROR(GetString(v, "body", f, true, &r.body));
  if (r.body.size() > chain::kMaxBodyBytes) {
    return TypeError(f + ".body", "at most " + std::to_string(chain::kMaxBodyBytes) + " bytes");
  }
  return r;
}

}  // namespace

void ChainToJson(const CheckResult& r, value& o) {
  if (r.chain) {
    const chain::ReportChain& c = *r.chain;
    value x = value::object();
    x["from"] = value::number(c.from);
    x["length"] = value::number(c.length);
    x["head"] = value::string(c.head);
    std::vector<value> records;
    records.reserve(c.records.size());
    for (const chain::Record& rec : c.records) {
      value y = value::object();
      y["seq"] = value::number(rec.seq);
      y["kind"] = value::string(rec.kind);
      y["time_ns"] = value::number(rec.time_ns);
      y["body"] = value::string(rec.body);
      records.push_back(std::move(y));
    }
    x["records"] = value::array(std::move(records));
    o["chain"] = x;
  }
  if (r.self) {
    value x = value::object();
    x["exe"] = value::string(r.self->exe);
    x["rules"] = value::string(r.self->rules);
    x["config"] = value::string(r.self->config);
    x["version"] = value::string(r.self->version);
    o["self"] = x;
  }
}

Status ChainFromJson(const value& v, CheckResult* r) {
  if (const value* c = Find(v, "chain")) {
    if (!c->is_object()) return TypeError("chain", "an object");
    chain::ReportChain out;
    DW_RETURN_IF_ERROR(GetInt64(*c, "from", "chain", true, &out.from));
    DW_RETURN_IF_ERROR(GetInt64(*c, "length", "chain", true, &out.length));
    DW_RETURN_IF_ERROR(GetDigest(*c, "head", "chain", true, &out.head));
    if (out.from < 0 || out.length < out.from)
      return TypeError("chain.length", "at least chain.from >= 0");
    const value* records = Find(*c, "records");
    if (records == nullptr || !records->is_array()) return TypeError("chain.records", "an array");
    if (records->size() > chain::kMaxReportRecords) {
      return TypeError("chain.records",
                       "at most " + std::to_string(chain::kMaxReportRecords) + " records");
    }
    if (static_cast<int64_t>(records->size()) != out.length - out.from) {
      return TypeError("chain.records", "chain.length - chain.from records");
    }
    size_t i = 0;
    for (const value& x : records->as_array()) {
      const std::string f = "chain.records[" + std::to_string(i) + "]";
      DW_ASSIGN_OR_RETURN(chain::Record rec, RecordFromJson(x, f));
      if (rec.seq != out.from + 1 + static_cast<int64_t>(i)) {
        return TypeError(f + ".seq", std::to_string(out.from + 1 + static_cast<int64_t>(i)));
      }
      out.records.push_back(std::move(rec));
      ++i;
    }
    r->chain = std::move(out);
  }
  if (const value* s = Find(v, "self")) {
    if (!s->is_object()) return TypeError("self", "an object");
    chain::SelfDigests out;
    DW_RETURN_IF_ERROR(GetDigest(*s, "exe", "self", false, &out.exe));
    DW_RETURN_IF_ERROR(GetDigest(*s, "rules", "self", false, &out.rules));
    DW_RETURN_IF_ERROR(GetDigest(*s, "config", "self", false, &out.config));
    DW_RETURN_IF_ERROR(GetString(*s, "version", "self", false, &out.version));
    if (out.version.size() > 128) return TypeError("self.version", "at most 128 bytes");
    r->self = std::move(out);
  }
  return Status::Ok();
}

}  // namespace driftwatch
