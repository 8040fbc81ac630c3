#include "report/http_exchange.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <optional>

namespace driftwatch::report {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kMaxHeaderBytes = 16 << 10;

struct Url {
  bool tls = false;
  std::string host;  // without brackets
  std::string port;
  std::string prefix;  // "" or "/something" without a trailing '/'
};

Result<Url> ParseUrl(const std::string& url) {
  Url u;
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    u.tls = true;
    rest = url.substr(8);
  } else {
    return Status::InvalidArgument("collector URL '" + url + "': expected http:// or https://");
  }
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) u.prefix = rest.substr(slash);
  while (!u.prefix.empty() && u.prefix.back() == '/') u.prefix.pop_back();
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos) return Status::InvalidArgument("collector URL '" + url + "'");
    u.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':')
        return Status::InvalidArgument("collector URL '" + url + "'");
      u.port = authority.substr(close + 2);
    }
  } else {
    const size_t colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) u.port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return Status::InvalidArgument("collector URL '" + url + "': no host");
  if (u.port.empty()) u.port = u.tls ? "443" : "80";
  return u;
}

// Runs the loop until `done` or the deadline; on the deadline `cancel`
// aborts what is pending and the loop drains. Returns done.
template <typename Cancel>
bool RunUntil(asio::io_context& io, Clock::time_point deadline, const bool& done, Cancel cancel) {
  io.restart();
  while (!done && Clock::now() < deadline) {
    if (io.run_one_until(deadline) == 0 && io.stopped()) break;
  }
  if (!done) {
    cancel();
    io.restart();
    io.run();
  }
  return done;
}

class Exchange {
 public:
  Exchange(const HttpExchangeRequest& req, const HttpLimits& limits, const Url& url)
      : req_(req),
        limits_(limits),
        url_(url),
        deadline_(Clock::now() +
                  std::chrono::milliseconds(std::max<int64_t>(limits.deadline_ms, 1))) {}

