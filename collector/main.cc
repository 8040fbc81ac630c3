// driftwatch-collector: the fleet collector (docs/collector.md).
//
//   driftwatch-collector --listen 127.0.0.1:8080 --db FILE [--tls-cert F --tls-key F]
//                        [--config FILE] [--web-root DIR]
//   driftwatch-collector token create --db FILE --role enroll|read|admin
//   driftwatch-collector baseline --db FILE [--group G]
//   driftwatch-collector migrate --store URL [--from sqlite:///PATH]
// Wherever --db FILE is accepted, --store URL (sqlite:///PATH or
// postgresql://...) may be given instead (docs/store-postgresql.md).
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cstring>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "collector/alerts.h"
#include "collector/api.h"
#include "collector/auth.h"
#include "collector/config.h"
#include "collector/pg_import.h"
#include "collector/server.h"
#include "collector/sqlite_store.h"
#include "collector/store_url.h"
#include "core/host.h"
#include "core/service.h"

namespace driftwatch::collector {
namespace {

// The server survives a SIGHUP from its first instruction (core/service.h).
void IgnoreEarlyHangup(int argc, char** argv, char** /*envp*/) {
  service::IgnoreHangupEarly(argc, argv, "");
}
// .preinit_array runs before the shared libraries' constructors, which
// take ~15 ms of a start here.
[[maybe_unused]] __attribute__((section(".preinit_array"),
                                used)) void (*const kIgnoreEarlyHangup)(int, char**,
                                                                        char**) = IgnoreEarlyHangup;

constexpr int kExitOk = 0;
constexpr int kExitError = 2;

int Fail(const Status& s) {
  std::cerr << "driftwatch-collector: " << s.message() << "\n";
  return kExitError;
}

// "--name value" / "--name=value" flags; every flag takes a value.
Result<std::map<std::string, std::string>> ParseFlags(const std::vector<std::string>& args,
                                                      const std::vector<std::string>& known) {
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0) return Status::InvalidArgument("unexpected argument '" + a + "'");
    std::string name = a.substr(2), value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return Status::InvalidArgument("flag --" + name + " needs a value");
    }
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return Status::InvalidArgument("unknown flag --" + name);
    }
    if (!out.emplace(name, value).second)
      return Status::InvalidArgument("flag --" + name + " given twice");
  }
  return out;
}

// The store named by --store URL, else by --db FILE (SQLite), else
// `default_db`; --store-pool sizes a PostgreSQL connection pool.
Result<std::unique_ptr<FleetStore>> OpenFlagStore(const std::map<std::string, std::string>& flags,
                                                  const std::string& default_db) {
  if (flags.count("store") && flags.count("db")) {
    return Status::InvalidArgument("give either --store or --db, not both");
  }
  int pool = 4;
  if (flags.count("store-pool")) {
    try {
      pool = std::stoi(flags.at("store-pool"));
    } catch (const std::exception&) {
      return Status::InvalidArgument("--store-pool: expected a number");
    }
  }
  if (flags.count("store")) return OpenStoreUrl(flags.at("store"), pool);
  return OpenSqliteStore(flags.count("db") ? flags.at("db") : default_db);
}

// migrate --store URL: create or upgrade the schema. With --from
// sqlite:///PATH also copy that SQLite collector database into the (empty)
// PostgreSQL store (pg_import.h, docs/operations.md).
int Migrate(const std::vector<std::string>& args) {
  auto flags = ParseFlags(args, {"store", "from"});
  if (!flags.ok()) return Fail(flags.status());
  if (!flags->count("store")) {
    return Fail(Status::InvalidArgument(
        "usage: migrate --store URL [--from sqlite:///PATH (with a postgresql:// --store)]"));
  }
  std::optional<StoreUrl> from;
  if (flags->count("from")) {
    auto src = ParseStoreUrl(flags->at("from"));
    if (!src.ok()) return Fail(src.status());
    auto dst = ParseStoreUrl(flags->at("store"));
    if (!dst.ok()) return Fail(dst.status());
    if (src->kind != StoreUrl::Kind::kSqlite || dst->kind != StoreUrl::Kind::kPostgres) {
      return Fail(Status::InvalidArgument(
          "migrate --from copies a sqlite:/// database into a postgresql:// --store"));
    }
    from = *src;
  }
  auto line = MigrateStoreUrl(flags->at("store"));
  if (!line.ok()) return Fail(line.status());
  std::cout << *line << "\n";
  if (from) {
    auto counts = ImportSqliteIntoPg(from->target, flags->at("store"));
    if (!counts.ok()) return Fail(counts.status());
    std::cout << "copied from " << from->target << ": " << FormatImportCounts(*counts) << "\n";
  }
  return kExitOk;
}

int TokenCreate(const std::vector<std::string>& args) {
  auto flags = ParseFlags(args, {"db", "store", "store-pool", "role"});
  if (!flags.ok()) return Fail(flags.status());
  if ((!flags->count("db") && !flags->count("store")) || !flags->count("role")) {
    return Fail(Status::InvalidArgument(
        "usage: token create --db FILE|--store URL --role enroll|read|admin"));
  }
  auto role = ParseRole(flags->at("role"));
  if (!role.ok() || *role == Role::kAgent) {
    return Fail(Status::InvalidArgument("--role: expected enroll, read or admin"));
  }
  auto store = OpenFlagStore(*flags, "");
  if (!store.ok()) return Fail(store.status());
  auto token = CreateToken(**store, *role, DefaultHost().NowNs());
  if (!token.ok()) return Fail(token.status());
  std::cout << *token << "\n";
  return kExitOk;
}

