#include "report/agent_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <iterator>

#include "agent/check.h"

namespace driftwatch::report {
namespace {

// Every key, in the order FormatDaemonConfig writes them.
constexpr const char* kKeys[] = {"version",
                                 "collector",
                                 "token_file",
                                 "host_id",
                                 "ca_file",
                                 "db",
                                 "rules",
                                 "root",
                                 "baseline",
                                 "interval",
                                 "jitter",
                                 "poll_interval",
                                 "outbox_max",
                                 "jobs",
                                 "nice",
                                 "verify_packages",
                                 "min_severity",
                                 "enroll_file",
                                 "metrics_file",
                                 "realtime",
                                 "allow_remote_restore",
                                 "require_signed_baselines",
                                 "trusted_keys",
                                 "containers"};

// The keys of `containers:`, in the order FormatDaemonConfig writes them.
constexpr const char* kContainerKeys[] = {"docker_roots", "containerd_roots", "containerd_states",
                                          "storage_roots"};
constexpr size_t kMaxContainerRoots = 64;  // per key

std::string Where(const std::string& file, const YAML::Mark& m) {
  return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

// An integer in [lo, hi], or an error naming the key and the range.
Result<int64_t> IntIn(const std::string& at, const std::string& key, const std::string& s,
                      int64_t lo, int64_t hi) {
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0 || n < lo || n > hi) {
    return Status::InvalidArgument(at + ": " + key + ": expected an integer from " +
                                   std::to_string(lo) + " to " + std::to_string(hi));
  }
  return n;
}

Status SetKey(const std::string& at, const std::string& key, const std::string& s,
              DaemonConfig& c) {
  if (key == "version") {
    if (s != "1") {
      return Status::Unsupported(at + ": agent config version " + s +
                                 " is not supported (this build knows version 1)");
    }
  } else if (key == "collector") {
    if (!s.empty() && s.rfind("http://", 0) != 0 && s.rfind("https://", 0) != 0) {
      return Status::InvalidArgument(at + ": collector: expected an http(s) URL");
    }
    c.collector = s;
  } else if (key == "token_file") {
    c.token_file = s;
  } else if (key == "host_id") {
    c.host_id = s;
  } else if (key == "ca_file") {
    c.ca_file = s;
  } else if (key == "metrics_file") {
    c.metrics_file = s;
  } else if (key == "db" || key == "rules" || key == "root" || key == "baseline" ||
             key == "enroll_file") {
    if (s.empty()) return Status::InvalidArgument(at + ": " + key + ": must not be empty");
    if (key == "db") c.db = s;
    if (key == "rules") c.rules = s;
    if (key == "root") c.root = s;
    if (key == "baseline") c.baseline = s;
    if (key == "enroll_file") c.enroll_file = s;
  } else if (key == "outbox_max") {
    DW_ASSIGN_OR_RETURN(c.outbox_max, IntIn(at, key, s, 2, 1000000));
  } else if (key == "jobs") {
    DW_ASSIGN_OR_RETURN(int64_t n, IntIn(at, key, s, 0, 256));
    c.jobs = static_cast<int>(n);
  } else if (key == "nice") {
    DW_ASSIGN_OR_RETURN(int64_t n, IntIn(at, key, s, 0, 19));
    c.nice = static_cast<int>(n);
  } else if (key == "verify_packages") {
    if (s != "true" && s != "false") {
      return Status::InvalidArgument(at + ": verify_packages: expected true or false");
    }
    c.verify_packages = s == "true";
  } else if (key == "realtime") {
    if (s != "true" && s != "false") {
      return Status::InvalidArgument(at + ": realtime: expected true or false");
    }
    c.realtime = s == "true";
  } else if (key == "allow_remote_restore") {
    if (s != "true" && s != "false") {
      return Status::InvalidArgument(at + ": allow_remote_restore: expected true or false");
    }
    c.allow_remote_restore = s == "true";
  } else if (key == "require_signed_baselines") {
    if (s != "true" && s != "false") {
      return Status::InvalidArgument(at + ": require_signed_baselines: expected true or false");
    }
    c.require_signed_baselines = s == "true";
  } else if (key == "min_severity") {
    auto sev = agent::ParseMinSeverity(s);
    if (!sev.ok()) return Status::InvalidArgument(at + ": min_severity: " + sev.status().message());
    c.min_severity = *sev;
  } else {
    auto d = ParseDurationNs(s);
    if (!d.ok()) return Status::InvalidArgument(at + ": " + key + ": " + d.status().message());
    if ((key == "interval" || key == "poll_interval") && *d < 100000000) {
      return Status::InvalidArgument(at + ": " + key + ": must be at least 100ms");
    }
    if (key == "interval") c.interval_ns = *d;
    if (key == "jitter") c.jitter_ns = *d;
    if (key == "poll_interval") c.poll_interval_ns = *d;
  }
  return Status::Ok();
}

// trusted_keys: a list of public key files (PEM), absolute paths.
Result<std::vector<std::string>> KeyFiles(const std::string& at, const YAML::Node& v) {
  constexpr size_t kMaxTrustedKeys = 64;
  std::vector<std::string> out;
  if (v.IsNull()) return out;
  if (!v.IsSequence()) {
    return Status::InvalidArgument(at + ": trusted_keys: expected a list of public key files");
  }
  for (const auto& item : v) {
    if (!item.IsScalar() || item.Scalar().empty() || item.Scalar()[0] != '/' ||
        !IsValidUtf8(item.Scalar())) {
      return Status::InvalidArgument(at +
                                     ": trusted_keys: expected a list of absolute paths of "
                                     "public key files");
    }
    out.push_back(item.Scalar());
    if (out.size() > kMaxTrustedKeys) {
      return Status::InvalidArgument(at + ": trusted_keys: at most " +
                                     std::to_string(kMaxTrustedKeys) + " files");
    }
  }
  return out;
}

std::vector<std::string>* RootsOf(ContainerRoots& r, const std::string& key) {
  if (key == "docker_roots") return &r.docker_roots;
  if (key == "containerd_roots") return &r.containerd_roots;
  if (key == "containerd_states") return &r.containerd_states;
  if (key == "storage_roots") return &r.storage_roots;
  return nullptr;
}

// containers: {docker_roots: [DIR], containerd_roots: [DIR],
// containerd_states: [DIR], storage_roots: [DIR]}, absolute paths.
Result<ContainerRoots> ContainerRootsOf(const std::string& file, const YAML::Node& v) {
  ContainerRoots out;
  if (v.IsNull()) return out;
  if (!v.IsMap()) {
    return Status::InvalidArgument(Where(file, v.Mark()) +
                                   ": containers: expected a mapping of runtime roots");
  }
  for (const auto& kv : v) {
    const std::string key = kv.first.as<std::string>();
    std::vector<std::string>* list = RootsOf(out, key);
    if (list == nullptr) {
      return Status::InvalidArgument(Where(file, kv.first.Mark()) + ": containers: unknown key '" +
                                     key + "'");
    }
    const YAML::Node& items = kv.second;
    const std::string at = Where(file, items.Mark()) + ": containers: " + key;
    if (items.IsNull()) continue;
    if (!items.IsSequence())
      return Status::InvalidArgument(at + ": expected a list of directories");
    for (const auto& item : items) {
      if (!item.IsScalar() || item.Scalar().empty() || item.Scalar()[0] != '/' ||
          !IsValidUtf8(item.Scalar())) {
        return Status::InvalidArgument(at + ": expected a list of absolute paths");
      }
      list->push_back(item.Scalar());
      if (list->size() > kMaxContainerRoots) {
        return Status::InvalidArgument(at + ": at most " + std::to_string(kMaxContainerRoots) +
                                       " directories");
      }
    }
  }
  return out;
}

Result<DaemonConfig> ParseRoot(const std::string& file, const YAML::Node& root) {
  DaemonConfig c = DefaultDaemonConfig();
  c.source = file;
  // An empty file (or one of comments only) leaves every default.
  if (!root || root.IsNull()) return c;
  if (!root.IsMap())
    return Status::InvalidArgument(Where(file, root.Mark()) + ": expected a mapping");
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    const std::string at = Where(file, v.Mark());
    if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) {
      return Status::InvalidArgument(Where(file, kv.first.Mark()) + ": unknown key '" + key + "'");
    }
    if (key == "trusted_keys") {
      DW_ASSIGN_OR_RETURN(c.trusted_keys, KeyFiles(at, v));
      c.from_file.insert(key);
      continue;
    }
    if (key == "containers") {
      DW_ASSIGN_OR_RETURN(c.containers, ContainerRootsOf(file, v));
      c.from_file.insert(key);
      continue;
    }
    if (!v.IsScalar()) return Status::InvalidArgument(at + ": " + key + ": expected a scalar");
    // YAML is Unicode text: bytes that are not UTF-8 would not survive
    // --print-config (found by fuzzing).
    if (!IsValidUtf8(v.Scalar())) {
      return Status::InvalidArgument(at + ": " + key + ": expected UTF-8 text");
    }
    DW_RETURN_IF_ERROR(SetKey(at, key, v.Scalar(), c));
    c.from_file.insert(key);
  }
  if (!c.token_file.empty() && (c.host_id.empty() || c.collector.empty())) {
    return Status::InvalidArgument(file + ": token_file needs host_id and collector");
  }
  return c;
}

