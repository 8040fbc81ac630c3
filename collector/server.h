// The collector's HTTP(S) front end: a cpprestsdk http_listener that turns
// each request into an Api call (api.h). Listens on the given address only.
//
// The body cap is enforced before the body is read when Content-Length is
// given (413 without reading), and again after reading a chunked body.
// TLS is enabled when a certificate and key are given (PEM files).
//
// Thread-safety: Start/Stop from one thread; requests are handled on
// cpprestsdk's thread pool.
#ifndef DRIFTWATCH_COLLECTOR_SERVER_H_
#define DRIFTWATCH_COLLECTOR_SERVER_H_

#include <memory>
#include <string>

#include "collector/api.h"
#include "core/status.h"

namespace driftwatch::collector {

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT; port 0 picks a free port
  std::string tls_cert;                   // PEM; TLS when set (with tls_key)
  std::string tls_key;
  size_t max_body_bytes = 8 << 20;
  std::string web_root;  // dashboard files (web_files.h); "" serves no dashboard
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
  const std::string& url() const { return url_; }

 private:
  struct Impl;
  Api& api_;
  ServerOptions options_;
  std::string url_;
  std::unique_ptr<Impl> impl_;
};

// Splits "HOST:PORT" ("[::1]:80" for IPv6). Port 0 is allowed.
Status ParseListenAddress(const std::string& listen, std::string* host, int* port);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_SERVER_H_
