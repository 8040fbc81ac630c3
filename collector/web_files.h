// Static files of the web dashboard (web/, docs/dashboard.md), served by the
// collector for every GET or HEAD request outside /api/, /healthz and
// /metrics.
//
// ServeWebFile() maps one request path onto one regular file below the web
// root and never outside it:
//   - "/" is "/index.html"; any other directory is 404;
//   - a path with a ".", ".." or empty component, a component starting with
//     ".", a backslash or a NUL byte, or longer than kMaxWebPathBytes is 404
//     (the server percent-decodes before, so "%2e%2e" arrives here as "..");
//   - components are opened one at a time below the root with O_NOFOLLOW, so
//     a symlink anywhere below the root is never followed (404), whatever it
//     points at; the root itself may be a symlink (the operator chose it);
//   - only known extensions are served (.html .js .mjs .css .svg .png .ico
//     .json .txt .woff2), each with its fixed Content-Type; others are 404;
//   - files larger than kMaxWebFileBytes are 404 (the dashboard's assets are
//     small; a big file there is a mistake, not something to stream);
//   - methods other than GET and HEAD are 405; HEAD gets the headers of GET
//     and an empty body.
// Every response, errors included, carries the headers of
// WebSecurityHeaders(): a Content-Security-Policy without inline script,
// X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer, and a
// Cache-Control that makes browsers revalidate (assets change on upgrade).
//
// Thread-safety: ServeWebFile() is safe to call from many threads at once
// (it only reads through the Host).
#ifndef DRIFTWATCH_COLLECTOR_WEB_FILES_H_
#define DRIFTWATCH_COLLECTOR_WEB_FILES_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/host.h"

namespace driftwatch::collector {

inline constexpr size_t kMaxWebPathBytes = 1024;
inline constexpr size_t kMaxWebFileBytes = 4 << 20;

struct WebResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  // Extra response headers, in order (the security headers).
  std::vector<std::pair<std::string, std::string>> headers;
};

// The headers every dashboard response carries (see above).
std::vector<std::pair<std::string, std::string>> WebSecurityHeaders();

// The Content-Type served for `path` by its extension, or "" when the
// extension is not one the dashboard uses.
std::string_view WebContentType(std::string_view path);

// Serves `path` (percent-decoded, without the query) from `web_root`, reading
// through `host`. A missing or unreadable web root is 404 for every path.
WebResponse ServeWebFile(Host& host, const std::string& web_root, const std::string& method,
                         const std::string& path);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_WEB_FILES_H_
