// Fleet trees benchmark (issue "drift from peers", docs/wire.md "Trees"):
// a simulated fleet of DW_BENCH_HOSTS (1,000) hosts in one process, each
// syncing its tree to a real driftwatch-collector on 127.0.0.1 through the
// real HTTP API (report::SyncTree, the agent's own client).
//
// The hosts' trees are this host's /etc and /usr/bin (scanned once with
// the agent's scanner), with per-host edits: every host has its own
// /etc/hostname and /etc/machine-id (host-specific: `peer: ignore`), one in
// ten an edited /etc/ssh/sshd_config, one in fifty an extra file in
// /etc/cron.d. Then a later round: nine in ten unchanged, one in ten with
// one more changed file.
//
// Prints, and as `RESULT <key> <value> <unit>` lines:
//   trees_first_bytes_per_host   request bytes per host, first report
//   trees_later_bytes_per_host   request bytes per host, later report
//   trees_store_dedup_mib        tree objects the collector holds
//   trees_store_nodedup_mib      the same trees stored per host
//   outliers_p99_ms              GET /fleet/outliers?group=web, p99
//   compare_p50_ms               GET /fleet/compare of two hosts, p50
//
// Environment: DW_COLLECTOR_BIN (set by meson), DW_BENCH_HOSTS (1000),
// DW_BENCH_QUERIES (100), DW_BENCH_DIR (/var/tmp; a fresh directory under
// it, removed at the end).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "agent/accept.h"
#include "agent/scanner.h"
#include "core/entry.h"
#include "core/host.h"
#include "core/tree_io.h"
#include "report/client.h"
#include "report/http_exchange.h"
#include "report/tree_sync.h"
#include "rules/policy.h"

namespace driftwatch::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kRules =
    "version: 1\n"
    "rules:\n"
    "  - {path: /etc/**, check: content}\n"
    "  - {path: /usr/bin/**, check: content}\n"
    "  - {path: /etc/hostname, peer: ignore}\n"
    "  - {path: /etc/machine-id, peer: ignore}\n";

int EnvInt(const char* name, int def) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : def;
}

std::string Env(const char* name, const std::string& def) {
  const char* v = std::getenv(name);
  return v ? v : def;
}

// A running collector; stopped (SIGTERM, then waited for) by its destructor.
struct Collector {
  pid_t pid = -1;
  std::string url;
  ~Collector() {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
  }
};

bool StartCollector(const std::string& db, const std::string& log, Collector* c) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return false;
  c->pid = fork();
  if (c->pid == 0) {
    dup2(out[1], 1);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 2);
    const std::string bin = Env("DW_COLLECTOR_BIN", "");
    execl(bin.c_str(), bin.c_str(), "--listen", "127.0.0.1:0", "--db", db.c_str(), nullptr);
    _exit(127);
  }
  close(out[1]);
  char ch;
  pollfd p{out[0], POLLIN, 0};
  while (poll(&p, 1, 10000) > 0 && read(out[0], &ch, 1) == 1 && ch != '\n') c->url.push_back(ch);
  close(out[0]);
  return !c->url.empty();
}

