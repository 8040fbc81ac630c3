// The request target of an HTTP request line, as the server reads it.
//
// Thread-safety: pure functions.
#ifndef DRIFTWATCH_COLLECTOR_REQUEST_TARGET_H_
#define DRIFTWATCH_COLLECTOR_REQUEST_TARGET_H_

#include <string>
#include <string_view>

#include "collector/api.h"
#include "core/status.h"

namespace driftwatch::collector {

// Paths the API answers; every other path is the dashboard's.
bool IsApiPath(const std::string& path);

// Splits a request target into its percent-decoded path and query, into
// req->path and req->query. kInvalidArgument for a target that cannot be
// decoded or whose path is not absolute.
Status DecodeTarget(std::string_view target, HttpRequest* req);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_REQUEST_TARGET_H_
