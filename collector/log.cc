#include "collector/log.h"

#include <time.h>

#include <cstdio>

#include "core/drift.h"

namespace driftwatch::collector {
namespace {

bool IsBare(std::string_view v) {
  if (v.empty()) return false;
  for (unsigned char c : v) {
    if (c <= ' ' || c >= 0x7f || c == '"' || c == '\\' || c == '=') return false;
  }
  return true;
}

void AppendHex(unsigned char c, const char* prefix, std::string* out) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%s%02x", prefix, c);
  out->append(buf);
}

// `v` in double quotes with ", \, newline, return and tab escaped by a
// backslash, and other control bytes (and, when `v` is not valid UTF-8, bytes
// from 0x80 on) as `hex_prefix` and two hex digits: logfmt's "\x" and JSON's
// "\u00" escapes are the same but for that prefix.
void AppendQuoted(std::string_view v, const char* hex_prefix, std::string* out) {
  const bool utf8 = IsValidUtf8(v);
  out->push_back('"');
  for (unsigned char c : v) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8)) {
          AppendHex(c, hex_prefix, out);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

// logfmt's value: bare when it can be, else quoted. Bytes from 0x80 on are
// kept when the value is valid UTF-8 (a path's name), else \xNN.
void AppendTextValue(std::string_view v, std::string* out) {
  if (IsBare(v)) {
    out->append(v);
    return;
  }
  AppendQuoted(v, "\\x", out);
}

void AppendJsonString(std::string_view v, std::string* out) { AppendQuoted(v, "\\u00", out); }

std::string FormatTime(int64_t ns) {
  const time_t secs = static_cast<time_t>(ns / 1000000000);
  tm t{};
  gmtime_r(&secs, &t);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                static_cast<int>((ns % 1000000000) / 1000000));
  return buf;
}

}  // namespace

LogField::LogField(std::string k, double v) : key(std::move(k)), number(true) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  value = buf;
}

Result<LogLevel> ParseLogLevel(std::string_view name) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (name == LogLevelName(l)) return l;
  }
  return Status::InvalidArgument("log level '" + std::string(name) +
                                 "': expected debug, info, warn or error");
}

Result<LogFormat> ParseLogFormat(std::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return Status::InvalidArgument("log format '" + std::string(name) + "': expected text or json");
}

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

std::string FormatLogLine(LogFormat format, int64_t time_ns, LogLevel level, std::string_view msg,
                          const std::vector<LogField>& fields) {
  std::string out;
  out.reserve(128 + 32 * fields.size());
  if (format == LogFormat::kJson) {
    out += "{\"time\":\"" + FormatTime(time_ns) + "\",\"level\":\"";
    out += LogLevelName(level);
    out += "\",\"msg\":";
    AppendJsonString(msg, &out);
    for (const LogField& f : fields) {
      out += ",\"" + f.key + "\":";
      if (f.number) {
        out += f.value;
      } else {
        AppendJsonString(f.value, &out);
      }
    }
    out += "}\n";
    return out;
  }
  out += FormatTime(time_ns);
  out += ' ';
  out += LogLevelName(level);
  out += ' ';
  AppendTextValue(msg, &out);
  for (const LogField& f : fields) {
    out += ' ' + f.key + '=';
    AppendTextValue(f.value, &out);
  }
  out += '\n';
  return out;
}

Logger::Logger(Sink sink, std::function<int64_t()> now_ns)
    : sink_(std::move(sink)), now_ns_(std::move(now_ns)) {}

void Logger::Configure(LogFormat format, LogLevel min_level) {
  format_ = format;
  min_level_ = min_level;
}

std::string Logger::Line(LogLevel level, std::string_view msg,
                         const std::vector<LogField>& fields) const {
  return FormatLogLine(format_.load(), now_ns_(), level, msg, fields);
}

void Logger::Log(LogLevel level, std::string_view msg, const std::vector<LogField>& fields) {
  if (!Enabled(level)) return;
  const std::string line = Line(level, msg, fields);
  std::lock_guard<std::mutex> lock(mu_);
  sink_(line);
}

}  // namespace driftwatch::collector
