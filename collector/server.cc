#include "collector/server.h"

#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "collector/request_log.h"
#include "collector/request_target.h"
#include "collector/web_files.h"
#include "collector/worker_pool.h"
#include "core/host.h"

namespace driftwatch::collector {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Headers = std::vector<std::pair<std::string, std::string>>;
using std::chrono::milliseconds;

// A request that announced more than this many body bytes is closed without
// reading them after its early answer; these are read and discarded for at
// most kDrainTime first, so that the peer sees the answer instead of a reset.
constexpr size_t kDrainBytes = 1 << 20;
constexpr auto kDrainTime = std::chrono::seconds(2);
// /healthz reports a failure when the last health probe is older than this.
constexpr auto kHealthStale = std::chrono::seconds(15);
constexpr auto kHealthEvery = std::chrono::seconds(1);
// The Allow of a 405 to TRACE, OPTIONS and CONNECT: the methods the API serves.
constexpr const char* kApiMethods = "GET, HEAD, POST, DELETE";
// API work runs this many nice steps below the I/O threads, so that
// accepting, reading and /healthz stay prompt when the API saturates the CPU.
constexpr int kWorkerNice = 5;
constexpr auto kStopGrace = std::chrono::seconds(3);  // Stop() waits for running API work

}  // namespace

// What every connection reaches. Declared before the io_context in Impl so
// that it outlives every session (sessions are destroyed with the
// io_context's pending handlers).
struct Shared {
  Shared(Api& a, const ServerOptions& o, const HttpLimits& start)
      : api(a), options(o), pool(start.workers, start.max_queued, kWorkerNice), prober(1, 0) {}

  // The limits in effect now: a reload changes them (server.h).
  HttpLimits limits() const { return api.config()->http; }

  Api& api;
  const ServerOptions options;
  WorkerPool pool;    // API work
  WorkerPool prober;  // the health probe, one at a time
  std::atomic<size_t> connections{0};
  std::atomic<size_t> inflight_body_bytes{0};

  // Bodies being handled (parsed and stored) at once, in bytes: parsing
  // costs a multiple of the body, so at most two bodies of the largest size
  // are handled together (one alone may always go). Workers wait here.
  std::mutex handling_mu;  // guards handling_bytes
  std::condition_variable handling_cv;
  size_t handling_bytes = 0;
  void AcquireHandling(size_t n) {
    const size_t max_body_bytes = limits().max_body_bytes;
    std::unique_lock<std::mutex> lock(handling_mu);
    handling_cv.wait(
        lock, [&] { return handling_bytes == 0 || handling_bytes + n <= 2 * max_body_bytes; });
    handling_bytes += n;
  }
  void ReleaseHandling(size_t n) {
    {
      std::lock_guard<std::mutex> lock(handling_mu);
      handling_bytes -= n;
    }
    handling_cv.notify_all();
  }

  std::mutex health_mu;  // guards health and health_at
  HttpResponse health;
  std::chrono::steady_clock::time_point health_at;

  void Probe() {
    HttpResponse r = api.Health();
    std::lock_guard<std::mutex> lock(health_mu);
    health = std::move(r);
    health_at = std::chrono::steady_clock::now();
  }
  HttpResponse Health() {
    std::lock_guard<std::mutex> lock(health_mu);
    const auto age = std::chrono::steady_clock::now() - health_at;
    if (age > kHealthStale) {
      return Api::Error(
          503, "the store has not answered a health probe for " +
                   std::to_string(std::chrono::duration_cast<std::chrono::seconds>(age).count()) +
                   " s");
    }
    return health;
  }
};

namespace {

// One connection. Derived is PlainSession or TlsSession (CRTP, as the
// stream types differ). Every member is touched by one thread at a time:
// the connection's strand, or the worker running its request while no I/O
// is outstanding.
template <class Derived>
class Session {
 public:
  Session(Shared& shared, std::string peer)
      : shared_(shared),
        limits_(shared.limits()),
        peer_(std::move(peer)),
        buffer_(limits_.max_header_bytes + (64 << 10)) {
    shared_.connections++;
    shared_.api.metrics().http_connections++;
  }
  ~Session() {
    ReleaseBody();
    shared_.connections--;
    shared_.api.metrics().http_connections--;
  }

 protected:
  Shared& shared_;

  Derived& derived() { return static_cast<Derived&>(*this); }
  auto& lowest() { return beast::get_lowest_layer(derived().stream()); }
  std::shared_ptr<Derived> self() { return derived().shared_from_this(); }

