// One bounded HTTP/1.1 exchange between the agent and a collector.
//
// The whole exchange (name resolution, connect, TLS handshake, sending the
// request, reading the answer) must finish by one deadline, however the
// peer trickles its bytes; the answer's header is read up to 16 KiB and
// its body up to `max_answer_bytes`. A collector that streams without end
// or never finishes costs the agent at most that memory and that time.
// Boost.Beast on Boost.Asio; https verifies the peer against `ca_file`
// ("" = the system store) and its certificate against the URL's host name
// or IP address. One connection per exchange ("Connection: close").
//
// Errors: every failure to get a complete answer in time (unreachable,
// refused, reset, TLS or certificate failure, deadline, an answer over the
// cap or not HTTP) is kUnavailable naming the URL and the reason; a URL
// that cannot be parsed is kInvalidArgument.
//
// Thread-safety: a pure function; each call has its own event loop.
#ifndef DRIFTWATCH_REPORT_HTTP_EXCHANGE_H_
#define DRIFTWATCH_REPORT_HTTP_EXCHANGE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/status.h"

namespace driftwatch::report {

struct HttpLimits {
  int64_t deadline_ms = 10000;                // the whole exchange
  size_t max_answer_bytes = size_t{1} << 20;  // the answer's body
};

struct HttpExchangeRequest {
  std::string base_url;  // "http://HOST[:PORT][/PREFIX]" or "https://..."
  std::string method;    // "GET", "POST"
  std::string path;      // "/api/v1/reports", appended to PREFIX
  std::string bearer;    // "" = no Authorization header
  std::string body;      // sent as application/json when not empty
  std::string ca_file;
};

struct HttpExchangeAnswer {
  int status = 0;
  std::string body;
};

Result<HttpExchangeAnswer> HttpExchange(const HttpExchangeRequest& req, const HttpLimits& limits);

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_REPORT_HTTP_EXCHANGE_H_
