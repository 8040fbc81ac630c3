// Fuzz targets of the agent's and the collector's configuration files, the
// collector's API query parameters and the overlayfs upper-layer diff (see
// tests/fuzz/targets.h).
#include <unistd.h>

#include <cpprest/json.h>
#include <cpprest/uri.h>
#include <algorithm>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "collector/api.h"
#include "collector/auth.h"
#include "collector/config.h"
#include "collector/sqlite_store.h"
#include "container/upper_diff.h"
#include "core/drift_json.h"
#include "report/agent_config.h"
#include "report/enrollment.h"
#include "tests/fuzz/targets.h"

namespace driftwatch::fuzz {
namespace {

using web::json::value;

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// ---- API query parameters --------------------------------------------------

// A collector API over an in-memory store with two hosts and a few events,
// built once per process; a read token to call it with.
struct ApiFixture {
  std::unique_ptr<collector::FleetStore> store;
  collector::CollectorConfig config;
  collector::LiveConfig live;
  collector::Metrics metrics;
  std::unique_ptr<collector::Api> api;
  std::string token;
  std::string error;  // set when the fixture could not be built

  ApiFixture() {
    auto s = collector::OpenSqliteStore(":memory:");
    if (!s.ok()) {
      error = s.status().message();
      return;
    }
    store = std::move(s).value();
    config.max_page = 50;
    constexpr int64_t t0 = 1793491200LL * 1000000000;
    for (int h = 0; h < 2; ++h) {
      const std::string host = "h" + std::to_string(h);
      if (!store->EnrollHost(host, h ? "web" : "db", "fuzz", collector::HashToken(host), t0, "")
               .ok()) {
        error = "enroll";
        return;
      }
      for (int r = 0; r < 3; ++r) {
        collector::ReportEnvelope env;
        env.report_id = "00000000-0000-4000-8000-00000000000" + std::to_string(h * 3 + r);
        env.host_id = host;
        env.received_ns = t0 + r * 1000000000LL;
        env.result.target = host;
        env.result.finished_ns = t0 + r * 3600 * 1000000000LL;
        for (int i = 0; i < 4; ++i) {
          DriftEvent e;
          e.path = "/etc/d" + std::to_string(i % 2) + "/f" + std::to_string(r * 4 + i);
          e.kind = static_cast<DriftKind>(1 + i % 3);
          e.severity = static_cast<Severity>(1 + (i + r) % 4);
          env.result.events.push_back(e);
          env.events_json.push_back(DriftEventToJson(e).serialize());
        }
        if (!store->IngestReport(env, {}).ok()) {
          error = "ingest";
          return;
        }
      }
    }
    auto t = collector::CreateToken(*store, collector::Role::kRead, t0);
    if (!t.ok()) {
      error = t.status().message();
      return;
    }
    token = *t;
    live.Set(config);
    api = std::make_unique<collector::Api>(
        *store, live, metrics, [] { return t0 + 7200 * 1000000000LL; }, nullptr);
  }
};

}  // namespace

std::string FuzzApiQuery(std::string_view input) {
  static ApiFixture* fx = new ApiFixture();  // lives for the process
  if (!fx->error.empty()) return "fixture: " + fx->error;
  // The first byte picks a read endpoint; the rest is its query string.
  static const char* const kEndpoints[] = {"/api/v1/drift",         "/api/v1/paths/history",
                                           "/api/v1/fleet/compare", "/api/v1/hosts",
                                           "/api/v1/hosts/h1",      "/api/v1/fleet/summary"};
  if (input.empty()) return "";
  const size_t which = static_cast<unsigned char>(input[0]) % 6;
  const std::string endpoint = kEndpoints[which];
  collector::HttpRequest req;
  req.method = "GET";
  req.authorization = "Bearer " + fx->token;
  // Decoded the way the server decodes a request target; bytes that are not
  // a valid URI never reach the API (the HTTP listener refuses them).
  try {
    web::uri uri(endpoint + "?" + std::string(input.substr(1)));
    req.path = web::uri::decode(uri.path());
    for (const auto& [k, v] : web::uri::split_query(uri.query())) {
      req.query.emplace_back(web::uri::decode(k), web::uri::decode(v));
    }
  } catch (const std::exception&) {
    return "";
  }
  collector::HttpResponse resp = fx->api->Handle(req);
  value body;
  try {
    body = value::parse(resp.body);
  } catch (const std::exception& e) {
    return "answer is not JSON: " + resp.body.substr(0, 200);
  }
  if (!body.is_object()) return "answer is not a JSON object";
  if (resp.status >= 500) return "server error " + std::to_string(resp.status) + ": " + resp.body;
  if (resp.status != 200) {
    if (resp.status != 400 && resp.status != 404) {
      return "unexpected status " + std::to_string(resp.status) + ": " + resp.body;
    }
    if (!body.has_field("error") || !body.has_field("detail") || !body.at("detail").is_string() ||
        body.at("detail").as_string().empty()) {
      return "error without a detail: " + resp.body;
    }
    return "";
  }
  if (which <= 1) {  // an event page: /drift, /paths/history
    const value& events = body.at("events");
    if (!events.is_array()) return "events is not an array";
    if (events.size() > static_cast<size_t>(fx->config.max_page))
      return "page larger than max_page";
    // In the order asked for (newest first unless order=asc, or a cursor
    // says otherwise): by detection time, then id, each event once.
    const std::string* order = nullptr;
    const std::string* cursor = nullptr;
    for (const auto& [k, v] : req.query) {
      if (k == "order" && order == nullptr) order = &v;
      if (k == "cursor" && cursor == nullptr) cursor = &v;
    }
    int direction = 0;  // +1 ascending, -1 descending, 0 either (a cursor decides)
    if (order != nullptr) direction = *order == "asc" ? 1 : -1;
    if (order == nullptr && (cursor == nullptr || cursor->empty())) direction = -1;
    std::optional<std::pair<int64_t, int64_t>> last;
    for (const value& e : events.as_array()) {
      auto detected = ParseRfc3339(e.at("detected").as_string());
      if (!detected.ok()) return "event with a bad detected time: " + e.serialize();
      const std::pair<int64_t, int64_t> key{*detected, e.at("id").as_number().to_int64()};
      if (last) {
        const int step = key > *last ? 1 : key < *last ? -1 : 0;
        if (step == 0 || (direction != 0 && step != direction)) {
          return "events not in the order asked for";
        }
        direction = step;
      }
      last = key;
    }
  }
  return "";
}

// ---- configuration files ---------------------------------------------------

std::string FuzzAgentConfig(std::string_view input) {
  const std::string file = "agent.yaml";
  auto c = report::ParseDaemonConfig(input, file);
  if (c.ok()) {
    if (c->interval_ns < 100000000 || c->poll_interval_ns < 100000000) {
      return "interval or poll_interval below 100ms accepted";
    }
    if (c->jitter_ns < 0) return "negative jitter accepted";
    if (c->outbox_max < 2 || c->outbox_max > 1000000) return "outbox_max out of range";
    if (!c->token_file.empty() && (c->host_id.empty() || c->collector.empty())) {
      return "token_file without host_id and collector";
    }
    if (c->jobs < 0 || c->jobs > 256 || c->nice < 0 || c->nice > 19)
      return "jobs or nice out of range";
    // --print-config writes what the daemon takes back, to the same values.
    auto back = report::ParseDaemonConfig(report::FormatDaemonConfig(*c), file);
    if (!back.ok()) return "printed agent config does not parse: " + back.status().message();
    if (back->db != c->db || back->root != c->root || back->collector != c->collector ||
        back->interval_ns != c->interval_ns || back->min_severity != c->min_severity ||
        back->enroll_file != c->enroll_file || back->baseline != c->baseline) {
      return "printed agent config parses to other values";
    }
  } else if (!StartsWith(c.status().message(), file)) {
    return "agent config error does not name the file: " + c.status().message();
  }
  // The enroll file (report/enrollment.h) is YAML of the same kind.
  auto e = report::ParseEnrollFile(input, "enroll.yaml");
  if (e.ok() && (e->collector.empty() || e->token_file.empty())) {
    return "enroll file without collector or token_file accepted";
  }
  if (!e.ok() && !StartsWith(e.status().message(), "enroll.yaml")) {
    return "enroll file error does not name the file: " + e.status().message();
  }
  // The collector's configuration is YAML too, with the same durations.
  auto cc = collector::ParseCollectorConfig(input, "collector.yaml");
  if (cc.ok()) {
    if (cc->retention_ns < 0 || cc->silent_after_ns < 0) return "negative duration accepted";
    if (cc->max_body_bytes == 0 || cc->max_events_per_report == 0) return "zero cap accepted";
  } else if (!StartsWith(cc.status().message(), "collector.yaml")) {
    return "collector config error does not name the file: " + cc.status().message();
  }
  return "";
}

// ---- upper-layer diff over generated trees ----------------------------------

namespace {

// The image as a map of absolute paths; every parent is a directory.
class MapLower : public container::LowerView {
 public:
  std::map<std::string, Entry> entries;

