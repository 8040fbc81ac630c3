#include "report/client.h"

#include <cpprest/json.h>

#include <utility>

#include "core/drift_json.h"
#include "report/http_exchange.h"

namespace driftwatch::report {
namespace {

using web::json::value;

struct Answer {
  int status = 0;
  std::string body;
};

// The collector's {"error": CODE, "detail": TEXT} (either "" when absent).
std::pair<std::string, std::string> ErrorOf(const Answer& a) {
  std::string code, detail = a.body;
  try {
    value v = value::parse(a.body);
    if (v.is_object() && v.has_field("detail") && v.at("detail").is_string()) {
      detail = v.at("detail").as_string();
    }
    if (v.is_object() && v.has_field("error") && v.at("error").is_string()) {
      code = v.at("error").as_string();
    }
  } catch (const std::exception&) {
  }
  if (detail.size() > 500) detail.resize(500);
  return {code, detail};
}

Status StatusFor(const Answer& a, const std::string& what, bool report) {
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

}  // namespace

struct CollectorClient::Impl {
  std::vector<std::string> urls;  // failover order
  size_t current = 0;             // the collector used until it fails
  std::string token;
  std::string ca_file;
  HttpLimits limits;

  Result<Answer> CallOne(const std::string& url, const char* method, const std::string& path,
                         const std::string& body, const std::string& bearer) {
    HttpExchangeRequest req{url, method, path, bearer, body, ca_file};
    DW_ASSIGN_OR_RETURN(HttpExchangeAnswer a, HttpExchange(req, limits));
    return Answer{a.status, std::move(a.body)};
  }

  // Tries each collector once, starting with the current one, and stays on
  // the first that answers below 500. Re-sending a request is safe: reports
  // carry their id (a duplicate is acknowledged, not stored twice), polls
  // and acks are idempotent for the collectors sharing one store.
  Result<Answer> Call(const char* method, const std::string& path, const std::string& body,
                      const std::string& bearer) {
    Result<Answer> last = Status::Unavailable("no collector URL configured");
    for (size_t tried = 0; tried < urls.size(); ++tried) {
      last = CallOne(urls[current], method, path, body, bearer);
      if (last.ok() && last->status < 500) return last;
      current = (current + 1) % urls.size();
    }
    return last;
  }
};

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

Result<EnrollAnswer> CollectorClient::Enroll(const std::string& host, const std::string& group) {
  value b = value::object();
  b["host"] = value(host);
  b["group"] = value(group);
  b["agent_version"] = value(DRIFTWATCH_VERSION);
  DW_ASSIGN_OR_RETURN(Answer a, impl_->Call("POST", "/api/v1/enroll", b.serialize(), impl_->token));
  if (a.status != 201 && a.status != 200) return StatusFor(a, "enroll", false);
  try {
    value v = value::parse(a.body);
    EnrollAnswer out;
    out.host_id = v.at("host_id").as_string();
    out.token = v.at("token").as_string();
    out.group = v.has_field("group") ? v.at("group").as_string() : group;
    return out;
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("enroll: unexpected answer: ") + e.what());
  }
}

Status CollectorClient::SendReport(const std::string& body, bool* packages_needed) {
  DW_ASSIGN_OR_RETURN(Answer a, impl_->Call("POST", "/api/v1/reports", body, impl_->token));
  if (a.status == 200 || a.status == 201) {
    if (packages_needed != nullptr) {
      *packages_needed = false;
      try {
        value v = value::parse(a.body);
        *packages_needed = v.has_field("packages_needed") && v.at("packages_needed").is_boolean() &&
                           v.at("packages_needed").as_bool();
      } catch (const std::exception&) {
        // Acknowledged all the same; an unreadable body asks for nothing.
      }
    }
    return Status::Ok();
  }
  return StatusFor(a, "report", true);
}

Result<std::vector<AgentCommand>> CollectorClient::PollCommands() {
  DW_ASSIGN_OR_RETURN(Answer a, impl_->Call("GET", "/api/v1/agents/commands", "", impl_->token));
  if (a.status != 200) return StatusFor(a, "poll commands", false);
  try {
    std::vector<AgentCommand> out;
    value v = value::parse(a.body);
    for (const value& c : v.at("commands").as_array()) {
      AgentCommand cmd{c.at("id").as_number().to_int64(), c.at("command").as_string(), {}};
      if (c.has_field("paths") && c.at("paths").is_array()) {
        for (const value& p : c.at("paths").as_array()) cmd.paths.push_back(p.as_string());
      }
      out.push_back(std::move(cmd));
    }
    return out;
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("poll commands: unexpected answer: ") + e.what());
  }
}

Status CollectorClient::Ack(int64_t command_id, bool ok, const std::string& detail,
                            const std::optional<BaselineAck>& baseline) {
  value b = value::object();
  b["ok"] = value::boolean(ok);
  b["detail"] = value(detail);
  if (baseline) {
    value x = value::object();
    x["name"] = value(baseline->name);
    x["revision"] = value::number(baseline->revision);
    if (baseline->created_ns) x["created"] = value(FormatRfc3339Nanos(baseline->created_ns));
    if (!baseline->root.IsZero()) x["root"] = value(baseline->root.Hex());
    b["baseline"] = x;
  }
  DW_ASSIGN_OR_RETURN(
      Answer a,
      impl_->Call("POST", "/api/v1/agents/commands/" + std::to_string(command_id) + "/ack",
                  b.serialize(), impl_->token));
  if (a.status == 200) return Status::Ok();
  return StatusFor(a, "acknowledge command", false);
}

}  // namespace driftwatch::report
