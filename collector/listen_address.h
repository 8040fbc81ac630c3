// The collector's listening address: "HOST:PORT" parsing, and a free port
// for port 0.
//
// Thread-safety: pure functions (FreePort binds and releases a socket).
#ifndef DRIFTWATCH_COLLECTOR_LISTEN_ADDRESS_H_
#define DRIFTWATCH_COLLECTOR_LISTEN_ADDRESS_H_

#include <string>

#include "core/status.h"

namespace driftwatch::collector {

// Splits "HOST:PORT" ("[::1]:80" for IPv6). Port 0 is allowed.
Status ParseListenAddress(const std::string& listen, std::string* host, int* port);

// A free TCP port on `host` (an IPv4 or IPv6 literal), found by binding
// port 0; kInvalidArgument for a host name.
Result<int> FreePort(const std::string& host);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_LISTEN_ADDRESS_H_