  // The limits of the request being read and answered: a reload applies
  // from a connection's next request on.
  HttpLimits limits_;

  void ReadHeader() {
    limits_ = shared_.limits();
    parser_.emplace();
    parser_->header_limit(
        static_cast<std::uint32_t>(std::min<size_t>(limits_.max_header_bytes, UINT32_MAX)));
    parser_->body_limit(limits_.max_body_bytes);
    req_ = HttpRequest{};
    req_.client = peer_;
    lowest().expires_after(milliseconds(limits_.header_timeout_ms));
    http::async_read_header(derived().stream(), buffer_, *parser_,
                            [s = self()](beast::error_code ec, size_t) { s->OnHeader(ec); });
  }

 private:
  void OnHeader(beast::error_code ec) {
    started_ = std::chrono::steady_clock::now();
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      // The parser consumes the request line once it has it whole.
      if (parser_->get().target().empty()) {
        return Answer(Api::Error(414, "request line longer than " +
                                          std::to_string(limits_.max_header_bytes) + " bytes"),
                      {}, true);
      }
      return Answer(Api::Error(431, "request headers larger than " +
                                        std::to_string(limits_.max_header_bytes) + " bytes"),
                    {}, true);
    }
    if (ec == http::error::body_limit) {
      // A Content-Length over the cap: the request line and headers are
      // parsed, the body is not read.
      TakeHead().IgnoreError();
      return TooLarge();
    }
    if (ec) {
      if (IsParseError(ec)) {
        return Answer(Api::Error(400, "malformed request: " + ec.message()), {}, true);
      }
      return Close();  // the peer left, or was too slow
    }
    const auto& head = parser_->get();
    size_t fields = 0;
    for (auto it = head.begin(); it != head.end(); ++it) ++fields;
    if (fields > limits_.max_header_fields) {
      return Answer(Api::Error(431, "more than " + std::to_string(limits_.max_header_fields) +
                                        " header fields"),
                    {}, true);
    }
    keep_alive_ = head.keep_alive();
    has_body_ = parser_->chunked() || parser_->content_length().value_or(0) > 0;
    if (head.method() == http::verb::connect) {  // its target is an authority, not a path
      return Answer(Api::Error(405, "method CONNECT is not served"), {{"Allow", kApiMethods}},
                    has_body_);
    }
    if (Status s = TakeHead(); !s.ok()) return Answer(Api::Error(400, s.message()), {}, true);
    if (!IsApiPath(req_.path)) {
      // The file server answers every method (405 beyond GET and HEAD) with
      // the dashboard's security headers; a body is never read for it.
      return Dispatch(/*dashboard=*/true);
    }
    if (req_.method == "TRACE" || req_.method == "OPTIONS") {
      return Answer(Api::Error(405, "method " + req_.method + " is not served"),
                    {{"Allow", kApiMethods}}, has_body_);
    }
    if (req_.path == "/healthz") {
      if (req_.method != "GET" && req_.method != "HEAD") {
        return Answer(Api::Error(405, "use GET"), {{"Allow", "GET, HEAD"}}, has_body_);
      }
      HttpResponse h = shared_.Health();
      if (req_.method == "HEAD") {
        head_length_ = h.body.size();
        h.body.clear();
      }
      return Answer(std::move(h), {}, false);
    }
    if (!has_body_) return Dispatch(false);
    // Authenticate before reading a body: an unauthenticated peer never
    // gets one read, whatever it announces.
    const bool queued = shared_.pool.TrySubmit([s = self()] {
      std::optional<HttpResponse> refused = s->shared_.api.Admit(s->req_);
      net::post(s->derived().stream().get_executor(),
                [s, refused = std::move(refused)]() mutable { s->OnAdmitted(std::move(refused)); });
    });
    if (!queued) Busy();
  }

  // Method, token and decoded target of the parsed head into req_.
  Status TakeHead() {
    const auto& head = parser_->get();
    req_.method = std::string(head.method_string());
    if (auto it = head.find(http::field::authorization); it != head.end()) {
      req_.authorization = std::string(it->value());
    }
    const auto target = head.target();
    return DecodeTarget(std::string_view(target.data(), target.size()), &req_);
  }

