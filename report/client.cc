#include "report/client.h"

#include <cpprest/json.h>

#include <utility>

#include "core/drift_json.h"
#include "core/json_fields.h"
#include "report/client_impl.h"
#include "report/http_exchange.h"

namespace driftwatch::report {

using web::json::value;

// The JSON object of a successful answer; kCorruption naming `what` when the
// body is not one.
Result<value> ClientObjectOf(const ClientAnswer& a, const std::string& what) {
  try {
    value v = value::parse(a.body);
    if (v.is_object()) return v;
  } catch (const std::exception& e) {
    return Status::Corruption(what + ": unexpected answer: " + e.what());
  }
  return Status::Corruption(what + ": unexpected answer: not a JSON object");
}

Status ClientUnexpected(const std::string& what, const Status& s) {
  return Status::Corruption(what + ": unexpected answer: " + s.message());
}

namespace {

// The collector's {"error": CODE, "detail": TEXT}: the code ("" when absent)
// and the detail (the whole body when it has none).
std::pair<std::string, std::string> ErrorOf(const ClientAnswer& a) {
  std::string code, detail = a.body;
  if (auto v = ClientObjectOf(a, "error"); v.ok()) {
    (void)json_fields::GetString(*v, "detail", "", false, &detail);
    (void)json_fields::GetString(*v, "error", "", false, &code);
  }
  if (detail.size() > 500) detail.resize(500);
  return {code, detail};
}

}  // namespace

Status ClientStatusFor(const ClientAnswer& a, const std::string& what, bool report) {
  auto [code, detail] = ErrorOf(a);
  std::string msg = what + ": collector answered " + std::to_string(a.status) + ": " + detail;
  if (a.status == 401 || a.status == 403) return Status::PermissionDenied(msg);
  if (a.status == 404) return Status::NotFound(msg);
  if (a.status == 409) return Status::AlreadyExists(msg);
  // Too many requests (the collector's failed-authentication limit): retry later.
  if (a.status == 429) return Status::Unavailable(msg);
  if (report) {
    // Too large: the caller shrinks the report and sends it again.
    if (a.status == 413) return Status::ResourceExhausted(msg);
    // Only a validation error the collector names as such refuses a report
    // for good; any other 4xx (a proxy's, an older collector's "malformed
    // request" for what was its own failure) is retried.
    if ((a.status == 400 || a.status == 422) && code == kInvalidReportError) {
      return Status::InvalidArgument(msg);
    }
    return Status::Unavailable(msg);
  }
  if (a.status >= 400 && a.status < 500) return Status::InvalidArgument(msg);
  return Status::Unavailable(msg);
}

CollectorClient::CollectorClient(std::string url, std::string token, std::string ca_file,
                                 int timeout_ms)
    : impl_(std::make_unique<Impl>()) {
  size_t start = 0;
  while (start <= url.size()) {
    size_t comma = url.find(',', start);
    if (comma == std::string::npos) comma = url.size();
    std::string one = url.substr(start, comma - start);
    while (!one.empty() && one.front() == ' ') one.erase(0, 1);
    while (!one.empty() && (one.back() == '/' || one.back() == ' ')) one.pop_back();
    if (!one.empty()) impl_->urls.push_back(std::move(one));
    start = comma + 1;
  }
  impl_->token = std::move(token);
  impl_->ca_file = std::move(ca_file);
  impl_->limits.deadline_ms = timeout_ms;
  impl_->limits.max_answer_bytes = kMaxAnswerBytes;
}

CollectorClient::~CollectorClient() = default;

Status CollectorClient::Healthz() {
  DW_ASSIGN_OR_RETURN(ClientAnswer a, impl_->Call("GET", "/healthz", "", ""));
  if (a.status == 200) return Status::Ok();
  return ClientStatusFor(a, "healthz", false);
}

Result<EnrollAnswer> CollectorClient::Enroll(const std::string& host, const std::string& group) {
  value b = value::object();
  b["host"] = value(host);
  b["group"] = value(group);
  b["agent_version"] = value(DRIFTWATCH_VERSION);
  DW_ASSIGN_OR_RETURN(ClientAnswer a,
                      impl_->Call("POST", "/api/v1/enroll", b.serialize(), impl_->token));
  if (a.status != 201 && a.status != 200) return ClientStatusFor(a, "enroll", false);
  DW_ASSIGN_OR_RETURN(value v, ClientObjectOf(a, "enroll"));
  EnrollAnswer out;
  out.group = group;
  Status s = json_fields::GetString(v, "host_id", "", true, &out.host_id);
  if (s.ok()) s = json_fields::GetString(v, "token", "", true, &out.token);
  if (s.ok()) s = json_fields::GetString(v, "group", "", false, &out.group);
  if (const value* k = json_fields::Find(v, "signing_key"); s.ok() && k && !k->is_null()) {
    if (!k->is_object()) {
      s = json_fields::TypeError("signing_key", "an object");
    } else {
      s = json_fields::GetString(*k, "public_key", "signing_key", true, &out.signing_key);
    }
  }
  if (!s.ok()) return ClientUnexpected("enroll", s);
  return out;
}

Status CollectorClient::SendReport(const std::string& body, bool* packages_needed,
                                   std::optional<ChainAnswer>* chain) {
  DW_ASSIGN_OR_RETURN(ClientAnswer a, impl_->Call("POST", "/api/v1/reports", body, impl_->token));
  if (a.status == 200 || a.status == 201) {
    if (packages_needed != nullptr) *packages_needed = false;
    if (chain != nullptr) chain->reset();
    // Acknowledged all the same; an unreadable body asks for nothing.
    auto v = ClientObjectOf(a, "report");
    if (!v.ok()) return Status::Ok();
    if (packages_needed != nullptr) {
      bool needed = false;
      if (json_fields::GetBool(*v, "packages_needed", "", false, &needed).ok()) {
        *packages_needed = needed;
      }
    }
    const value* c = json_fields::Find(*v, "chain");
    if (chain != nullptr && c != nullptr && c->is_object()) {
      ChainAnswer answer;
      Status s = json_fields::GetInt64(*c, "held", "chain", true, &answer.held);
      if (s.ok()) s = json_fields::GetString(*c, "head", "chain", true, &answer.head);
      if (s.ok()) s = json_fields::GetString(*c, "state", "chain", false, &answer.state);
      if (s.ok()) *chain = std::move(answer);
    }
    return Status::Ok();
  }
  return ClientStatusFor(a, "report", true);
}

Result<std::vector<AgentCommand>> CollectorClient::PollCommands() {
  DW_ASSIGN_OR_RETURN(ClientAnswer a,
                      impl_->Call("GET", "/api/v1/agents/commands", "", impl_->token));
  if (a.status != 200) return ClientStatusFor(a, "poll commands", false);
  const std::string what = "poll commands";
  DW_ASSIGN_OR_RETURN(value v, ClientObjectOf(a, what));
  const value* commands = json_fields::Find(v, "commands");
  if (commands == nullptr || !commands->is_array()) {
    return ClientUnexpected(what, json_fields::TypeError("commands", "an array"));
  }
  std::vector<AgentCommand> out;
  for (const value& c : commands->as_array()) {
    const std::string field = "commands[" + std::to_string(out.size()) + "]";
    if (!c.is_object()) return ClientUnexpected(what, json_fields::TypeError(field, "an object"));
    AgentCommand cmd;
    Status s = json_fields::GetInt64(c, "id", field, true, &cmd.id);
    if (s.ok()) s = json_fields::GetString(c, "command", field, true, &cmd.kind);
    if (s.ok()) s = json_fields::GetStringList(c, "paths", field, &cmd.paths);
    if (s.ok()) s = json_fields::GetBool(c, "all", field, false, &cmd.all);
    if (s.ok()) s = json_fields::GetBool(c, "remove_added", field, false, &cmd.remove_added);
    if (s.ok()) s = json_fields::GetBool(c, "dry_run", field, false, &cmd.dry_run);
    if (s.ok()) s = json_fields::GetString(c, "reason", field, false, &cmd.reason);
    if (s.ok()) s = json_fields::GetString(c, "signature", field, false, &cmd.signature);
    if (!s.ok()) return ClientUnexpected(what, s);
    out.push_back(std::move(cmd));
  }
  return out;
}

Status CollectorClient::Ack(int64_t command_id, bool ok, const std::string& detail,
                            const std::optional<BaselineAck>& baseline,
                            std::string* baseline_signature) {
  if (baseline_signature != nullptr) baseline_signature->clear();
  value b = value::object();
  b["ok"] = value::boolean(ok);
  b["detail"] = value(detail);
  if (baseline) {
    value x = value::object();
    x["name"] = value(baseline->name);
    x["revision"] = value::number(baseline->revision);
    if (baseline->created_ns) x["created"] = value(FormatRfc3339Nanos(baseline->created_ns));
    if (!baseline->root.IsZero()) x["root"] = value(baseline->root.Hex());
    if (!baseline->target.empty()) x["target"] = value(baseline->target);
    if (!baseline->rules.empty()) x["rules"] = value(baseline->rules);
    b["baseline"] = x;
  }
  DW_ASSIGN_OR_RETURN(
      ClientAnswer a,
      impl_->Call("POST", "/api/v1/agents/commands/" + std::to_string(command_id) + "/ack",
                  b.serialize(), impl_->token));
  if (a.status != 200) return ClientStatusFor(a, "acknowledge command", false);
  if (baseline_signature != nullptr) {
    // Acknowledged all the same; an unreadable answer carries no signature.
    if (auto v = ClientObjectOf(a, "acknowledge command"); v.ok()) {
      json_fields::GetString(*v, "baseline_signature", "", false, baseline_signature).IgnoreError();
    }
  }
  return Status::Ok();
}

}  // namespace driftwatch::report
