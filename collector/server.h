// The collector's HTTP(S) front end: Boost.Beast on Boost.Asio, turning each
// request into an Api call (api.h). Listens on the given address only.
// Why Beast and not cpprestsdk's listener: docs/decisions.md.
//
// Threads: `io_threads` run every socket read and write (never a store
// call); API work runs on a WorkerPool of `workers` threads with at most
// `max_queued` waiting jobs. A request that finds the pool saturated gets
// 503 with Retry-After at once.
//
// Limits are enforced while bytes arrive, before anything is authenticated:
//  - request line + headers: at most `max_header_bytes` (414 when the
//    request line alone does not fit, else 431) and `max_header_fields`
//    fields (431);
//  - body, chunked or not: at most `max_body_bytes` (413 as soon as a
//    Content-Length or the chunks received say so);
//  - a request with a body is admitted (Api::Admit: endpoint, auth limit,
//    token) before its body is read, and all bodies being read or handled
//    together hold at most `max_inflight_body_bytes` (else 503); at most
//    2 x `max_body_bytes` of bodies are handled (parsed, stored) at once,
//    other workers with a body wait for their turn;
//  - the whole header must arrive within `header_timeout_ms` of the first
//    wait (also the keep-alive idle time), the body within
//    `body_timeout_ms`, a response must be taken within `write_timeout_ms`;
//    a slow sender is disconnected;
//  - at most `max_connections` open connections; more are closed at accept.
// The limits are the Api's configuration (Api::config(), HttpLimits): each
// request reads them once, before its first byte, so a reload of the
// configuration applies to new requests (and new connections) while the
// requests under way finish under the old ones. `io_threads` and `workers`
// are read once, by Start(); `max_queued` applies from ApplyLimits() on.
// Any answer given without reading the whole request closes the connection.
// Requests on one connection (pipelined or not) are answered in order.
//
// TRACE, OPTIONS and CONNECT are 405 everywhere. Paths outside /api/,
// /healthz and /metrics go to the dashboard's file server (web_files.h),
// whatever the method, so every such answer carries its security headers.
// /healthz is answered by the I/O thread from the result of a probe that a
// background thread runs through Api every second (so it stays fast when the
// workers are saturated); a probe older than 15 s is reported as a failure.
//
// Every answer, whoever gives it (the API, the dashboard's files, /healthz,
// an early refusal), is logged to `logger` (request_log.h) and observed in
// the API's request latency histogram (metrics.h), by route template: the
// audit of admin requests needs no code in the routes.
//
// TLS is enabled when a certificate and key are given (PEM files).
//
// Thread-safety: Start/Stop from one thread. Stop() is bounded: it closes
// the listener and every connection, waits up to 3 s for running API work,
// and returns; when work is still running then (a hung store), the server's
// state is deliberately leaked so that nothing is freed under it.
#ifndef DRIFTWATCH_COLLECTOR_SERVER_H_
#define DRIFTWATCH_COLLECTOR_SERVER_H_

#include <cstddef>
#include <memory>
#include <string>

#include "collector/api.h"
#include "collector/listen_address.h"
#include "collector/log.h"
#include "core/host.h"
#include "core/status.h"

namespace driftwatch::collector {

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT; port 0 picks a free port
  std::string tls_cert;                   // PEM; TLS when set (with tls_key)
  std::string tls_key;
  std::string web_root;  // dashboard files (web_files.h); "" serves no dashboard
  Host* host = nullptr;  // reads the dashboard files; required with web_root (borrowed)
  // Receives the access and audit lines of every answer (request_log.h);
  // none when null (borrowed).
  Logger* logger = nullptr;
};

class Server {
 public:
  // Borrows api; it must outlive the server.
  Server(Api& api, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving; the URL actually listened on is url().
  Status Start();
  void Stop();
  // Applies the Api's configuration's max_queued to the worker pool (after
  // a reload); the other limits are read per request. Any thread.
  void ApplyLimits();
  const std::string& url() const { return url_; }

 private:
  struct Impl;
  Api& api_;
  ServerOptions options_;
  std::string url_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_SERVER_H_
