#include "tests/fuzz/targets.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <set>

#include "container/cgroup_ident.h"
#include "container/docker_state.h"
#include "container/mountinfo.h"
#include "container/podman_state.h"
#include "container/proc_stat.h"
#include "container/state.h"
#include "container/userns.h"
#include "core/bolt.h"
#include "core/drift.h"
#include "core/drift_json.h"
#include "core/entry.h"
#include "packages/apk.h"
#include "packages/dpkg.h"
#include "packages/package.h"
#include "packages/rpm.h"
#include "rules/policy.h"

namespace driftwatch::fuzz {
namespace {

// Nesting the report decoder accepts; the collector uses the same order of
// magnitude for request bodies.
constexpr int kMaxJsonDepth = 64;

std::string Fail(std::string what) { return what; }

bool AllAbsolute(const std::vector<std::string>& paths) {
  return std::all_of(paths.begin(), paths.end(),
                     [](const std::string& p) { return p.starts_with('/'); });
}

// EscapePath output must be printable: no C0 control byte and no DEL.
bool Printable(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    auto b = static_cast<unsigned char>(c);
    return b < 0x20 || b == 0x7f;
  });
}

std::string DoubleBackslashes(std::string_view s) {
  std::string out;
  for (char c : s) {
    out.push_back(c);
    if (c == '\\') out.push_back('\\');
  }
  return out;
}

// Decodes report JSON text; parse errors (cpprestsdk throws) become a Status.
Result<CheckResult> DecodeReport(std::string_view text) {
  web::json::value v;
  try {
    v = web::json::value::parse(std::string(text));
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("json: ") + e.what());
  }
  return CheckResultFromJson(v);
}

}  // namespace

std::string FuzzRules(std::string_view input) {
  Result<rules::Policy> p = rules::ParsePolicy(
      input, "fuzz.yaml",
      [](const std::string&) -> Result<std::string> { return Status::NotFound("no includes"); });
  if (!p.ok()) {
    if (p.status().message().empty()) return Fail("rules: error without a message");
    return "";
  }
  for (const rules::Rule& r : p->rules()) {
    (void)p->Match(r.glob);
    (void)p->CouldMatchBelow(r.glob);
  }
  (void)p->Match("/etc/passwd");
  (void)p->Roots();
  (void)p->Fingerprint();
  return "";
}

std::string FuzzDpkgStatus(std::string_view input) {
  auto r = packages::ParseDpkgStatus(input, "var/lib/dpkg/status");
  if (!r.ok()) return "";
  for (const packages::DpkgStanza& s : *r) {
    if (s.package.name.empty()) return Fail("dpkg status: stanza without a package name");
    if (s.package.manager != "dpkg") return Fail("dpkg status: manager is not dpkg");
    for (const packages::DpkgConffile& c : s.conffiles) {
      if (!c.path.starts_with('/')) return Fail("dpkg status: relative conffile " + c.path);
    }
  }
  return "";
}

std::string FuzzDpkgMd5sums(std::string_view input) {
  auto r = packages::ParseDpkgMd5sums(input, "var/lib/dpkg/info/x.md5sums");
  if (!r.ok()) return "";
  for (const packages::DpkgFileHash& h : *r) {
    if (!h.path.starts_with('/')) return Fail("md5sums: relative path " + h.path);
    if (h.md5.empty()) return Fail("md5sums: entry without a digest: " + h.path);
  }
  return "";
}

std::string FuzzDpkgList(std::string_view input) {
  auto list = packages::ParseDpkgList(input, "var/lib/dpkg/info/x.list");
  if (list.ok()) {
    if (!AllAbsolute(*list)) return Fail("dpkg list: relative path");
    if (std::count(list->begin(), list->end(), "/") != 0) return Fail("dpkg list: root listed");
  }
  auto div = packages::ParseDpkgDiversions(input, "var/lib/dpkg/diversions");
  if (div.ok()) {
    for (const packages::DpkgDiversion& d : *div) {
      if (!d.from.starts_with('/') || !d.to.starts_with('/')) {
        return Fail("diversions: relative path");
      }
      if (d.package.empty()) return Fail("diversions: empty package");
    }
  }
  return "";
}

