#include "collector/server.h"

#include <arpa/inet.h>
#include <cpprest/http_listener.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ssl.hpp>

#include "collector/web_files.h"
#include "core/host.h"

namespace driftwatch::collector {
namespace {

using web::http::http_request;
using web::http::http_response;

// Finds a free port by binding port 0 on `host` (IPv4 or IPv6 literal).
Result<int> FreePort(const std::string& host) {
  sockaddr_storage ss{};
  socklen_t len;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    len = sizeof(*v4);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    len = sizeof(*v6);
  } else {
    return Status::InvalidArgument("--listen: port 0 needs a numeric address, not '" + host + "'");
  }
  UniqueFd fd(socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoStatus("socket", errno);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    return ErrnoStatus("bind " + host, errno);
  }
  if (getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    return ErrnoStatus("getsockname", errno);
  }
  return ss.ss_family == AF_INET ? ntohs(v4->sin_port) : ntohs(v6->sin6_port);
}

// GET and HEAD outside the API go to the dashboard's static files.
bool IsDashboardRequest(const std::string& method, const std::string& path) {
  if (method != "GET" && method != "HEAD") return false;
  if (path == "/healthz" || path == "/metrics") return false;
  return path != "/api" && path.rfind("/api/", 0) != 0;
}

}  // namespace

Status ParseListenAddress(const std::string& listen, std::string* host, int* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::InvalidArgument("--listen: expected HOST:PORT, got '" + listen + "'");
  }
  *host = listen.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  std::string p = listen.substr(colon + 1);
  char* end = nullptr;
  long v = std::strtol(p.c_str(), &end, 10);
  if (p.empty() || *end != '\0' || v < 0 || v > 65535) {
    return Status::InvalidArgument("--listen: bad port '" + p + "'");
  }
  *port = static_cast<int>(v);
  return Status::Ok();
}

struct Server::Impl {
  std::unique_ptr<web::http::experimental::listener::http_listener> listener;
};

Server::Server(Api& api, ServerOptions options)
    : api_(api), options_(std::move(options)), impl_(std::make_unique<Impl>()) {}

Server::~Server() { Stop(); }

Status Server::Start() {
  std::string host;
  int port = 0;
  DW_RETURN_IF_ERROR(ParseListenAddress(options_.listen, &host, &port));
  if (port == 0) {
    DW_ASSIGN_OR_RETURN(port, FreePort(host));
  }
  const bool tls = !options_.tls_cert.empty();
  if (tls != !options_.tls_key.empty()) {
    return Status::InvalidArgument("--tls-cert and --tls-key go together");
  }
  std::string host_part = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  url_ = std::string(tls ? "https" : "http") + "://" + host_part + ":" + std::to_string(port);

  web::http::experimental::listener::http_listener_config config;
  if (tls) {
    std::string cert = options_.tls_cert;
    std::string key = options_.tls_key;
    // Fail early with a clear message rather than on the first handshake.
    for (const std::string& f : {cert, key}) {
      if (access(f.c_str(), R_OK) != 0) return ErrnoStatus(f, errno);
    }
    config.set_ssl_context_callback([cert, key](boost::asio::ssl::context& ctx) {
      ctx.set_options(boost::asio::ssl::context::default_workarounds |
                      boost::asio::ssl::context::no_sslv2 | boost::asio::ssl::context::no_sslv3 |
                      boost::asio::ssl::context::no_tlsv1 | boost::asio::ssl::context::no_tlsv1_1);
      ctx.use_certificate_chain_file(cert);
      ctx.use_private_key_file(key, boost::asio::ssl::context::pem);
    });
  }
  try {
    impl_->listener =
        std::make_unique<web::http::experimental::listener::http_listener>(web::uri(url_), config);
    const size_t cap = options_.max_body_bytes;
    Api& api = api_;
    const std::string web_root = options_.web_root;
    impl_->listener->support([&api, cap, web_root](http_request request) {
      HttpResponse out;
      std::vector<std::pair<std::string, std::string>> extra_headers;
      try {
        HttpRequest req;
        req.method = request.method();
        req.client = request.remote_address();
        const web::uri& uri = request.relative_uri();
        req.path = web::uri::decode(uri.path());
        for (const auto& [k, v] : web::uri::split_query(uri.query())) {
          req.query.emplace_back(web::uri::decode(k), web::uri::decode(v));
        }
        const auto& headers = request.headers();
        if (auto it = headers.find("Authorization"); it != headers.end()) {
          req.authorization = it->second;
        }
        const auto len = headers.content_length();
        if (IsDashboardRequest(req.method, req.path)) {
          WebResponse w = ServeWebFile(DefaultHost(), web_root, req.method, req.path);
          out.status = w.status;
          out.content_type = std::move(w.content_type);
          out.body = std::move(w.body);
          extra_headers = std::move(w.headers);
        } else if (len > cap) {
          out = Api::Error(413, "request body of " + std::to_string(len) +
                                    " bytes exceeds the limit of " + std::to_string(cap));
        } else {
          req.body = request.extract_utf8string(true).get();
          if (req.body.size() > cap) {
            out = Api::Error(413, "request body exceeds the limit of " + std::to_string(cap));
          } else {
            out = api.Handle(req);
          }
        }
      } catch (const std::exception& e) {
        out = Api::Error(400, std::string("malformed request: ") + e.what());
      }
      http_response resp(static_cast<web::http::status_code>(out.status));
      resp.set_body(std::move(out.body), out.content_type);
      if (out.status == 413) resp.headers().add("Connection", "close");
      for (const auto& [name, v] : extra_headers) resp.headers().add(name, v);
      request.reply(resp).then([](pplx::task<void> t) {
        try {
          t.get();
        } catch (const std::exception&) {
          // The client went away; nothing to do.
        }
      });
    });
    impl_->listener->open().wait();
  } catch (const std::exception& e) {
    impl_->listener.reset();
    return Status::Unavailable("cannot listen on " + url_ + ": " + e.what());
  }
  return Status::Ok();
}

void Server::Stop() {
  if (!impl_->listener) return;
  try {
    impl_->listener->close().wait();
  } catch (const std::exception&) {
    // Shutting down anyway.
  }
  impl_->listener.reset();
}

}  // namespace driftwatch::collector
