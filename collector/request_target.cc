// Request targets (request_target.h).
#include "collector/request_target.h"

#include <cpprest/uri.h>

#include <exception>

namespace driftwatch::collector {

bool IsApiPath(const std::string& path) {
  return path == "/healthz" || path == "/metrics" || path == "/api" || path.rfind("/api/", 0) == 0;
}

Status DecodeTarget(std::string_view target, HttpRequest* req) {
  const size_t q = target.find('?');
  try {
    req->path = web::uri::decode(std::string(target.substr(0, q)));
    if (q != std::string_view::npos) {
      for (const auto& [k, v] : web::uri::split_query(std::string(target.substr(q + 1)))) {
        req->query.emplace_back(web::uri::decode(k), web::uri::decode(v));
      }
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("malformed request target: ") + e.what());
  }
  if (req->path.empty() || req->path[0] != '/') {
    return Status::InvalidArgument("malformed request target: expected an absolute path");
  }
  return Status::Ok();
}

}  // namespace driftwatch::collector