// A string as a YAML scalar: plain when it can be, quoted otherwise ("" too).
std::string Scalar(const std::string& s) {
  if (s.empty()) return "\"\"";
  YAML::Emitter out;
  out << s;
  return out.c_str();
}

}  // namespace

Result<DaemonConfig> ParseDaemonConfig(std::string_view yaml, const std::string& file) {
  try {
    return ParseRoot(file, YAML::Load(std::string(yaml)));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(Where(file, e.mark) + ": " + e.msg);
  }
}

DaemonConfig DefaultDaemonConfig() {
  DaemonConfig c;
  c.db = agent::DefaultDbPath();
  c.rules = agent::DefaultRulesPath();
  return c;
}

Result<DaemonConfig> LoadDaemonConfig(Host& host, const std::string& path, bool required) {
  auto text = host.ReadFile(path, size_t{1} << 20);
  if (!text.ok() && !required && text.status().code() == StatusCode::kNotFound) {
    return DefaultDaemonConfig();
  }
  if (!text.ok()) return text.status();
  return ParseDaemonConfig(*text, path);
}

std::string FormatDuration(int64_t ns) {
  constexpr int64_t kMs = 1000000;
  struct Unit {
    int64_t ns;
    const char* suffix;
  };
  constexpr Unit kUnits[] = {{86400 * 1000 * kMs, "d"},
                             {3600 * 1000 * kMs, "h"},
                             {60 * 1000 * kMs, "m"},
                             {1000 * kMs, "s"}};
  for (const Unit& u : kUnits) {
    if (ns != 0 && ns % u.ns == 0) return std::to_string(ns / u.ns) + u.suffix;
  }
  if (ns == 0) return "0s";
  return std::to_string(ns / kMs) + "ms";
}

