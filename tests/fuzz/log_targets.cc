// Fuzz target of what the collector logs about a request (see
// tests/fuzz/targets.h): the route template of any path, and a log line
// quoting the path, in both formats.
#include <cpprest/json.h>

#include "collector/log.h"
#include "collector/request_log.h"
#include "core/drift.h"
#include "tests/fuzz/targets.h"

namespace driftwatch::fuzz {

// The path is untrusted: its route template stays within the API's routes
// (bounded length, no byte of the path beyond the fixed words), and a line
// quoting it is one line; the JSON line parses and gives the path back when
// it is valid UTF-8.
std::string FuzzRequestLog(std::string_view input) {
  const std::string path(input);
  const std::string route = collector::RouteTemplate(path);
  if (route.size() > 80) return "route template longer than 80 bytes: " + route;
  if (route != "-" && route[0] != '/') return "route template not a path: " + route;
  for (char c : route) {
    if (!((c >= 'a' && c <= 'z') || c == '/' || c == '{' || c == '}' || c == '-' || c == '1' ||
          c == 'v')) {
      return "route template holds a byte of the path: " + route;
    }
  }
  for (auto format : {collector::LogFormat::kText, collector::LogFormat::kJson}) {
    const std::string line = collector::FormatLogLine(format, 0, collector::LogLevel::kInfo, path,
                                                      {{"path", path}, {"route", route}});
    if (line.empty() || line.back() != '\n' || line.find('\n') != line.size() - 1) {
      return "not exactly one line";
    }
    if (format != collector::LogFormat::kJson) continue;
    try {
      const web::json::value v = web::json::value::parse(line.substr(0, line.size() - 1));
      if (IsValidUtf8(path) && path.find('\0') == std::string::npos &&
          v.at("path").as_string() != path) {
        return "the JSON line does not give the path back";
      }
    } catch (const std::exception& e) {
      return std::string("the JSON line does not parse: ") + e.what();
    }
  }
  return "";
}

}  // namespace driftwatch::fuzz
