#include "collector/config.h"

#include "collector/log.h"
#include "collector/store_url.h"

#include <algorithm>

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <set>

namespace driftwatch::collector {
namespace {

std::string Where(const std::string& file, const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

Status CheckKeys(const std::string& file, const YAML::Node& map,
                 const std::set<std::string>& allowed) {
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>();
    if (allowed.count(key) == 0) {
      return Status::InvalidArgument(Where(file, kv.first) + ": unknown key '" + key + "'");
    }
  }
  return Status::Ok();
}

Result<std::string> Scalar(const std::string& file, const YAML::Node& n, const char* what) {
  if (!n.IsScalar())
    return Status::InvalidArgument(Where(file, n) + ": " + what + ": expected a scalar");
  return n.Scalar();
}

// Sets *out from root[key] when present: an integer in [1, 2^32].
template <typename T>
Status PositiveInt(const std::string& file, const YAML::Node& root, const char* key, T* out) {
  const YAML::Node n = root[key];
  if (!n) return Status::Ok();
  DW_ASSIGN_OR_RETURN(std::string s, Scalar(file, n, key));
  char* end = nullptr;
  unsigned long long x = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || x == 0 || x > (1ull << 32)) {
    return Status::InvalidArgument(Where(file, n) + ": " + key + ": expected a positive integer");
  }
  *out = static_cast<T>(x);
  return Status::Ok();
}

// Sets *out_ms from root[key] when present: a duration of at least 1 ms.
Status PositiveDurationMs(const std::string& file, const YAML::Node& root, const char* key,
                          int64_t* out_ms) {
  const YAML::Node n = root[key];
  if (!n) return Status::Ok();
  DW_ASSIGN_OR_RETURN(std::string s, Scalar(file, n, key));
  auto d = ParseDurationNs(s);
  if (!d.ok())
    return Status::InvalidArgument(Where(file, n) + ": " + key + ": " + d.status().message());
  if (*d < 1000000) return Status::InvalidArgument(Where(file, n) + ": " + key + ": at least 1ms");
  *out_ms = *d / 1000000;
  return Status::Ok();
}

Status ParseHttp(const std::string& file, const YAML::Node& http, HttpLimits* out) {
  if (!http.IsMap())
    return Status::InvalidArgument(Where(file, http) + ": http: expected a mapping");
  DW_RETURN_IF_ERROR(CheckKeys(file, http,
                               {"io_threads", "workers", "max_queued", "max_connections",
                                "max_header_bytes", "max_header_fields", "max_inflight_body_bytes",
                                "header_timeout", "body_timeout", "write_timeout"}));
  DW_RETURN_IF_ERROR(PositiveInt(file, http, "io_threads", &out->io_threads));
  DW_RETURN_IF_ERROR(PositiveInt(file, http, "workers", &out->workers));
  DW_RETURN_IF_ERROR(PositiveInt(file, http, "max_queued", &out->max_queued));
  DW_RETURN_IF_ERROR(PositiveInt(file, http, "max_connections", &out->max_connections));
  DW_RETURN_IF_ERROR(PositiveInt(file, http, "max_header_bytes", &out->max_header_bytes));
  DW_RETURN_IF_ERROR(PositiveInt(file, http, "max_header_fields", &out->max_header_fields));
  DW_RETURN_IF_ERROR(
      PositiveInt(file, http, "max_inflight_body_bytes", &out->max_inflight_body_bytes));
  DW_RETURN_IF_ERROR(PositiveDurationMs(file, http, "header_timeout", &out->header_timeout_ms));
  DW_RETURN_IF_ERROR(PositiveDurationMs(file, http, "body_timeout", &out->body_timeout_ms));
  DW_RETURN_IF_ERROR(PositiveDurationMs(file, http, "write_timeout", &out->write_timeout_ms));
  if (out->io_threads > 64 || out->workers > 1024) {
    return Status::InvalidArgument(Where(file, http) +
                                   ": http: at most 64 io_threads and 1024 workers");
  }
  if (out->max_header_bytes < 1024) {
    return Status::InvalidArgument(Where(file, http) + ": http: max_header_bytes: at least 1024");
  }
  return Status::Ok();
}

// The service keys: strings, `store` and `db` exclusive.
Status ParseService(const std::string& file, const YAML::Node& root, CollectorConfig* c) {
  for (auto [key, out] :
       {std::pair{"listen", &c->listen}, std::pair{"store", &c->store}, std::pair{"db", &c->db},
        std::pair{"tls_cert", &c->tls_cert}, std::pair{"tls_key", &c->tls_key},
        std::pair{"web_root", &c->web_root}, std::pair{"log_file", &c->log_file},
        std::pair{"log_format", &c->log_format}, std::pair{"log_level", &c->log_level}}) {
    const YAML::Node n = root[key];
    if (!n) continue;
    DW_ASSIGN_OR_RETURN(*out, Scalar(file, n, key));
    if (out->empty()) return Status::InvalidArgument(Where(file, n) + ": " + key + ": empty");
  }
  if (const YAML::Node n = root["log_format"]) {
    if (auto f = ParseLogFormat(c->log_format); !f.ok()) {
      return Status::InvalidArgument(Where(file, n) + ": log_format: expected text or json");
    }
  }
  if (const YAML::Node n = root["log_level"]) {
    if (auto l = ParseLogLevel(c->log_level); !l.ok()) {
      return Status::InvalidArgument(Where(file, n) +
                                     ": log_level: expected debug, info, warn or error");
    }
  }
  if (root["store"] && root["db"]) {
    return Status::InvalidArgument(Where(file, root["db"]) + ": give either store or db, not both");
  }
  if (const YAML::Node n = root["store"]) {
    auto url = ParseStoreUrl(c->store);
    if (!url.ok()) {
      return Status::InvalidArgument(Where(file, n) + ": store: " + url.status().message());
    }
  }
  DW_RETURN_IF_ERROR(PositiveInt(file, root, "store_pool", &c->store_pool));
  if (c->store_pool > 1024) {
    return Status::InvalidArgument(Where(file, root["store_pool"]) + ": store_pool: at most 1024");
  }
  if (root["tls_cert"].IsDefined() != root["tls_key"].IsDefined()) {
    const YAML::Node n = root["tls_cert"] ? root["tls_cert"] : root["tls_key"];
    return Status::InvalidArgument(Where(file, n) + ": tls_cert and tls_key go together");
  }
  return Status::Ok();
}

Result<CollectorConfig> ParseRoot(const std::string& file, const YAML::Node& root) {
  CollectorConfig c;
  if (!root || root.IsNull()) return c;
  if (!root.IsMap()) return Status::InvalidArgument(Where(file, root) + ": expected a mapping");
  DW_RETURN_IF_ERROR(
      CheckKeys(file, root,
                {"version", "listen", "store", "db", "store_pool", "tls_cert", "tls_key",
                 "web_root", "log_file", "log_format", "log_level", "retention", "silent_after",
                 "max_body_bytes", "max_events_per_report", "alerts", "http"}));
  const YAML::Node version = root["version"];
  if (!version) return Status::InvalidArgument(file + ": missing 'version: 1'");
  DW_ASSIGN_OR_RETURN(std::string v, Scalar(file, version, "version"));
  if (v != "1") {
    return Status::Unsupported(Where(file, version) + ": config version " + v +
                               " is not supported (this build knows version 1)");
  }
  DW_RETURN_IF_ERROR(ParseService(file, root, &c));
  for (auto [key, out] :
       {std::pair{"retention", &c.retention_ns}, std::pair{"silent_after", &c.silent_after_ns}}) {
    if (const YAML::Node n = root[key]) {
      DW_ASSIGN_OR_RETURN(std::string s, Scalar(file, n, key));
      auto d = ParseDurationNs(s);
      if (!d.ok())
        return Status::InvalidArgument(Where(file, n) + ": " + key + ": " + d.status().message());
      *out = *d;
    }
  }
  for (auto [key, out] : {std::pair{"max_body_bytes", &c.max_body_bytes},
                          std::pair{"max_events_per_report", &c.max_events_per_report}}) {
    DW_RETURN_IF_ERROR(PositiveInt(file, root, key, out));
  }
  if (const YAML::Node http = root["http"]) {
    DW_RETURN_IF_ERROR(ParseHttp(file, http, &c.http));
  }
  c.http.max_body_bytes = c.max_body_bytes;
  if (c.http.max_inflight_body_bytes < c.max_body_bytes) {
    return Status::InvalidArgument(
        file + ": http.max_inflight_body_bytes (" + std::to_string(c.http.max_inflight_body_bytes) +
        ") is less than max_body_bytes (" + std::to_string(c.max_body_bytes) + ")");
  }
  // The two caps agree (docs/collector.md "Report size"): unless set, the
  // event cap follows the body cap, and one no body under the cap could
  // reach is refused.
  if (!root["max_events_per_report"]) {
    c.max_events_per_report = std::max<size_t>(1, c.max_body_bytes / kTypicalEventWireBytes);
  } else if (c.max_events_per_report > c.max_body_bytes / kMinEventWireBytes) {
    return Status::InvalidArgument(
        Where(file, root["max_events_per_report"]) +
        ": max_events_per_report: " + std::to_string(c.max_events_per_report) +
        " events cannot fit in max_body_bytes " + std::to_string(c.max_body_bytes) +
        " (an event takes at least " + std::to_string(kMinEventWireBytes) + " bytes); at most " +
        std::to_string(c.max_body_bytes / kMinEventWireBytes));
  }
  if (const YAML::Node alerts = root["alerts"]) {
    if (!alerts.IsSequence()) {
      return Status::InvalidArgument(Where(file, alerts) + ": alerts: expected a list");
    }
    std::set<std::string> names;
    for (const YAML::Node& a : alerts) {
      if (!a.IsMap()) return Status::InvalidArgument(Where(file, a) + ": expected a mapping");
      DW_RETURN_IF_ERROR(
          CheckKeys(file, a, {"name", "min_severity", "groups", "webhook", "format", "syslog"}));
      AlertRule r;
      if (!a["name"]) return Status::InvalidArgument(Where(file, a) + ": alert needs a name");
      DW_ASSIGN_OR_RETURN(r.name, Scalar(file, a["name"], "name"));
      if (!names.insert(r.name).second) {
        return Status::InvalidArgument(Where(file, a["name"]) + ": duplicate alert name '" +
                                       r.name + "'");
      }
      if (const YAML::Node n = a["min_severity"]) {
        DW_ASSIGN_OR_RETURN(std::string s, Scalar(file, n, "min_severity"));
        auto sev = ParseSeverity(s);
        if (!sev.ok())
          return Status::InvalidArgument(Where(file, n) + ": " + sev.status().message());
        r.min_severity = *sev;
      }
      if (const YAML::Node g = a["groups"]) {
        if (!g.IsSequence())
          return Status::InvalidArgument(Where(file, g) + ": groups: expected a list");
        for (const YAML::Node& x : g) {
          DW_ASSIGN_OR_RETURN(std::string s, Scalar(file, x, "groups"));
          r.groups.push_back(s);
        }
      }
      if (const YAML::Node n = a["webhook"]) {
        DW_ASSIGN_OR_RETURN(r.webhook, Scalar(file, n, "webhook"));
        if (r.webhook.rfind("http://", 0) != 0 && r.webhook.rfind("https://", 0) != 0) {
          return Status::InvalidArgument(Where(file, n) + ": webhook: expected an http(s) URL");
        }
      }
      if (const YAML::Node n = a["format"]) {
        DW_ASSIGN_OR_RETURN(std::string f, Scalar(file, n, "format"));
        if (f != "json" && f != "slack") {
          return Status::InvalidArgument(Where(file, n) + ": format: expected json or slack");
        }
        r.slack = f == "slack";
      }
      if (const YAML::Node n = a["syslog"]) {
        DW_ASSIGN_OR_RETURN(std::string s, Scalar(file, n, "syslog"));
        if (s != "true" && s != "false") {
          return Status::InvalidArgument(Where(file, n) + ": syslog: expected true or false");
        }
        r.syslog = s == "true";
      }
      if (r.webhook.empty() && !r.syslog) {
        return Status::InvalidArgument(Where(file, a) + ": alert '" + r.name +
                                       "' has neither a webhook nor syslog");
      }
      c.alerts.push_back(std::move(r));
    }
  }
  return c;
}

}  // namespace