std::string FuzzApkInstalled(std::string_view input) {
  auto db = packages::ParseApkInstalled(input, "lib/apk/db/installed");
  if (db.ok()) {
    if (!std::is_sorted(db->packages.begin(), db->packages.end(), packages::PackageLess)) {
      return Fail("apk: packages not sorted");
    }
    for (const packages::OwnedFile& f : db->files) {
      if (f.package_index >= db->packages.size()) return Fail("apk: package_index out of range");
      if (!f.path.starts_with('/')) return Fail("apk: relative file path " + f.path);
    }
  }
  // The checksum parser on the first line.
  std::string_view first = input.substr(0, input.find('\n'));
  auto sum = packages::ParseApkChecksum(first);
  if (sum.ok() && sum->empty()) return Fail("apk checksum: ok but empty");
  return "";
}

std::string FuzzRpmHeader(std::string_view input) {
  auto h = packages::ParseRpmHeader(input);
  if (!h.ok()) return "";
  if (h->package.manager != "rpm") return Fail("rpm: manager is not rpm");
  if (h->package.name.empty()) return Fail("rpm: header without a name");
  // Every file name comes out of the blob: there cannot be more files than bytes.
  if (h->files.size() > input.size()) return Fail("rpm: more files than input bytes");
  return "";
}

std::string FuzzPackagesBlob(std::string_view input) {
  auto p = packages::ParsePackages(input);
  if (!p.ok()) return "";
  const std::string blob = packages::SerializePackages(*p);
  auto again = packages::ParsePackages(blob);
  if (!again.ok()) return Fail("packages blob: re-parse failed: " + again.status().message());
  if (*again != *p) return Fail("packages blob: round trip changed the packages");
  return "";
}

std::string FuzzMountInfo(std::string_view input) {
  if (container::UnescapeMountField(input).size() > input.size()) {
    return Fail("mountinfo: unescaping made a field longer");
  }
  auto mounts = container::ParseMountInfo(input);
  if (!mounts.ok()) return "";
  for (const container::MountInfo& m : *mounts) {
    (void)container::OverlayLayersOf(m);
    const container::MountInfo* found = container::FindMount(*mounts, m.mount_point);
    if (found == nullptr || found->mount_point != m.mount_point) {
      return Fail("mountinfo: FindMount misses a parsed mount point");
    }
  }
  return "";
}

std::string FuzzCgroup(std::string_view input) {
  static const std::set<std::string, std::less<>> kRuntimes = {
      "docker", "podman", "containerd", "cri-o", "lxc", "nspawn", "driftwatch"};
  auto check = [&](const std::optional<container::ContainerIdentity>& id) -> std::string {
    if (!id) return "";
    if (kRuntimes.count(id->runtime) == 0) return Fail("cgroup: unknown runtime " + id->runtime);
    if (id->id.empty()) return Fail("cgroup: identity with an empty id");
    return "";
  };
  if (std::string f = check(container::IdentifyCgroupPath(input)); !f.empty()) return f;
  auto lines = container::ParseProcCgroup(input);
  if (!lines.ok()) return "";
  return check(container::IdentifyContainer(*lines));
}

std::string FuzzProcIds(std::string_view input) {
  // /proc/PID/stat: the command name is the process's to choose.
  for (int field = 1; field <= 64; ++field) {
    auto v = container::ProcStatField(input, field);
    if (v && field < 3) return Fail("proc stat: a field before the state was read");
  }
  // /etc/subuid lines and --userns-range values: every accepted range is usable.
  auto usable = [](const container::IdRange& r) {
    return r.host >= 1 && r.count >= 1 && static_cast<uint64_t>(r.host) + r.count <= UINT32_MAX;
  };
  if (auto r = container::FindSubordinateRange(input, "root"); r && !usable(*r)) {
    return Fail("subid: unusable range accepted");
  }
  auto parsed = container::ParseIdRange(input);
  if (parsed.ok() && !usable(*parsed)) return Fail("userns range: unusable range accepted");
  if (parsed.ok()) {
    const uint32_t top = parsed->host + (parsed->count - 1);
    if (container::ContainerViewId(top, *parsed) != parsed->count - 1 ||
        container::ContainerViewId(parsed->host - 1, *parsed) != parsed->host - 1) {
      return Fail("userns range: ContainerViewId maps outside the range");
    }
  }
  return "";
}

std::string FuzzReportJson(std::string_view input) {
  if (!JsonDepthWithin(input, kMaxJsonDepth)) return "";
  auto r = DecodeReport(input);
  if (!r.ok()) return "";
  // What the encoder writes, the decoder reads back to the same value.
  const std::string once = CheckResultToJson(*r).serialize();
  auto again = DecodeReport(once);
  if (!again.ok()) return Fail("report: re-decoding failed: " + again.status().message());
  const std::string twice = CheckResultToJson(*again).serialize();
  if (once != twice) return Fail("report: round trip changed the result:\n" + once + "\n" + twice);
  return "";
}