  Result<std::optional<Entry>> Lookup(const std::string& path) override {
    auto it = entries.find(path);
    if (it == entries.end()) return std::optional<Entry>();
    return std::optional<Entry>(it->second);
  }
  Result<std::vector<std::string>> List(const std::string& path) override {
    std::vector<std::string> out;
    auto it = entries.find(path);
    if (it == entries.end() || it->second.type != EntryType::kDir) return out;
    const std::string prefix = path == "/" ? "/" : path + "/";
    for (auto c = entries.upper_bound(prefix); c != entries.end() && StartsWith(c->first, prefix);
         ++c) {
      if (c->first.find('/', prefix.size()) == std::string::npos) {
        out.push_back(c->first.substr(prefix.size()));
      }
    }
    return out;
  }
};

std::string Parent(const std::string& p) {
  size_t s = p.rfind('/');
  return s == 0 ? "/" : p.substr(0, s);
}

Entry MakeEntry(EntryType type, unsigned variant, const std::string& path) {
  Entry e;
  e.name = path.substr(path.rfind('/') + 1);
  e.type = type;
  e.mode = (variant & 1) ? 0600 : 0644;
  e.uid = (variant >> 1) & 1;
  if (type == EntryType::kFile) {
    e.size = variant & 3;
    e.content.algo = HashAlgo::kXxh128;
    e.content.bytes[0] = static_cast<uint8_t>(variant);
  }
  if (type == EntryType::kSymlink) e.link_target = (variant & 1) ? "/a" : "b";
  e.mask = container::DiffMask(type);
  return e;
}

EntryType TypeOf(const Entry& e) { return e.type; }
EntryType TypeOf(const container::UpperNode& n) { return n.entry.type; }

// Adds `path` with its parent directories; false when a parent is not a dir.
template <typename Map, typename Make>
bool AddWithParents(Map& m, const std::string& path, Make make_dir) {
  std::vector<std::string> parents;
  for (std::string p = Parent(path); p != "/"; p = Parent(p)) parents.push_back(p);
  for (auto it = parents.rbegin(); it != parents.rend(); ++it) {
    auto f = m.find(*it);
    if (f == m.end()) {
      m.emplace(*it, make_dir(*it));
    } else if (TypeOf(f->second) != EntryType::kDir) {
      return false;
    }
  }
  return true;
}

}  // namespace

// Input: records of 3 bytes. Byte 0: bit 7 upper (else image), bits 0-2 the
// object (file, dir, symlink, whiteout device, xattr whiteout, opaque dir,
// metacopy file, redirected dir), bits 3-6 attribute variant. Bytes 1-2: the
// path, 1-4 components from "a b c d". The first byte of the input, if odd,
// excludes /c as a volume.
std::string FuzzUpperDiff(std::string_view input) {
  if (input.size() > 3 * 512) return "";  // the diff is linear; keep runs fast
  MapLower lower;
  lower.entries.emplace("/", MakeEntry(EntryType::kDir, 0, "/"));
  std::map<std::string, container::UpperNode> upper;
  std::vector<std::string> excluded;
  if (!input.empty() && (static_cast<unsigned char>(input[0]) & 1)) excluded.push_back("/c");
  static const char* const kNames[] = {"a", "b", "c", "d"};
  static const char* const kRedirects[] = {"/a", "/b/c", "d", "../a", "", "/a//b"};
  for (size_t i = 0; i + 3 <= input.size(); i += 3) {
    const auto b0 = static_cast<unsigned char>(input[i]);
    const unsigned code =
        static_cast<unsigned char>(input[i + 1]) << 8 | static_cast<unsigned char>(input[i + 2]);
    std::string path;
    const unsigned depth = 1 + (code & 3);
    for (unsigned d = 0; d < depth; ++d)
      path += std::string("/") + kNames[(code >> (2 + 2 * d)) & 3];
    const unsigned object = b0 & 7;
    const unsigned variant = (b0 >> 3) & 15;
    if (!(b0 & 0x80)) {
      if (lower.entries.count(path)) continue;
      if (!AddWithParents(lower.entries, path,
                          [](const std::string& p) { return MakeEntry(EntryType::kDir, 0, p); })) {
        continue;
      }
      static const EntryType kLowerTypes[] = {EntryType::kFile, EntryType::kDir,
                                              EntryType::kSymlink, EntryType::kFile};
      lower.entries.emplace(path, MakeEntry(kLowerTypes[object & 3], variant, path));
      continue;
    }
    if (upper.count(path)) continue;
    auto dir_node = [](const std::string& p) {
      container::UpperNode n;
      n.entry = MakeEntry(EntryType::kDir, 0, p);
      return n;
    };
    std::map<std::string, container::UpperNode> staged = upper;
    if (!AddWithParents(staged, path, [&](const std::string& p) { return dir_node(p); })) continue;
    container::UpperNode n;
    switch (object) {
      case 0:
        n.entry = MakeEntry(EntryType::kFile, variant, path);
        break;
      case 1:
        n.entry = MakeEntry(EntryType::kDir, variant, path);
        break;
      case 2:
        n.entry = MakeEntry(EntryType::kSymlink, variant, path);
        break;
      case 3:
        n.entry = MakeEntry(EntryType::kCharDev, 0, path);
        n.entry.rdev = 0;
        n.whiteout = true;
        break;
      case 4:
        n.entry = MakeEntry(EntryType::kFile, 0, path);
        n.entry.size = 0;
        n.whiteout = true;
        break;
      case 5:
        n.entry = MakeEntry(EntryType::kDir, variant, path);
        n.opaque = true;
        break;
      case 6:
        n.entry = MakeEntry(EntryType::kFile, variant, path);
        n.metacopy = true;
        break;
      default:
        n.entry = MakeEntry(EntryType::kDir, variant, path);
        n.redirect = kRedirects[variant % 6];
        break;
    }
    staged.emplace(path, std::move(n));
    upper = std::move(staged);
  }
  container::UpperListing listing;
  for (const auto& [p, n] : upper) listing.Add(p, n);
  const bool has_redirect = std::any_of(
      upper.begin(), upper.end(), [](const auto& kv) { return kv.second.redirect.has_value(); });
  auto events = container::DiffUpperLayer(listing, lower, excluded);
  if (!events.ok()) {
    if (events.status().code() == StatusCode::kCorruption && has_redirect) return "";
    return "diff failed: " + events.status().ToString();
  }
  auto again = container::DiffUpperLayer(listing, lower, excluded);
  if (!again.ok() || again->size() != events->size()) return "diff not deterministic";
  const std::string* last = nullptr;
  for (size_t i = 0; i < events->size(); ++i) {
    const DriftEvent& e = (*events)[i];
    if ((*again)[i].path != e.path || (*again)[i].kind != e.kind) return "diff not deterministic";
    if (last != nullptr && !(*last < e.path)) return "events not sorted or repeated: " + e.path;
    last = &e.path;
    if (container::IsUnder(e.path, excluded)) return "event under an excluded path: " + e.path;
    const bool in_image = lower.entries.count(e.path) > 0;
    if (e.kind == DriftKind::kAdded && in_image) return "added but in the image: " + e.path;
    if (e.kind != DriftKind::kAdded && !in_image) return "not in the image: " + e.path;
    if (e.kind == DriftKind::kModified && (!e.old_entry || !e.new_entry)) {
      return "changed without both entries: " + e.path;
    }
  }
  return "";
}

}  // namespace driftwatch::fuzz