std::vector<std::string> KeepRestartOnlyKeys(const CollectorConfig& running,
                                             CollectorConfig* next) {
  std::vector<std::string> changed;
  auto keep = [&](const char* name, auto CollectorConfig::*field) {
    if (next->*field != running.*field) {
      changed.push_back(name);
      next->*field = running.*field;
    }
  };
  keep("listen", &CollectorConfig::listen);
  keep("store", &CollectorConfig::store);
  keep("db", &CollectorConfig::db);
  keep("store_pool", &CollectorConfig::store_pool);
  keep("tls_cert", &CollectorConfig::tls_cert);
  keep("tls_key", &CollectorConfig::tls_key);
  keep("web_root", &CollectorConfig::web_root);
  if (next->http.io_threads != running.http.io_threads) {
    changed.push_back("http.io_threads");
    next->http.io_threads = running.http.io_threads;
  }
  if (next->http.workers != running.http.workers) {
    changed.push_back("http.workers");
    next->http.workers = running.http.workers;
  }
  return changed;
}

Result<CollectorConfig> ParseCollectorConfig(std::string_view yaml, const std::string& file) {
  try {
    return ParseRoot(file, YAML::Load(std::string(yaml)));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(file + ":" + std::to_string(e.mark.line + 1) + ":" +
                                   std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

Result<CollectorConfig> LoadCollectorConfig(Host& host, const std::string& path) {
  DW_ASSIGN_OR_RETURN(std::string text, host.ReadFile(path, kMaxConfigBytes));
  return ParseCollectorConfig(text, path);
}

}  // namespace driftwatch::collector