std::string FuzzTree(std::string_view input) {
  auto t = ParseTree(input);
  if (!t.ok()) return "";
  const std::string bytes = SerializeTree(*t);
  auto again = ParseTree(bytes);
  if (!again.ok()) return Fail("tree: re-parse failed: " + again.status().message());
  if (again->entries != t->entries) return Fail("tree: round trip changed the entries");
  if (SerializeTree(*again) != bytes) return Fail("tree: serialization is not stable");
  return "";
}

std::string FuzzPathEscape(std::string_view input) {
  // Any bytes escape to printable text that unescapes to the same bytes.
  const std::string escaped = EscapePath(input);
  if (!Printable(escaped)) return Fail("escape: control byte in output");
  // Nor a bidirectional control, which would reorder what is displayed.
  for (std::string_view bidi : {"\xd8\x9c", "\xe2\x80\x8e", "\xe2\x80\x8f", "\xe2\x80\xaa",
                                "\xe2\x80\xab", "\xe2\x80\xac", "\xe2\x80\xad", "\xe2\x80\xae",
                                "\xe2\x81\xa6", "\xe2\x81\xa7", "\xe2\x81\xa8", "\xe2\x81\xa9"}) {
    if (escaped.find(bidi) != std::string::npos) return Fail("escape: bidi control in output");
  }
  // The escaped form is valid UTF-8: escaping it again only doubles backslashes.
  if (EscapePath(escaped) != DoubleBackslashes(escaped)) {
    return Fail("escape: output is not valid UTF-8");
  }
  auto back = UnescapePath(escaped);
  if (!back.ok()) return Fail("escape: cannot unescape own output: " + back.status().message());
  if (*back != input) return Fail("escape: Unescape(Escape(b)) != b");
  // Any text that unescapes gives bytes whose escaped form unescapes to them.
  auto raw = UnescapePath(input);
  if (raw.ok()) {
    auto round = UnescapePath(EscapePath(*raw));
    if (!round.ok() || *round != *raw) return Fail("escape: Unescape(Escape(Unescape(x))) differs");
  }
  return "";
}

namespace {

// What every runtime reader promises about a container it returns: labels
// sorted by key without duplicates, mounts sorted by absolute destination
// without duplicates.
std::string CheckRuntimeContainer(const container::RuntimeContainer& c, const char* what) {
  for (size_t i = 1; i < c.labels.size(); ++i) {
    if (!(c.labels[i - 1].first < c.labels[i].first)) {
      return Fail(std::string(what) + ": labels not sorted or duplicated");
    }
  }
  for (size_t i = 0; i < c.mounts.size(); ++i) {
    if (!c.mounts[i].destination.starts_with('/')) {
      return Fail(std::string(what) + ": relative mount destination");
    }
    if (i > 0 && !(c.mounts[i - 1].destination < c.mounts[i].destination)) {
      return Fail(std::string(what) + ": mounts not sorted or duplicated");
    }
  }
  return "";
}

}  // namespace

std::string FuzzBolt(std::string_view input) {
  auto db = bolt::BoltDb::Open(std::string(input));
  if (!db.ok()) {
    if (db.status().message().empty()) return Fail("bolt: error without a message");
    return "";
  }
  // Every bucket reachable from the root, breadth first, a bounded number.
  std::vector<bolt::Bucket> todo = {(*db)->Root()};
  for (size_t n = 0; n < todo.size() && n < 256; ++n) {
    auto items = todo[n].Items(1 << 16);
    if (!items.ok()) {
      if (items.status().message().empty()) return Fail("bolt: cursor error without a message");
      continue;
    }
    auto again = todo[n].Items(1 << 16);
    if (!again.ok() || *again != *items) return Fail("bolt: a second walk differs");
    for (const bolt::Item& it : *items) {
      auto value = todo[n].Get(it.key);
      auto sub = todo[n].Sub(it.key);
      // Found by lookup, it is what the cursor saw (a corrupt file may hide
      // a key from the lookup, never show a different value).
      if (value.ok() && *value && !it.is_bucket && **value != it.value) {
        bool shadowed = false;  // a corrupt file may repeat a key
        for (const bolt::Item& other : *items) {
          if (other.key == it.key && other.value == **value) shadowed = true;
        }
        if (!shadowed) return Fail("bolt: Get disagrees with the cursor");
      }
      if (sub.ok() && *sub) todo.push_back(**sub);
    }
  }
  return "";
}

