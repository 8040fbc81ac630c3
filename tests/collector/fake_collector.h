// A misbehaving collector for the fault tests: a loopback HTTP listener that
// answers every request with 500, or accepts connections and never answers.
// It counts requests, and among them report uploads (POST /api/v1/reports),
// so tests can check how often an agent retries.
#ifndef DRIFTWATCH_TESTS_COLLECTOR_FAKE_COLLECTOR_H_
#define DRIFTWATCH_TESTS_COLLECTOR_FAKE_COLLECTOR_H_

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace driftwatch::collector_it {

class FakeCollector {
 public:
  enum class Mode { kAnswer500, kHang };

  FakeCollector(Mode mode, int port) : mode_(mode) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    ok_ = bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && listen(fd_, 64) == 0;
    if (ok_) thread_ = std::thread([this] { Loop(); });
  }
  ~FakeCollector() { Stop(); }

  bool ok() const { return ok_; }
  int requests() const { return requests_; }
  // Requests that were report uploads (an agent's command polls are not).
  int reports() const { return reports_; }
  int connections() const { return connections_; }

  // Closes the listener and every connection it holds open.
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (int c : held_) close(c);
    held_.clear();
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
      ++connections_;
      if (mode_ == Mode::kHang) {
        held_.push_back(c);  // read nothing, answer nothing
        continue;
      }
      std::string head;
      if (ReadRequest(c, &head)) {
        ++requests_;
        if (head.rfind("POST /api/v1/reports ", 0) == 0) ++reports_;
      }
      static const std::string kBody = R"({"error":"internal","detail":"injected failure"})";
      const std::string resp =
          "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
          "Connection: close\r\nContent-Length: " +
          std::to_string(kBody.size()) + "\r\n\r\n" + kBody;
      (void)!write(c, resp.data(), resp.size());
      close(c);
    }
  }

  // Reads the head (into *head) and a Content-Length body (bounded: 2 s,
  // 64 MiB).
  static bool ReadRequest(int c, std::string* head_out) {
    std::string buf;
    size_t need = std::string::npos;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    char tmp[65536];
    while (std::chrono::steady_clock::now() < deadline && buf.size() < (64u << 20)) {
      size_t head_end = buf.find("\r\n\r\n");
      if (head_end != std::string::npos && need == std::string::npos) {
        need = head_end + 4;
        std::string head = buf.substr(0, head_end);
        *head_out = head;
        for (char& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        size_t cl = head.find("content-length:");
        if (cl != std::string::npos) need += std::stoul(head.substr(cl + 15));
      }
      if (need != std::string::npos && buf.size() >= need) return true;
      pollfd p{c, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      ssize_t n = read(c, tmp, sizeof tmp);
      if (n <= 0) break;
      buf.append(tmp, static_cast<size_t>(n));
    }
    return need != std::string::npos && buf.size() >= need;
  }

  Mode mode_;
  int fd_ = -1;
  bool ok_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::atomic<int> reports_{0};
  std::atomic<int> connections_{0};
  std::vector<int> held_;  // touched by the loop thread only until Stop() joined it
  std::thread thread_;
};

}  // namespace driftwatch::collector_it

#endif  // DRIFTWATCH_TESTS_COLLECTOR_FAKE_COLLECTOR_H_
