#include "agent/report/agent_config.h"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <set>

#include "agent/check.h"

namespace driftwatch::report {
namespace {

std::string Where(const std::string& file, const YAML::Mark& m) {
  return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

Result<DaemonConfig> ParseRoot(const std::string& file, const YAML::Node& root) {
  DaemonConfig c;
  c.db = agent::DefaultDbPath();
  c.rules = agent::DefaultRulesPath();
  if (!root || root.IsNull()) return Status::InvalidArgument(file + ": empty; needs 'version: 1'");
  if (!root.IsMap())
    return Status::InvalidArgument(Where(file, root.Mark()) + ": expected a mapping");
  static const std::set<std::string> kKeys = {
      "version", "collector", "token_file", "host_id", "ca_file",       "db",        "rules",
      "root",    "baseline",  "interval",   "jitter",  "poll_interval", "outbox_max"};
  bool have_version = false;
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    const std::string at = Where(file, v.Mark());
    if (kKeys.count(key) == 0) {
      return Status::InvalidArgument(Where(file, kv.first.Mark()) + ": unknown key '" + key + "'");
    }
    if (!v.IsScalar()) return Status::InvalidArgument(at + ": " + key + ": expected a scalar");
    const std::string s = v.Scalar();
    if (key == "version") {
      if (s != "1") {
        return Status::Unsupported(at + ": agent config version " + s +
                                   " is not supported (this build knows version 1)");
      }
      have_version = true;
    } else if (key == "collector") {
      if (s.rfind("http://", 0) != 0 && s.rfind("https://", 0) != 0) {
        return Status::InvalidArgument(at + ": collector: expected an http(s) URL");
      }
      c.collector = s;
    } else if (key == "token_file") {
      c.token_file = s;
    } else if (key == "host_id") {
      c.host_id = s;
    } else if (key == "ca_file") {
      c.ca_file = s;
    } else if (key == "db") {
      c.db = s;
    } else if (key == "rules") {
      c.rules = s;
    } else if (key == "root") {
      c.root = s;
    } else if (key == "baseline") {
      c.baseline = s;
    } else if (key == "outbox_max") {
      char* end = nullptr;
      long long n = std::strtoll(s.c_str(), &end, 10);
      if (s.empty() || *end != '\0' || n < 2 || n > 1000000) {
        return Status::InvalidArgument(at + ": outbox_max: expected an integer from 2 to 1000000");
      }
      c.outbox_max = n;
    } else {
      auto d = ParseDuration(s);
      if (!d.ok()) return Status::InvalidArgument(at + ": " + key + ": " + d.status().message());
      if (key == "interval") c.interval_ns = *d;
      if (key == "jitter") c.jitter_ns = *d;
      if (key == "poll_interval") c.poll_interval_ns = *d;
      if ((key == "interval" || key == "poll_interval") && *d < 100000000) {
        return Status::InvalidArgument(at + ": " + key + ": must be at least 100ms");
      }
    }
  }
  if (!have_version) return Status::InvalidArgument(file + ": missing 'version: 1'");
  if (!c.token_file.empty() && (c.host_id.empty() || c.collector.empty())) {
    return Status::InvalidArgument(file + ": token_file needs host_id and collector");
  }
  return c;
}

}  // namespace

Result<int64_t> ParseDuration(std::string_view text) {
  size_t i = 0;
  int64_t n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (n > (int64_t{1} << 40)) return Status::InvalidArgument("duration too large");
    n = n * 10 + (text[i++] - '0');
  }
  const Status bad = Status::InvalidArgument("expected a duration such as 30s, 15m, 2h or 1d");
  if (i == 0) return bad;
  std::string_view unit = text.substr(i);
  int64_t mult;
  if (unit.empty() || unit == "s") {
    mult = 1000000000;
  } else if (unit == "ms") {
    mult = 1000000;
  } else if (unit == "m") {
    mult = int64_t{60} * 1000000000;
  } else if (unit == "h") {
    mult = int64_t{3600} * 1000000000;
  } else if (unit == "d") {
    mult = int64_t{86400} * 1000000000;
  } else {
    return bad;
  }
  if (n > INT64_MAX / mult) return Status::InvalidArgument("duration too large");
  return n * mult;
}

Result<DaemonConfig> ParseDaemonConfig(std::string_view yaml, const std::string& file) {
  try {
    return ParseRoot(file, YAML::Load(std::string(yaml)));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(Where(file, e.mark) + ": " + e.msg);
  }
}

Result<DaemonConfig> LoadDaemonConfig(Host& host, const std::string& path) {
  DW_ASSIGN_OR_RETURN(std::string text, host.ReadFile(path, size_t{1} << 20));
  return ParseDaemonConfig(text, path);
}

}  // namespace driftwatch::report