std::string FuzzDockerConfig(std::string_view input) {
  auto c = container::ParseDockerConfig(input);
  if (c.ok()) {
    if (c->id.size() != 64) return Fail("docker_config: id is not 64 characters");
    if (c->runtime != "docker") return Fail("docker_config: runtime " + c->runtime);
    if (c->pid != 0 && !c->running) return Fail("docker_config: a pid without running");
    if (std::string f = CheckRuntimeContainer(*c, "docker_config"); !f.empty()) return f;
  } else if (c.status().code() != StatusCode::kCorruption) {
    return Fail("docker_config: error is not kCorruption: " + c.status().message());
  }
  std::vector<container::RuntimeMount> mounts;
  Status s = container::ParseDockerHostConfig(input, &mounts);
  for (const container::RuntimeMount& m : mounts) {
    if (!m.destination.starts_with('/')) return Fail("hostconfig: relative destination");
  }
  (void)s;
  auto refs = container::ParseDockerRepositories(input);
  if (refs.ok()) {
    if (!std::is_sorted(refs->begin(), refs->end())) return Fail("repositories: not sorted");
    for (const auto& [ref, id] : *refs) {
      std::string digest = container::DockerRepoDigest(*refs, ref, id);
      if (!digest.empty() && !digest.starts_with("sha256:")) {
        return Fail("repositories: digest " + digest);
      }
    }
  }
  return "";
}

std::string FuzzStorageJson(std::string_view input) {
  auto containers = container::ParseStorageContainers(input);
  if (containers.ok()) {
    for (const container::StorageContainer& c : *containers) {
      if (c.id.empty()) return Fail("containers.json: a container without an id");
    }
  }
  auto images = container::ParseStorageImages(input);
  if (images.ok()) {
    for (const container::StorageImage& i : *images) {
      if (i.id.empty()) return Fail("images.json: an image without an id");
      if (!i.digest.empty() && i.digest.size() != 71)
        return Fail("images.json: digest " + i.digest);
    }
  }
  (void)container::ParseStorageLayers(input);
  container::RuntimeContainer c;
  if (container::ApplyLibpodConfig(input, &c).ok()) {
    if (std::string f = CheckRuntimeContainer(c, "libpod config"); !f.empty()) return f;
  }
  container::RuntimeContainer st;
  if (container::ApplyLibpodState(input, &st).ok()) {
    if (st.running != (st.pid > 0)) return Fail("libpod state: running and pid disagree");
    if (std::string f = CheckRuntimeContainer(st, "libpod state"); !f.empty()) return f;
  }
  return "";
}

std::vector<Target> AllTargets() {
  return {
      {"rules", &FuzzRules},
      {"dpkg_status", &FuzzDpkgStatus},
      {"dpkg_md5sums", &FuzzDpkgMd5sums},
      {"dpkg_list", &FuzzDpkgList},
      {"apk_installed", &FuzzApkInstalled},
      {"rpm_header", &FuzzRpmHeader},
      {"packages_blob", &FuzzPackagesBlob},
      {"mountinfo", &FuzzMountInfo},
      {"cgroup", &FuzzCgroup},
      {"proc_ids", &FuzzProcIds},
      {"report_json", &FuzzReportJson},
      {"tree", &FuzzTree},
      {"path_escape", &FuzzPathEscape},
      {"agent_config", &FuzzAgentConfig},
      {"api_query", &FuzzApiQuery},
      {"upper_diff", &FuzzUpperDiff},
      {"request_log", &FuzzRequestLog},
      {"process_info", &FuzzProcessInfo},
      {"mount_points", &FuzzMountPoints},
      {"unified_diff", &FuzzUnifiedDiff},
      {"blob_codec", &FuzzBlobCodec},
      {"signed_statement", &FuzzSignedStatement},
      {"bolt", &FuzzBolt},
      {"docker_config", &FuzzDockerConfig},
      {"storage_json", &FuzzStorageJson},
      {"tree_upload", &FuzzTreeUpload},
  };
}

int RunOrAbort(const char* name, TargetFn fn, const unsigned char* data, size_t size) {
  const std::string failed = fn(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!failed.empty()) {
    std::fprintf(stderr, "%s: property failed: %s\n", name, failed.c_str());
    std::abort();
  }
  return 0;
}

}  // namespace driftwatch::fuzz