int Baseline(const std::vector<std::string>& args) {
  auto flags = ParseFlags(args, {"db", "store", "store-pool", "group"});
  if (!flags.ok()) return Fail(flags.status());
  if (!flags->count("db") && !flags->count("store"))
    return Fail(Status::InvalidArgument("usage: baseline --db FILE|--store URL [--group G]"));
  auto store = OpenFlagStore(*flags, "");
  if (!store.ok()) return Fail(store.status());
  std::string group = flags->count("group") ? flags->at("group") : "";
  auto ids = (*store)->QueueCommandForGroup(group, "baseline", DefaultHost().NowNs());
  if (!ids.ok()) return Fail(ids.status());
  std::cout << "queued baseline for " << ids->size() << " host(s)"
            << (group.empty() ? "" : " in group " + group) << "\n";
  return kExitOk;
}

// The dashboard's files: the installed copy, else the source tree's (a
// collector run from its build directory).
std::string DefaultWebRoot() {
  struct stat st {};
  if (DefaultHost().StatAt(AT_FDCWD, DRIFTWATCH_WEB_DIR "/index.html", &st).ok()) {
    return DRIFTWATCH_WEB_DIR;
  }
  return DRIFTWATCH_SOURCE_WEB_DIR;
}

// Connections, the store and the dashboard's files each take a descriptor:
// raise the soft limit toward the hard one so that max_connections can be
// reached, and say so when it cannot.
void RaiseOpenFileLimit(size_t max_connections) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  const rlim_t want = static_cast<rlim_t>(max_connections) + 256;
  if (lim.rlim_cur >= want) return;
  lim.rlim_cur = std::min(want, lim.rlim_max);
  setrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < want) {
    std::cerr << "driftwatch-collector: open file limit " << lim.rlim_cur << " is below " << want
              << " (http.max_connections + 256); connections beyond it are refused\n";
  }
}

int Serve(const std::vector<std::string>& args) {
  auto flags = ParseFlags(
      args, {"listen", "db", "store", "store-pool", "tls-cert", "tls-key", "config", "web-root"});
  if (!flags.ok()) return Fail(flags.status());
  auto get = [&](const char* k, const char* def) {
    return flags->count(k) ? flags->at(k) : std::string(def);
  };
  CollectorConfig config;
  if (flags->count("config")) {
    auto c = LoadCollectorConfig(DefaultHost(), flags->at("config"));
    if (!c.ok()) return Fail(c.status());
    config = std::move(c).value();
  }
  auto store = OpenFlagStore(*flags, "/var/lib/driftwatch/collector.db");
  if (!store.ok()) return Fail(store.status());

  // Signals are taken synchronously by this thread; block them before any
  // other thread starts so that they inherit the mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);
  RaiseOpenFileLimit(config.http.max_connections);

  Metrics metrics;
  AlertDispatcher alerts(**store, config, metrics);
  Api api(
      **store, config, metrics, [] { return DefaultHost().NowNs(); }, [&alerts] { alerts.Wake(); });
  api.SetOnRefused([&alerts](const RefusedReport& r) { alerts.ReportRefused(r); });
  ServerOptions options;
  options.listen = get("listen", "127.0.0.1:8080");
  options.tls_cert = get("tls-cert", "");
  options.tls_key = get("tls-key", "");
  options.limits = config.http;
  options.web_root = flags->count("web-root") ? flags->at("web-root") : DefaultWebRoot();
  Server server(api, options);
  Status s = server.Start();
  if (!s.ok()) return Fail(s);
  alerts.Start();
  std::cout << server.url() << std::endl;

  while (true) {
    if (config.retention_ns > 0) {
      const int64_t cutoff = DefaultHost().NowNs() - config.retention_ns;
      while (true) {
        auto n = (*store)->PruneEvents(cutoff, 10000);
        if (!n.ok()) {
          std::cerr << "driftwatch-collector: retention: " << n.status().message() << "\n";
          break;
        }
        if (*n < 10000) break;
      }
    }
    timespec wait{600, 0};
    int sig = sigtimedwait(&sigs, nullptr, &wait);
    if (sig == SIGTERM || sig == SIGINT) break;
  }
  server.Stop();
  alerts.Stop();
  return kExitOk;
}

void Usage(std::ostream& out) {
  out << "usage:\n"
         "  driftwatch-collector --listen HOST:PORT --db FILE [--tls-cert F --tls-key F]"
         " [--config FILE]\n"
         "                       [--web-root DIR]\n"
         "  driftwatch-collector token create --db FILE --role enroll|read|admin\n"
         "  driftwatch-collector baseline --db FILE [--group G]\n"
         "  driftwatch-collector migrate --store URL [--from sqlite:///PATH]\n"
         "  (--store sqlite:///PATH|postgresql://... [--store-pool N] may replace --db FILE)\n";
}

}  // namespace
}  // namespace driftwatch::collector

int main(int argc, char** argv) {
  using namespace driftwatch::collector;  // NOLINT: file-local entry point
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h" || args[0] == "help")) {
    Usage(std::cout);
    return kExitOk;
  }
  if (!args.empty() && (args[0] == "--version" || args[0] == "version")) {
    std::cout << "driftwatch-collector " << DRIFTWATCH_VERSION << "\n";
    return kExitOk;
  }
  if (args.size() >= 2 && args[0] == "token" && args[1] == "create") {
    return TokenCreate({args.begin() + 2, args.end()});
  }
  if (!args.empty() && args[0] == "baseline") return Baseline({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "migrate") return Migrate({args.begin() + 1, args.end()});
  if (!args.empty() && args[0].rfind("--", 0) != 0) {
    std::cerr << "driftwatch-collector: unknown command '" << args[0] << "'\n";
    Usage(std::cerr);
    return kExitError;
  }
  return Serve(args);
}
