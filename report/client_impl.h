// The exchange shared by CollectorClient's files (client.cc,
// client_trees.cc): failover over the configured collectors, and the
// reading of answers. Private to report/.
#ifndef DRIFTWATCH_REPORT_CLIENT_IMPL_H_
#define DRIFTWATCH_REPORT_CLIENT_IMPL_H_

#include <cpprest/json.h>

#include <string>
#include <vector>

#include "core/status.h"
#include "report/client.h"
#include "report/http_exchange.h"

namespace driftwatch::report {

struct ClientAnswer {
  int status = 0;
  std::string body;
};

// The JSON object of a successful answer; kCorruption naming `what` when the
// body is not one.
Result<web::json::value> ClientObjectOf(const ClientAnswer& a, const std::string& what);
// kCorruption: "WHAT: unexpected answer: ...".
Status ClientUnexpected(const std::string& what, const Status& s);
// The error for a refusal (client.h has the mapping); `report` selects the
// rules of a report.
Status ClientStatusFor(const ClientAnswer& a, const std::string& what, bool report);

struct CollectorClient::Impl {
  std::vector<std::string> urls;  // failover order
  size_t current = 0;             // the collector used until it fails
  std::string token;
  std::string ca_file;
  HttpLimits limits;

  Result<ClientAnswer> CallOne(const std::string& url, const char* method, const std::string& path,
                               const std::string& body, const std::string& bearer,
                               size_t max_answer) {
    HttpExchangeRequest req{url, method, path, bearer, body, ca_file};
    HttpLimits l = limits;
    if (max_answer != 0) l.max_answer_bytes = max_answer;
    DW_ASSIGN_OR_RETURN(HttpExchangeAnswer a, HttpExchange(req, l));
    return ClientAnswer{a.status, std::move(a.body)};
  }

  // Tries each collector once, starting with the current one, and stays on
  // the first that answers below 500. Re-sending a request is safe: reports
  // carry their id (a duplicate is acknowledged, not stored twice), polls
  // and acks are idempotent for the collectors sharing one store.
  // max_answer: 0 for kMaxAnswerBytes.
  Result<ClientAnswer> Call(const char* method, const std::string& path, const std::string& body,
                            const std::string& bearer, size_t max_answer = 0) {
    Result<ClientAnswer> last = Status::Unavailable("no collector URL configured");
    for (size_t tried = 0; tried < urls.size(); ++tried) {
      last = CallOne(urls[current], method, path, body, bearer, max_answer);
      if (last.ok() && last->status < 500) return last;
      current = (current + 1) % urls.size();
    }
    return last;
  }
};

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_REPORT_CLIENT_IMPL_H_
