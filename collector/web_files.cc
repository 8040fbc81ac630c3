#include "collector/web_files.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <array>

namespace driftwatch::collector {
namespace {

struct TypeByExtension {
  std::string_view extension;
  std::string_view content_type;
};

constexpr std::array<TypeByExtension, 10> kTypes = {{
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
    {".woff2", "font/woff2"},
}};

WebResponse Plain(int status, std::string body) {
  WebResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

WebResponse NotFound() { return Plain(404, "not found\n"); }

// Splits an absolute request path into its components; false when any
// component could name something other than a plain entry below the root.
bool SplitSafe(std::string_view path, std::vector<std::string>* parts) {
  if (path.empty() || path.front() != '/' || path.size() > kMaxWebPathBytes) return false;
  if (path.find('\0') != std::string_view::npos || path.find('\\') != std::string_view::npos) {
    return false;
  }
  path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    // Empty ("a//b", trailing "/"), ".", ".." and hidden names are refused.
    if (part.empty() || part.front() == '.') return false;
    parts->emplace_back(part);
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

// Reads the regular file open at fd, at most kMaxWebFileBytes.
Result<std::string> ReadSmallFile(Host& host, int fd, size_t size) {
  std::string out(size, '\0');
  size_t got = 0;
  while (got < size) {
    DW_ASSIGN_OR_RETURN(size_t n, host.Read(fd, out.data() + got, size - got));
    if (n == 0) break;  // truncated meanwhile: serve what is there
    got += n;
  }
  out.resize(got);
  return out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> WebSecurityHeaders() {
  return {
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Frame-Options", "DENY"},
      {"Cache-Control", "no-cache"},
  };
}

std::string_view WebContentType(std::string_view path) {
  size_t slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return "";
  std::string_view ext = name.substr(dot);
  for (const TypeByExtension& t : kTypes) {
    if (t.extension == ext) return t.content_type;
  }
  return "";
}

WebResponse ServeWebFile(Host& host, const std::string& web_root, const std::string& method,
                         const std::string& path) {
  WebResponse r = [&]() -> WebResponse {
    if (method != "GET" && method != "HEAD") {
      return Plain(405, "method " + method + " not allowed on the dashboard\n");
    }
    std::vector<std::string> parts;
    if (!SplitSafe(path == "/" ? "/index.html" : std::string_view(path), &parts)) {
      return NotFound();
    }
    const std::string_view type = WebContentType(parts.back());
    if (type.empty() || web_root.empty()) return NotFound();

    auto root = host.OpenAt(AT_FDCWD, web_root, O_RDONLY | O_DIRECTORY);
    if (!root.ok()) return Plain(404, "dashboard files not found\n");
    UniqueFd dir = std::move(root).value();
    // One component at a time, never following a symlink: nothing outside
    // the root can be reached, whatever the tree below it contains.
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      auto sub = host.OpenAt(dir.get(), parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      if (!sub.ok()) return NotFound();
      dir = std::move(sub).value();
    }
    // O_NONBLOCK: a FIFO planted under the root must not hang the request.
    auto file = host.OpenAt(dir.get(), parts.back(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (!file.ok()) return NotFound();
    struct stat st {};
    if (!host.Fstat(file->get(), &st).ok() || !S_ISREG(st.st_mode)) return NotFound();
    if (static_cast<uint64_t>(st.st_size) > kMaxWebFileBytes) return NotFound();
    WebResponse ok;
    ok.content_type = std::string(type);
    if (method == "GET") {
      auto body = ReadSmallFile(host, file->get(), static_cast<size_t>(st.st_size));
      if (!body.ok()) return Plain(500, "cannot read dashboard file\n");
      ok.body = std::move(body).value();
    }
    return ok;
  }();
  r.headers = WebSecurityHeaders();
  return r;
}

}  // namespace driftwatch::collector