  void OnAdmitted(std::optional<HttpResponse> refused) {
    if (refused) return Answer(std::move(*refused), {}, true);
    const size_t want = parser_->content_length().value_or(limits_.max_body_bytes);
    size_t now = shared_.inflight_body_bytes.load();
    do {
      if (now + want > limits_.max_inflight_body_bytes) return Busy();
    } while (!shared_.inflight_body_bytes.compare_exchange_weak(now, now + want));
    reserved_ = want;
    lowest().expires_after(milliseconds(limits_.body_timeout_ms));
    http::async_read(derived().stream(), buffer_, *parser_,
                     [s = self()](beast::error_code ec, size_t) { s->OnBody(ec); });
  }

  void OnBody(beast::error_code ec) {
    if (ec == http::error::body_limit) return TooLarge();
    if (ec) {
      ReleaseBody();
      if (IsParseError(ec)) {
        return Answer(Api::Error(400, "malformed request: " + ec.message()), {}, true);
      }
      return Close();
    }
    req_.body = std::move(parser_->get().body());
    has_body_ = false;  // read whole: the connection may be kept
    Dispatch(false);
  }

  // Hands the request to a worker; its answer is written on the strand.
  void Dispatch(bool dashboard) {
    const bool queued = shared_.pool.TrySubmit([s = self(), dashboard] {
      HttpResponse out;
      Headers headers;
      if (dashboard) {
        // HEAD is answered with GET's headers, Content-Length included.
        const bool head = s->req_.method == "HEAD";
        WebResponse w = ServeWebFile(*s->shared_.options.host, s->shared_.options.web_root,
                                     head ? "GET" : s->req_.method, s->req_.path);
        out.status = w.status;
        out.content_type = std::move(w.content_type);
        out.body = std::move(w.body);
        headers = std::move(w.headers);
        if (head) {
          s->head_length_ = out.body.size();
          out.body.clear();
        }
      } else {
        const size_t body = s->req_.body.size();
        if (body > 0) s->shared_.AcquireHandling(body);
        out = s->shared_.api.Handle(s->req_);
        if (body > 0) s->shared_.ReleaseHandling(body);
      }
      s->req_.body = std::string();  // free the body before the answer is written
      s->ReleaseBody();
      s->Record(out);  // here, not on an I/O thread
      s->recorded_ = true;
      net::post(s->derived().stream().get_executor(),
                [s, out = std::move(out), headers = std::move(headers)]() mutable {
                  s->Answer(std::move(out), std::move(headers), s->has_body_);
                });
    });
    if (!queued) {
      ReleaseBody();
      Busy();
    }
  }

  void Busy() {
    shared_.api.metrics().http_busy++;
    Answer(Api::Error(503, "the collector is saturated; retry later"), {{"Retry-After", "1"}},
           true);
  }

  // 413 without reading the body. For an agent's report the API records a
  // refused report of its host (a store call, so on a worker); when the
  // pool is saturated the plain 413 goes out.
  void TooLarge() {
    ReleaseBody();
    const size_t limit = limits_.max_body_bytes;
    const bool queued = shared_.pool.TrySubmit([s = self(), limit] {
      HttpResponse out = s->shared_.api.BodyTooLarge(s->req_, limit);
      s->Record(out);
      s->recorded_ = true;
      net::post(s->derived().stream().get_executor(),
                [s, out = std::move(out)]() mutable { s->Answer(std::move(out), {}, true); });
    });
    if (!queued) {
      Answer(Api::Error(413, "request body exceeds the limit of " + std::to_string(limit) +
                                 " bytes (max_body_bytes); send less"),
             {}, true);
    }
  }

  // Writes `out`; `close` ends the connection after it (always when the
  // request was not read whole).
  void Answer(HttpResponse out, Headers headers, bool close) {
    if (close) keep_alive_ = false;
    if (!std::exchange(recorded_, false)) Record(out);
    if (out.status == 413 || out.status == 414 || out.status == 431) {
      shared_.api.metrics().http_limit_rejections++;
    }
    res_.emplace(static_cast<http::status>(out.status), 11);
    res_->set(http::field::server, "driftwatch-collector");
    res_->set(http::field::content_type, out.content_type);
    for (auto& [name, v] : headers) res_->insert(name, v);
    for (auto& [name, v] : out.headers) res_->insert(name, v);
    res_->body() = std::move(out.body);
    res_->keep_alive(keep_alive_);
    if (head_length_) {
      res_->content_length(*head_length_);
      head_length_.reset();
    } else {
      res_->prepare_payload();
    }
    lowest().expires_after(milliseconds(limits_.write_timeout_ms));
    http::async_write(derived().stream(), *res_,
                      [s = self()](beast::error_code ec, size_t) { s->OnWritten(ec); });
  }

