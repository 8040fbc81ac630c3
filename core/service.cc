#include "core/service.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

namespace driftwatch::service {
namespace {

// The sd_notify(3) protocol: one datagram of "KEY=VALUE\n..." to the
// AF_UNIX socket named by $NOTIFY_SOCKET (a path, or "@name" in the
// abstract namespace). Written here rather than linked from libsystemd,
// whose six further libraries lengthen every start of the process.
void Notify(const std::string& message) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || (path[0] != '/' && path[0] != '@')) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const size_t len = std::strlen(path);
  if (len >= sizeof(addr.sun_path)) return;
  std::memcpy(addr.sun_path, path, len);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr),
         static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len));
  close(fd);
}

}  // namespace

void NotifyReady(std::string_view status) {
  std::string msg = "READY=1";
  if (!status.empty()) msg += "\nSTATUS=" + std::string(status);
  Notify(msg);
}

void NotifyReloading() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const long long usec = static_cast<long long>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
  Notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void NotifyStopping() { Notify("STOPPING=1"); }

void NotifyStatus(std::string_view status) { Notify("STATUS=" + std::string(status)); }

void IgnoreHangupEarly(int argc, char** argv, const char* command) {
  const char* first = argc > 1 && argv != nullptr ? argv[1] : nullptr;
  const bool match = *command != '\0' ? first != nullptr && std::strcmp(first, command) == 0
                                      : first == nullptr || std::strncmp(first, "--", 2) == 0;
  if (match) signal(SIGHUP, SIG_IGN);
}

}  // namespace driftwatch::service
