// Raw HTTP/1.1 over plain sockets for the collector tests that must send
// what no well-behaved client sends (pipelined, truncated, oversized or
// slow requests) and see the answer byte for byte.
#ifndef DRIFTWATCH_TESTS_COLLECTOR_RAW_HTTP_H_
#define DRIFTWATCH_TESTS_COLLECTOR_RAW_HTTP_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <string_view>

#include "tests/collector/harness.h"

namespace driftwatch::collector_it {

inline int PortOf(const std::string& url) {
  return std::atoi(url.substr(url.rfind(':') + 1).c_str());
}

inline int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

inline void SetTimeouts(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

inline bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// The status code of an HTTP response's first line, or 0.
inline int StatusOf(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
  return std::atoi(response.c_str() + 9);
}

// One request on a fresh plain connection ("Connection: close"), reading
// the answer to EOF. status -1 when the connection failed.
inline Answer RawHttp(int port, const std::string& method, const std::string& target,
                      const std::string& token, const std::string& body, int timeout_ms = 30000) {
  Answer a;
  a.status = -1;
  int fd = Connect(port);
  if (fd < 0) return a;
  SetTimeouts(fd, timeout_ms);
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty() || method == "POST") {
    req +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n";
  req += body;
  std::string resp;
  if (SendAll(fd, req)) {
    char buf[65536];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) resp.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  a.status = StatusOf(resp);
  if (a.status == 0) a.status = -1;
  size_t split = resp.find("\r\n\r\n");
  a.body = split == std::string::npos ? resp : resp.substr(split + 4);
  return a;
}

// Sends `bytes` on a fresh connection and reads until the peer closes or
// `timeout_ms` passes without data; everything read.
inline std::string Exchange(int port, const std::string& bytes, int timeout_ms = 5000) {
  int fd = Connect(port);
  if (fd < 0) return "";
  SetTimeouts(fd, timeout_ms);
  std::string resp;
  if (SendAll(fd, bytes)) {
    char buf[65536];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) resp.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return resp;
}

}  // namespace driftwatch::collector_it

#endif  // DRIFTWATCH_TESTS_COLLECTOR_RAW_HTTP_H_