  // The access and audit lines and the latency of this answer; once per
  // answer (Answer() records those that no worker recorded). A worker
  // records its answer, so that formatting and writing log lines stays off
  // the I/O threads.
  void Record(const HttpResponse& out) {
    const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now() - started_)
                           .count();
    const std::string route = RouteTemplate(req_.path);
    shared_.api.metrics().http_latency.Observe(route, out.status, ns);
    Logger* logger = shared_.options.logger;
    if (logger == nullptr) return;
    LogRequest(*logger, RecordOf(req_, out, head_length_.value_or(out.body.size()), ns));
  }

  void OnWritten(beast::error_code ec) {
    res_.reset();
    if (ec) return Close();
    if (keep_alive_) return ReadHeader();  // a pipelined request may be buffered already
    if (!parser_ || parser_->is_done()) return Close();
    Drain();
  }

  // Reads and drops what the peer still sends, briefly, then closes: a
  // close with unread data would reset the connection and could lose the
  // answer at the peer.
  void Drain() {
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (drained_ == 0) lowest().expires_after(kDrainTime);  // for the whole drain
    buffer_.clear();
    lowest().async_read_some(buffer_.prepare(16 << 10),
                             [s = self()](beast::error_code ec, size_t n) {
                               s->drained_ += n + 1;  // > 0 from the first read on
                               if (ec || s->drained_ > kDrainBytes) return s->Close();
                               s->Drain();
                             });
  }

  void Close() {
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
  }

  void ReleaseBody() {
    if (reserved_ > 0) shared_.inflight_body_bytes -= reserved_;
    reserved_ = 0;
  }

  static bool IsParseError(beast::error_code ec) {
    return ec.category() == make_error_code(http::error::bad_method).category() &&
           ec != http::error::end_of_stream && ec != http::error::partial_message;
  }

  const std::string peer_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> res_;
  HttpRequest req_;
  bool keep_alive_ = false;
  std::optional<size_t> head_length_;  // the length a HEAD answer announces
  bool recorded_ = false;              // the answer under way was logged
  bool has_body_ = false;
  size_t reserved_ = 0;
  size_t drained_ = 0;
};

class PlainSession : public Session<PlainSession>,
                     public std::enable_shared_from_this<PlainSession> {
 public:
  PlainSession(Shared& shared, tcp::socket socket, std::string peer)
      : Session(shared, std::move(peer)), stream_(std::move(socket)) {}
  void Run() { ReadHeader(); }
  beast::tcp_stream& stream() { return stream_; }

 private:
  beast::tcp_stream stream_;
};

class TlsSession : public Session<TlsSession>, public std::enable_shared_from_this<TlsSession> {
 public:
  TlsSession(Shared& shared, tcp::socket socket, std::string peer, net::ssl::context& ctx)
      : Session(shared, std::move(peer)), stream_(std::move(socket), ctx) {}
  void Run() {
    beast::get_lowest_layer(stream_).expires_after(milliseconds(limits_.header_timeout_ms));
    stream_.async_handshake(net::ssl::stream_base::server,
                            [s = shared_from_this()](beast::error_code ec) {
                              if (ec) return beast::get_lowest_layer(s->stream_).close();
                              s->ReadHeader();
                            });
  }
  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }

 private:
  beast::ssl_stream<beast::tcp_stream> stream_;
};

}  // namespace

struct Server::Impl {
  Impl(Api& api, const ServerOptions& options, const HttpLimits& start)
      : shared(api, options, start) {}

