// A loopback HTTP server for agent tests whose answers a test scripts: for
// each request (its head and body) a function returns the raw bytes to
// write back, or an empty string to drop the connection unanswered. With
// `endless` set, the answer's head is followed by body bytes until the
// client goes away or Stop(); with `trickle_ms` > 0, one byte of the answer
// every trickle_ms. It records every request. Each connection is served on
// the accept thread, one at a time; everything is bounded by Stop().
#ifndef DRIFTWATCH_TESTS_COLLECTOR_SCRIPTED_COLLECTOR_H_
#define DRIFTWATCH_TESTS_COLLECTOR_SCRIPTED_COLLECTOR_H_

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace driftwatch::collector_it {

struct ScriptedRequest {
  std::string head;  // request line and headers
  std::string body;
};

class ScriptedCollector {
 public:
  using Script = std::function<std::string(const ScriptedRequest&)>;

  explicit ScriptedCollector(Script script) : script_(std::move(script)) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && listen(fd_, 16) == 0;
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    if (ok_) thread_ = std::thread([this] { Loop(); });
  }
  ~ScriptedCollector() { Stop(); }

  bool ok() const { return ok_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void set_endless(bool v) { endless_ = v; }
  void set_trickle_ms(int v) { trickle_ms_ = v; }
  // Bytes written after the answer's head in endless mode.
  int64_t streamed() const { return streamed_; }
  std::vector<ScriptedRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      ScriptedRequest req;
      if (ReadRequest(c, &req)) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          requests_.push_back(req);
        }
        Answer(c, script_(req));
      }
      close(c);
    }
  }

  void Answer(int c, const std::string& answer) {
    if (answer.empty()) return;  // dropped
    if (trickle_ms_ > 0) {
      // One byte at a time, the head again and again, until the client
      // gives up (write fails) or Stop().
      for (size_t i = 0; !stop_; ++i) {
        if (send(c, &answer[i % answer.size()], 1, MSG_NOSIGNAL) != 1) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(trickle_ms_));
      }
      return;
    }
    if (send(c, answer.data(), answer.size(), MSG_NOSIGNAL) < 0) return;
    if (!endless_) return;
    const std::string chunk(64 << 10, 'x');
    while (!stop_) {
      ssize_t n = send(c, chunk.data(), chunk.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      streamed_ += n;
    }
  }

  // Reads the head and a Content-Length body (bounded: 5 s, 64 MiB).
  static bool ReadRequest(int c, ScriptedRequest* out) {
    std::string buf;
    size_t head_end = std::string::npos, need = std::string::npos;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    char tmp[65536];
    while (std::chrono::steady_clock::now() < deadline && buf.size() < (64u << 20)) {
      if (head_end == std::string::npos) {
        head_end = buf.find("\r\n\r\n");
        if (head_end != std::string::npos) {
          need = head_end + 4;
          std::string head = buf.substr(0, head_end);
          out->head = head;
          for (char& ch : head)
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          size_t cl = head.find("content-length:");
          if (cl != std::string::npos) need += std::stoul(head.substr(cl + 15));
        }
      }
      if (need != std::string::npos && buf.size() >= need) {
        out->body = buf.substr(head_end + 4, need - head_end - 4);
        return true;
      }
      pollfd p{c, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      ssize_t n = read(c, tmp, sizeof tmp);
      if (n <= 0) break;
      buf.append(tmp, static_cast<size_t>(n));
    }
    return false;
  }

  Script script_;
  int fd_ = -1;
  int port_ = 0;
  bool ok_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<bool> endless_{false};
  std::atomic<int> trickle_ms_{0};
  std::atomic<int64_t> streamed_{0};
  std::mutex mu_;  // guards requests_
  std::vector<ScriptedRequest> requests_;
  std::thread thread_;
};

// A complete HTTP/1.1 answer with a JSON body.
inline std::string HttpAnswer(int status, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace driftwatch::collector_it

#endif  // DRIFTWATCH_TESTS_COLLECTOR_SCRIPTED_COLLECTOR_H_