  Result<HttpExchangeAnswer> Run() {
    tcp::resolver::results_type endpoints;
    {
      tcp::resolver resolver(io_);
      bool done = false;
      beast::error_code ec;
      resolver.async_resolve(url_.host, url_.port,
                             [&](const beast::error_code& e, tcp::resolver::results_type r) {
                               ec = e;
                               endpoints = std::move(r);
                               done = true;
                             });
      if (!RunUntil(io_, deadline_, done, [&] { resolver.cancel(); })) {
        return Fail("resolving the host timed out");
      }
      if (ec) return Fail("resolving the host: " + ec.message());
    }
    if (url_.tls) {
      asio::ssl::context ctx(asio::ssl::context::tls_client);
      ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1);
      beast::error_code ec;
      if (req_.ca_file.empty()) {
        ctx.set_default_verify_paths(ec);
      } else {
        ctx.load_verify_file(req_.ca_file, ec);
      }
      if (ec) return Fail("loading the CA file '" + req_.ca_file + "': " + ec.message());
      ctx.set_verify_mode(asio::ssl::verify_peer);
      beast::ssl_stream<beast::tcp_stream> stream(io_, ctx);
      SSL* ssl = stream.native_handle();
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      boost::system::error_code addr_ec;
      asio::ip::make_address(url_.host, addr_ec);
      if (!addr_ec) {
        X509_VERIFY_PARAM_set1_ip_asc(param, url_.host.c_str());
      } else {
        X509_VERIFY_PARAM_set1_host(param, url_.host.c_str(), 0);
        SSL_set_tlsext_host_name(ssl, url_.host.c_str());
      }
      return Talk(stream, beast::get_lowest_layer(stream), endpoints, true);
    }
    beast::tcp_stream stream(io_);
    return Talk(stream, stream, endpoints, false);
  }

 private:
  Status Fail(const std::string& why) const {
    return Status::Unavailable("collector " + req_.base_url + " unreachable: " + why);
  }

  // Runs one asynchronous step to completion; the tcp_stream's expiry (the
  // deadline) aborts it.
  template <typename Start>
  beast::error_code Step(beast::tcp_stream& lowest, Start start) {
    bool done = false;
    beast::error_code ec;
    start([&](const beast::error_code& e) {
      ec = e;
      done = true;
    });
    if (!RunUntil(io_, deadline_ + std::chrono::seconds(1), done, [&] { lowest.close(); })) {
      return beast::error::timeout;
    }
    return ec;
  }

  template <typename Stream>
  Result<HttpExchangeAnswer> Talk(Stream& stream, beast::tcp_stream& lowest,
                                  const tcp::resolver::results_type& endpoints, bool tls) {
    lowest.expires_at(deadline_);
    auto why = [&](const char* what, const beast::error_code& ec) {
      return Fail(
          std::string(what) + ": " +
          (ec == beast::error::timeout
               ? std::string("deadline of ") + std::to_string(limits_.deadline_ms) + " ms passed"
               : ec.message()));
    };
    beast::error_code ec = Step(lowest, [&](auto done) {
      lowest.async_connect(endpoints,
                           [done](const beast::error_code& e, const tcp::endpoint&) { done(e); });
    });
    if (ec) return why("connecting", ec);
    if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
      ec = Step(lowest, [&](auto done) {
        stream.async_handshake(asio::ssl::stream_base::client,
                               [done](const beast::error_code& e) { done(e); });
      });
      if (ec) return why("TLS handshake", ec);
    }
    (void)tls;
    http::request<http::string_body> request;
    request.method_string(req_.method);
    request.target(url_.prefix + req_.path);
    request.version(11);
    const bool default_port = url_.port == (url_.tls ? "443" : "80");
    const std::string host =
        url_.host.find(':') != std::string::npos ? "[" + url_.host + "]" : url_.host;
    request.set(http::field::host, default_port ? host : host + ":" + url_.port);
    request.set(http::field::user_agent, std::string("driftwatch/") + DRIFTWATCH_VERSION);
    request.set(http::field::connection, "close");
    request.set(http::field::accept, "application/json");
    if (!req_.bearer.empty()) request.set(http::field::authorization, "Bearer " + req_.bearer);
    if (!req_.body.empty()) {
      request.set(http::field::content_type, "application/json");
      request.body() = req_.body;
    }
    request.prepare_payload();
    ec = Step(lowest, [&](auto done) {
      http::async_write(stream, request, [done](const beast::error_code& e, size_t) { done(e); });
    });
    if (ec) return why("sending the request", ec);
    beast::flat_buffer buffer(kMaxHeaderBytes + (64 << 10));  // a cap, not a reservation
    http::response_parser<http::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(limits_.max_answer_bytes);
    ec = Step(lowest, [&](auto done) {
      http::async_read(stream, buffer, parser,
                       [done](const beast::error_code& e, size_t) { done(e); });
    });
    if (ec == http::error::body_limit) {
      return Fail("answer larger than " + std::to_string(limits_.max_answer_bytes) + " bytes");
    }
    if (ec == http::error::header_limit) {
      return Fail("answer header larger than " + std::to_string(kMaxHeaderBytes) + " bytes");
    }
    if (ec) return why("reading the answer", ec);
    HttpExchangeAnswer out;
    out.status = static_cast<int>(parser.get().result_int());
    out.body = std::move(parser.get().body());
    beast::error_code ignored;
    lowest.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return out;
  }

  const HttpExchangeRequest& req_;
  const HttpLimits& limits_;
  const Url& url_;
  const Clock::time_point deadline_;
  asio::io_context io_;
};

}  // namespace

Result<HttpExchangeAnswer> HttpExchange(const HttpExchangeRequest& req, const HttpLimits& limits) {
  DW_ASSIGN_OR_RETURN(Url url, ParseUrl(req.base_url));
  try {
    Exchange x(req, limits, url);
    return x.Run();
  } catch (const std::exception& e) {
    // Asio and OpenSSL setup can throw (no memory, no descriptors).
    return Status::Unavailable("collector " + req.base_url + " unreachable: " + e.what());
  }
}

}  // namespace driftwatch::report