  void Accept() {
    acceptor->async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
      if (ec == net::error::operation_aborted) return;
      if (ec) {
        // Out of descriptors or memory: try again shortly instead of
        // spinning.
        accept_retry.expires_after(milliseconds(100));
        accept_retry.async_wait([this](beast::error_code e) {
          if (!e) Accept();
        });
        return;
      }
      if (shared.connections.load() >= shared.limits().max_connections) {
        shared.api.metrics().http_busy++;
        beast::error_code ignored;
        s.close(ignored);
      } else {
        // Answers go out as soon as they are written (a TLS record and the
        // next must not wait for the peer's delayed ACK).
        beast::error_code ignored;
        s.set_option(tcp::no_delay(true), ignored);
        beast::error_code peer_ec;
        auto peer = s.remote_endpoint(peer_ec);
        std::string addr = peer_ec ? "" : peer.address().to_string();
        if (tls) {
          std::make_shared<TlsSession>(shared, std::move(s), std::move(addr), *tls)->Run();
        } else {
          std::make_shared<PlainSession>(shared, std::move(s), std::move(addr))->Run();
        }
      }
      Accept();
    });
  }

  void ScheduleProbe() {
    probe_timer.expires_after(kHealthEvery);
    probe_timer.async_wait([this](beast::error_code ec) {
      if (ec) return;
      shared.prober.TrySubmit([this] { shared.Probe(); });  // skipped while one runs
      ScheduleProbe();
    });
  }

  Shared shared;
  std::optional<net::ssl::context> tls;
  std::vector<std::thread> threads;
  // Last, so that it is destroyed first: its pending handlers own the
  // sessions, which use everything above.
  net::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  net::steady_timer accept_retry{ioc};
  net::steady_timer probe_timer{ioc};
};

Server::Server(Api& api, ServerOptions options) : api_(api), options_(std::move(options)) {}

Server::~Server() { Stop(); }

Status Server::Start() {
  std::string host;
  int port = 0;
  DW_RETURN_IF_ERROR(ParseListenAddress(options_.listen, &host, &port));
  if (!options_.web_root.empty() && options_.host == nullptr) {
    return Status::InvalidArgument("a dashboard (web root " + options_.web_root +
                                   ") needs a host to read it through");
  }
  if (port == 0) {
    DW_ASSIGN_OR_RETURN(port, FreePort(host));
  }
  const bool tls = !options_.tls_cert.empty();
  if (tls != !options_.tls_key.empty()) {
    return Status::InvalidArgument("--tls-cert and --tls-key go together");
  }
  std::string host_part = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  url_ = std::string(tls ? "https" : "http") + "://" + host_part + ":" + std::to_string(port);

  const HttpLimits start = api_.config()->http;
  auto impl = std::make_unique<Impl>(api_, options_, start);
  try {
    if (tls) {
      for (const std::string& f : {options_.tls_cert, options_.tls_key}) {
        if (access(f.c_str(), R_OK) != 0) return ErrnoStatus(f, errno);
      }
      impl->tls.emplace(net::ssl::context::tls_server);
      impl->tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                             net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                             net::ssl::context::no_tlsv1_1);
      impl->tls->use_certificate_chain_file(options_.tls_cert);
      impl->tls->use_private_key_file(options_.tls_key, net::ssl::context::pem);
    }
    const tcp::endpoint ep(net::ip::make_address(host), static_cast<unsigned short>(port));
    impl->acceptor.emplace(impl->ioc);
    impl->acceptor->open(ep.protocol());
    impl->acceptor->set_option(net::socket_base::reuse_address(true));
    impl->acceptor->bind(ep);
    impl->acceptor->listen(net::socket_base::max_listen_connections);
  } catch (const std::exception& e) {
    return Status::Unavailable("cannot listen on " + url_ + ": " + e.what());
  }
  impl->shared.Probe();  // /healthz has an answer from the first request on
  impl->Accept();
  impl->ScheduleProbe();
  for (int i = 0; i < start.io_threads; ++i) {
    impl->threads.emplace_back([ioc = &impl->ioc] { ioc->run(); });
  }
  impl_ = std::move(impl);
  return Status::Ok();
}

void Server::ApplyLimits() {
  if (impl_) impl_->shared.pool.SetMaxQueued(api_.config()->http.max_queued);
}

void Server::Stop() {
  if (!impl_) return;
  // Stopping the io_context abandons every read and write; the sessions
  // (and their sockets) go with the io_context's handlers below.
  impl_->ioc.stop();
  for (std::thread& t : impl_->threads) t.join();
  impl_->threads.clear();
  const auto deadline = std::chrono::steady_clock::now() + kStopGrace;
  const bool idle = impl_->shared.pool.Stop(deadline);
  const bool probe_idle = impl_->shared.prober.Stop(deadline);
  if (!idle || !probe_idle) {
    // Work is still running (a store that does not answer) and uses the
    // sessions and the io_context: leave them to the exiting process.
    (void)impl_.release();
    return;
  }
  impl_.reset();
}

}  // namespace driftwatch::collector
