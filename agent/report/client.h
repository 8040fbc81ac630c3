// CollectorClient: the agent's side of the collector API (docs/api.md):
// enroll, send one report, poll commands, acknowledge a command.
//
// Errors: a collector that cannot be reached, times out or answers 5xx or
// 429 is kUnavailable (retry later); 401/403 are kPermissionDenied; a report the
// collector refuses as malformed (400, 413) is kInvalidArgument (retrying
// cannot help); the collector's {"detail"} text is part of the message.
//
// Thread-safety: one client per thread.
#ifndef DRIFTWATCH_AGENT_REPORT_CLIENT_H_
#define DRIFTWATCH_AGENT_REPORT_CLIENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/hash.h"
#include "core/status.h"

namespace driftwatch::report {

struct EnrollAnswer {
  std::string host_id;
  std::string token;
  std::string group;
};

struct AgentCommand {
  int64_t id = 0;
  std::string kind;                // "baseline", "check-now" or "accept"
  std::vector<std::string> paths;  // accept: the exact paths to accept
};

struct BaselineAck {
  std::string name;
  int64_t revision = 0;
  int64_t created_ns = 0;
  Hash128 root;
};

class CollectorClient {
 public:
  // url: "http://HOST:PORT" or "https://...", or several comma-separated
  // collectors sharing one store: a request that cannot connect or gets a
  // 5xx moves on to the next one (and later requests stay there); only when
  // every collector failed is the call kUnavailable. ca_file verifies https peers
  // ("" = the system store). timeout_ms bounds each request.
  CollectorClient(std::string url, std::string token, std::string ca_file = "",
                  int timeout_ms = 10000);
  ~CollectorClient();
  CollectorClient(const CollectorClient&) = delete;
  CollectorClient& operator=(const CollectorClient&) = delete;

  Result<EnrollAnswer> Enroll(const std::string& host, const std::string& group);
  // Sends one report body (the JSON text). Ok means acknowledged (stored now
  // or earlier: a duplicate is also an acknowledgement). *packages_needed
  // (may be null) is set when the collector asks for the full package list
  // because it does not hold the one the report's digest names.
  Status SendReport(const std::string& body, bool* packages_needed = nullptr);
  Result<std::vector<AgentCommand>> PollCommands();
  Status Ack(int64_t command_id, bool ok, const std::string& detail,
             const std::optional<BaselineAck>& baseline);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_AGENT_REPORT_CLIENT_H_