// The first line a command prints ("" when it fails).
std::string FirstLine(const std::string& cmd) {
  std::string out;
  if (FILE* f = popen(cmd.c_str(), "r")) {
    int ch;
    while ((ch = fgetc(f)) != EOF && ch != '\n') out.push_back(static_cast<char>(ch));
    if (pclose(f) != 0) out.clear();
  }
  return out;
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int64_t Percentile(std::vector<int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// A file entry at `path` with the content `content`: the entry already
// there with a new digest and size, or a new 0644 file.
Result<agent::Edit> FileEdit(TreeSource& trees, const Hash128& root, const std::string& path,
                             const std::string& content) {
  DW_ASSIGN_OR_RETURN(std::optional<Entry> old, LookupEntry(trees, root, path));
  Entry e;
  if (old && old->type == EntryType::kFile) {
    e = *old;
  } else {
    e.type = EntryType::kFile;
    e.mask = kAttrType | kAttrPerm | kAttrUid | kAttrGid | kAttrSize | kAttrHash;
    e.mode = 0644;
  }
  e.name = path.substr(path.rfind('/') + 1);
  e.size = content.size();
  DW_ASSIGN_OR_RETURN(e.content, Digest::Parse("xxh128:" + HashBytes(content).Hex()));
  e.ApplyMask();
  agent::Edit edit;
  edit.entry = e;
  return edit;
}

// The first of `paths` that is a directory in the tree, else "/etc".
Result<std::string> FirstDir(TreeSource& trees, const Hash128& root,
                             const std::vector<std::string>& paths) {
  for (const std::string& p : paths) {
    DW_ASSIGN_OR_RETURN(std::optional<Entry> e, LookupEntry(trees, root, p));
    if (e && e->type == EntryType::kDir) return p;
  }
  return std::string("/etc");
}

// Serialized bytes of every object of the tree, as if stored for this host
// alone (shared subtrees within the tree counted once).
Result<int64_t> TreeBytes(TreeSource& trees, const Hash128& root) {
  int64_t bytes = 0;
  std::vector<Hash128> stack = {root};
  std::map<Hash128, bool> seen;
  while (!stack.empty()) {
    Hash128 id = stack.back();
    stack.pop_back();
    if (!seen.emplace(id, true).second) continue;
    DW_ASSIGN_OR_RETURN(Tree t, trees.Get(id));
    bytes += static_cast<int64_t>(SerializeTree(t).size());
    for (const Entry& e : t.entries) {
      if (e.type == EntryType::kDir && !e.subtree.IsZero()) stack.push_back(e.subtree);
    }
  }
  return bytes;
}

// A gauge of /metrics; -1 when absent.
int64_t Gauge(const std::string& url, const std::string& token, const std::string& name) {
  auto a = report::HttpExchange({url, "GET", "/metrics", token, "", ""}, {30000, 16 << 20});
  if (!a.ok()) return -1;
  size_t at = a->body.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::atoll(a->body.c_str() + at + name.size() + 2);
}

// Latencies of GETs of `targets` in turn, `n` requests; ms. Fails on any
// answer but 200.
Result<std::vector<int64_t>> Latencies(const std::string& url, const std::string& token,
                                       const std::vector<std::string>& targets, int n) {
  std::vector<int64_t> out;
  for (int i = 0; i < n; ++i) {
    const std::string& t = targets[static_cast<size_t>(i) % targets.size()];
    auto start = Clock::now();
    auto a = report::HttpExchange({url, "GET", t, token, "", ""}, {60000, 64 << 20});
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    if (!a.ok()) return a.status();
    if (a->status != 200) {
      return Status::Internal(t + ": " + std::to_string(a->status) + " " + a->body.substr(0, 300));
    }
    out.push_back(us);
  }
  return out;
}

std::string HostName(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "host-%04d", i);
  return buf;
}

int Run() {
  const int hosts = EnvInt("DW_BENCH_HOSTS", 1000);
  const int queries = EnvInt("DW_BENCH_QUERIES", 100);
  std::string tmpl = Env("DW_BENCH_DIR", "/var/tmp") + "/agentsync-fleet-trees.XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::cerr << "cannot make a directory under " << Env("DW_BENCH_DIR", "/var/tmp") << "\n";
    return 2;
  }
  const std::string dir = tmpl;
  struct Cleanup {
    std::string dir;
    ~Cleanup() { std::system(("rm -rf " + Quote(dir)).c_str()); }
  } cleanup{dir};

  // This host's /etc and /usr/bin, once.
  Host& host = DefaultHost();
  auto policy = rules::ParsePolicy(kRules, "bench.yaml", [](const std::string& p) {
    return Result<std::string>(Status::NotFound(p));
  });
  if (!policy.ok()) return std::cerr << policy.status().message() << "\n", 2;
  MemoryTreeStore trees;
  agent::ScanOptions so;
  so.jobs = 1;
  auto scan_start = Clock::now();
  auto scan = agent::ScanTree(host, *policy, so, trees);
  if (!scan.ok()) return std::cerr << "scan: " << scan.status().message() << "\n", 2;
  std::cout << "base tree: " << scan->stats.files << " files, " << scan->stats.dirs << " dirs, "
            << trees.size() << " objects (scanned in "
            << std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - scan_start).count()
            << " s)\n";
  const Hash128 base = scan->root;

  auto ssh = LookupEntry(trees, base, "/etc/ssh/sshd_config");
  const std::string edited =
      ssh.ok() && ssh->has_value() ? "/etc/ssh/sshd_config" : std::string("/etc/passwd");
  auto cron = FirstDir(trees, base, {"/etc/cron.d", "/etc"});
  if (!cron.ok()) return std::cerr << cron.status().message() << "\n", 2;

  // Each host's tree.
  std::vector<Hash128> first(hosts), later(hosts);
  for (int i = 0; i < hosts; ++i) {
    std::map<std::string, agent::Edit> edits;
    auto add = [&](const std::string& path, const std::string& content) -> Status {
      DW_ASSIGN_OR_RETURN(agent::Edit e, FileEdit(trees, base, path, content));
      edits[path] = std::move(e);
      return Status::Ok();
    };
    Status s = add("/etc/hostname", HostName(i) + "\n");
    if (s.ok()) s = add("/etc/machine-id", HashBytes(HostName(i)).Hex() + "\n");
    if (s.ok() && i % 10 == 3) s = add(edited, "# edited on " + HostName(i) + "\n");
    if (s.ok() && i % 50 == 7) s = add(*cron + "/extra-job", "* * * * * root true\n");
    if (!s.ok()) return std::cerr << s.message() << "\n", 2;
    auto root = agent::ApplyEdits(trees, trees, base, edits);
    if (!root.ok()) return std::cerr << root.status().message() << "\n", 2;
    first[i] = *root;
    later[i] = *root;
    if (i % 10 == 5) {
      std::map<std::string, agent::Edit> more;
      auto e = FileEdit(trees, *root, "/etc/later.conf", "changed later on " + HostName(i) + "\n");
      if (!e.ok()) return std::cerr << e.status().message() << "\n", 2;
      more["/etc/later.conf"] = std::move(e).value();
      auto r2 = agent::ApplyEdits(trees, trees, *root, more);
      if (!r2.ok()) return std::cerr << r2.status().message() << "\n", 2;
      later[i] = *r2;
    }
  }

  Collector collector;
  const std::string db = dir + "/collector.db";
  if (!StartCollector(db, dir + "/collector.log", &collector)) {
    std::cerr << "the collector did not start (DW_COLLECTOR_BIN=" << Env("DW_COLLECTOR_BIN", "")
              << ")\n";
    return 2;
  }
  const std::string bin = Quote(Env("DW_COLLECTOR_BIN", ""));
  const std::string enroll_token =
      FirstLine(bin + " token create --db " + Quote(db) + " --role enroll");
  const std::string read_token =
      FirstLine(bin + " token create --db " + Quote(db) + " --role read");
  if (enroll_token.empty() || read_token.empty()) return std::cerr << "token create failed\n", 2;

  std::vector<std::string> tokens(hosts);
  {
    report::CollectorClient enroller(collector.url, enroll_token);
    for (int i = 0; i < hosts; ++i) {
      auto e = enroller.Enroll(HostName(i), "web");
      if (!e.ok()) return std::cerr << "enroll: " << e.status().message() << "\n", 2;
      tokens[i] = e->token;
    }
  }

  std::vector<std::string> host_specific(hosts);
  int64_t first_bytes = 0, later_bytes = 0, first_objects = 0, later_objects = 0;
  int64_t lone_bytes = 0, nodedup_bytes = 0;
  auto sync_start = Clock::now();
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < hosts; ++i) {
      const Hash128 root = round == 0 ? first[i] : later[i];
      auto specific = report::HostSpecificPaths(trees, root, *policy);
      if (!specific.ok()) return std::cerr << specific.status().message() << "\n", 2;
      report::CollectorClient client(collector.url, tokens[i]);
      auto stats =
          report::SyncTree(client, trees, root,
                           round == 0 ? std::nullopt : std::optional<Hash128>(first[i]), *specific);
      if (!stats.ok()) {
        std::cerr << HostName(i) << ": " << stats.status().message() << "\n";
        return 2;
      }
      (round == 0 ? first_bytes : later_bytes) += stats->sent_bytes;
      (round == 0 ? first_objects : later_objects) += stats->sent_objects;
      if (round == 0 && i == 0) lone_bytes = stats->sent_bytes;
      if (round == 0) {
        auto b = TreeBytes(trees, root);
        if (!b.ok()) return std::cerr << b.status().message() << "\n", 2;
        nodedup_bytes += *b;
      }
    }
  }
  const double sync_s =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - sync_start).count() /
      1000.0;
  const int64_t dedup_bytes = Gauge(collector.url, read_token, "driftwatch_collector_tree_bytes");
  const int64_t dedup_objects =
      Gauge(collector.url, read_token, "driftwatch_collector_tree_objects");

  const double mib = 1024.0 * 1024.0;
  std::printf("%d hosts synced twice in %.1f s\n", hosts, sync_s);
  std::printf(
      "first report: %.0f bytes/host (the first host alone: %lld bytes), %lld objects "
      "sent in all\n",
      static_cast<double>(first_bytes) / hosts, static_cast<long long>(lone_bytes),
      static_cast<long long>(first_objects));
  std::printf("later report: %.0f bytes/host, %lld objects sent in all\n",
              static_cast<double>(later_bytes) / hosts, static_cast<long long>(later_objects));
  std::printf("collector: %lld objects, %.2f MiB; per host without dedup: %.2f MiB\n",
              static_cast<long long>(dedup_objects), static_cast<double>(dedup_bytes) / mib,
              static_cast<double>(nodedup_bytes) / mib);
  std::printf("RESULT trees_first_bytes_per_host %.0f bytes\n",
              static_cast<double>(first_bytes) / hosts);
  std::printf("RESULT trees_later_bytes_per_host %.0f bytes\n",
              static_cast<double>(later_bytes) / hosts);
  std::printf("RESULT trees_store_dedup_mib %.3f MiB\n", static_cast<double>(dedup_bytes) / mib);
  std::printf("RESULT trees_store_nodedup_mib %.3f MiB\n",
              static_cast<double>(nodedup_bytes) / mib);
  std::fflush(stdout);
  if (dedup_bytes < 0) return std::cerr << "no driftwatch_collector_tree_bytes in /metrics\n", 1;

  // The read side: the group's outliers and host-to-host compares.
  std::vector<std::string> outliers = {"/api/v1/fleet/outliers?group=web"};
  std::vector<std::string> compares;
  for (int i = 0; i + 1 < hosts && compares.size() < 50; i += 2) {
    compares.push_back("/api/v1/fleet/compare?a=" + HostName(i) + "&b=" + HostName(i + 1));
  }
  auto out_lat = Latencies(collector.url, read_token, outliers, queries);
  if (!out_lat.ok()) return std::cerr << "outliers: " << out_lat.status().message() << "\n", 1;
  auto cmp_lat = Latencies(collector.url, read_token, compares, queries);
  if (!cmp_lat.ok()) return std::cerr << "compare: " << cmp_lat.status().message() << "\n", 1;
  std::printf(
      "/fleet/outliers: p50 %.1f ms, p99 %.1f ms; /fleet/compare: p50 %.1f ms, p99 %.1f ms\n",
      Percentile(*out_lat, 0.5) / 1000.0, Percentile(*out_lat, 0.99) / 1000.0,
      Percentile(*cmp_lat, 0.5) / 1000.0, Percentile(*cmp_lat, 0.99) / 1000.0);
  std::printf("RESULT outliers_p99_ms %.2f ms\n", Percentile(*out_lat, 0.99) / 1000.0);
  std::printf("RESULT compare_p50_ms %.2f ms\n", Percentile(*cmp_lat, 0.5) / 1000.0);
  return 0;
}

}  // namespace
}  // namespace driftwatch::bench

int main() { return driftwatch::bench::Run(); }
