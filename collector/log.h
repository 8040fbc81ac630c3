// The collector's log lines (docs/operations.md "Logs"): one line per event,
// each with a time, a level and a message, in one of two formats:
//
//   text: 2026-12-05T01:02:03.456Z info access client=127.0.0.1 method=GET ...
//   json: {"time":"2026-12-05T01:02:03.456Z","level":"info","msg":"access",...}
//
// Text values are written bare when they are made of printable ASCII other
// than space, '"', '\' and '='; else in double quotes with \", \\, \n, \r,
// \t and \xNN escapes, so that one event is always one line and a request's
// bytes cannot forge another line. JSON strings are valid UTF-8 whatever the
// value holds (a byte of invalid UTF-8 is written as the code point of the
// same number).
//
// Thread-safety: FormatLogLine and the parsers are pure; Logger is safe to use
// from any thread (one line is handed to the sink at a time).
#ifndef DRIFTWATCH_COLLECTOR_LOG_H_
#define DRIFTWATCH_COLLECTOR_LOG_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace driftwatch::collector {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kText, kJson };

// "debug", "info", "warn", "error"; kInvalidArgument naming them otherwise.
Result<LogLevel> ParseLogLevel(std::string_view name);
// "text", "json"; kInvalidArgument naming them otherwise.
Result<LogFormat> ParseLogFormat(std::string_view name);
std::string_view LogLevelName(LogLevel level);

// One key=value of a line. Numbers are written without quotes in JSON.
struct LogField {
  LogField(std::string k, std::string v) : key(std::move(k)), value(std::move(v)) {}
  LogField(std::string k, int64_t v) : key(std::move(k)), value(std::to_string(v)), number(true) {}
  LogField(std::string k, double v);
  std::string key;  // [a-z_]+, written as given
  std::string value;
  bool number = false;
};

// The line, ending in '\n'; the time in RFC 3339 UTC with milliseconds.
std::string FormatLogLine(LogFormat format, int64_t time_ns, LogLevel level, std::string_view msg,
                          const std::vector<LogField>& fields);

class Logger {
 public:
  using Sink = std::function<void(std::string_view line)>;
  // `sink` receives whole lines, one at a time; `now_ns` is the clock.
  Logger(Sink sink, std::function<int64_t()> now_ns);

  // Applies from the next line on; any thread.
  void Configure(LogFormat format, LogLevel min_level);
  bool Enabled(LogLevel level) const { return level >= min_level_.load(); }
  void Log(LogLevel level, std::string_view msg, const std::vector<LogField>& fields = {});
  // The line Log would write, whatever the level.
  std::string Line(LogLevel level, std::string_view msg, const std::vector<LogField>& fields) const;

 private:
  Sink sink_;
  std::function<int64_t()> now_ns_;
  std::atomic<LogFormat> format_{LogFormat::kText};
  std::atomic<LogLevel> min_level_{LogLevel::kInfo};
  std::mutex mu_;  // one line at a time into sink_
};

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_LOG_H_