std::string FormatDaemonConfig(const DaemonConfig& c) {
  std::string out = "# driftwatch agent configuration in effect";
  out += c.source.empty() ? " (no configuration file: every value is the default)\n"
                          : " (" + c.source + " and defaults)\n";
  for (const char* key : kKeys) {
    const std::string k = key;
    std::string v;
    if (k == "version") v = "1";
    if (k == "collector") v = Scalar(c.collector);
    if (k == "token_file") v = Scalar(c.token_file);
    if (k == "host_id") v = Scalar(c.host_id);
    if (k == "ca_file") v = Scalar(c.ca_file);
    if (k == "db") v = Scalar(c.db);
    if (k == "rules") v = Scalar(c.rules);
    if (k == "root") v = Scalar(c.root);
    if (k == "baseline") v = Scalar(c.baseline);
    if (k == "interval") v = FormatDuration(c.interval_ns);
    if (k == "jitter") v = FormatDuration(c.jitter_ns);
    if (k == "poll_interval") v = FormatDuration(c.poll_interval_ns);
    if (k == "outbox_max") v = std::to_string(c.outbox_max);
    if (k == "jobs") v = std::to_string(c.jobs);
    if (k == "nice") v = std::to_string(c.nice);
    if (k == "verify_packages") v = c.verify_packages ? "true" : "false";
    if (k == "min_severity") v = std::string(agent::MinSeverityName(c.min_severity));
    if (k == "enroll_file") v = Scalar(c.enroll_file);
    if (k == "metrics_file") v = Scalar(c.metrics_file);
    if (k == "realtime") v = c.realtime ? "true" : "false";
    if (k == "allow_remote_restore") v = c.allow_remote_restore ? "true" : "false";
    if (k == "require_signed_baselines") v = c.require_signed_baselines ? "true" : "false";
    if (k == "trusted_keys") {
      v = "[";
      for (size_t i = 0; i < c.trusted_keys.size(); ++i) {
        v += (i ? ", " : "") + Scalar(c.trusted_keys[i]);
      }
      v += "]";
    }
    if (k == "containers") {
      ContainerRoots roots = c.containers;
      v = "{";
      for (size_t i = 0; i < std::size(kContainerKeys); ++i) {
        const std::vector<std::string>& list = *RootsOf(roots, kContainerKeys[i]);
        v += std::string(i ? ", " : "") + kContainerKeys[i] + ": [";
        for (size_t j = 0; j < list.size(); ++j) v += (j ? ", " : "") + Scalar(list[j]);
        v += "]";
      }
      v += "}";
    }
    out += k + ": " + v + "  # " + (c.from_file.count(k) != 0 ? "from the file" : "default") + "\n";
  }
  return out;
}

}  // namespace driftwatch::report
