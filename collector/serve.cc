// The collector's server: `driftwatch-collector [--config FILE] [flags]`.
// Runs until SIGTERM or SIGINT; SIGHUP reloads the --config file and
// reopens the log file (docs/collector.md "Reloading").
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "collector/alerts.h"
#include "collector/api.h"
#include "collector/cli.h"
#include "collector/live_config.h"
#include "collector/log.h"
#include "collector/log_writer.h"
#include "collector/server.h"
#include "collector/signing_key.h"
#include "core/host.h"
#include "core/service.h"

namespace driftwatch::collector::cli {
namespace {

// Retention runs this often, and after a reload that changed it.
constexpr int64_t kPruneEveryNs = int64_t{600} * 1000000000;

// The dashboard's files: the installed copy, else the source tree's (a
// collector run from its build directory).
std::string DefaultWebRoot(Host& host) {
  struct stat st {};
  if (host.StatAt(AT_FDCWD, DRIFTWATCH_WEB_DIR "/index.html", &st).ok()) {
    return DRIFTWATCH_WEB_DIR;
  }
  return DRIFTWATCH_SOURCE_WEB_DIR;
}

// Connections, the store and the dashboard's files each take a descriptor:
// raise the soft limit toward the hard one so that max_connections can be
// reached, and say so when it cannot.
void RaiseOpenFileLimit(Logger& log, size_t max_connections) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  const rlim_t want = static_cast<rlim_t>(max_connections) + 256;
  if (lim.rlim_cur >= want) return;
  lim.rlim_cur = std::min(want, lim.rlim_max);
  setrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < want) {
    log.Log(LogLevel::kWarn,
            "open file limit " + std::to_string(lim.rlim_cur) + " is below " +
                std::to_string(want) +
                " (http.max_connections + 256); connections beyond it are refused");
  }
}

// Points stdout and stderr at `path` (appending; created 0640). A rotated
// file is replaced by a new one at the next call.
Status RedirectOutput(const std::string& path) {
  std::cout.flush();
  std::cerr.flush();
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640));
  if (!fd.valid()) return ErrnoStatus("log_file " + path, errno);
  if (dup2(fd.get(), STDOUT_FILENO) < 0 || dup2(fd.get(), STDERR_FILENO) < 0) {
    return ErrnoStatus("log_file " + path, errno);
  }
  return Status::Ok();
}

// The file and flags, with the built-in defaults of the keys left unset.
Result<CollectorConfig> ServeConfig(Host& host, const Flags& flags) {
  DW_ASSIGN_OR_RETURN(CollectorConfig config, LoadConfig(host, flags));
  if (config.listen.empty()) config.listen = "127.0.0.1:8080";
  if (config.web_root.empty()) config.web_root = DefaultWebRoot(host);
  if (config.log_format.empty()) config.log_format = "text";
  if (config.log_level.empty()) config.log_level = "info";
  return config;
}

// Log lines go to stderr (journald, or log_file: RedirectOutput), one
// write(2) each, so that lines of several threads never interleave.
void WriteStderr(std::string_view line) {
  while (!line.empty()) {
    const ssize_t n = write(STDERR_FILENO, line.data(), line.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to say it
    line.remove_prefix(static_cast<size_t>(n));
  }
}

// Applies log_format and log_level (checked by LoadConfig).
void ConfigureLog(Logger& log, const CollectorConfig& config) {
  auto format = ParseLogFormat(config.log_format);
  auto level = ParseLogLevel(config.log_level);
  log.Configure(format.ok() ? *format : LogFormat::kText, level.ok() ? *level : LogLevel::kInfo);
}

// What SIGHUP does; runs on main's thread.
class Reloader {
 public:
  Reloader(Host& host, const Flags& flags, LiveConfig& live, Server& server, Logger& log)
      : host_(host), flags_(flags), live_(live), server_(server), log_(log) {}

  // Re-reads the --config file and applies what may change live; returns
  // whether retention changed.
  bool Reload() {
    service::NotifyReloading();
    const std::shared_ptr<const CollectorConfig> running = live_.Get();
    auto next =
        flags_.count("config") ? ServeConfig(host_, flags_) : Result<CollectorConfig>(*running);
    // The log file first, so that what this reload says lands in the new one.
    std::string log_file = running->log_file;
    if (next.ok() && !next->log_file.empty() && !log_file.empty()) log_file = next->log_file;
    if (!log_file.empty()) {
      if (Status s = RedirectOutput(log_file); !s.ok()) {
        Log(LogLevel::kError, "reload: " + s.message() + "; logging stays where it was");
      }
    }
    bool retention_changed = false;
    if (!next.ok()) {
      Log(LogLevel::kError,
          "reload: " + next.status().message() + "; keeping the running configuration");
    } else {
      if (next->log_file.empty() != running->log_file.empty()) {
        Log(LogLevel::kWarn, "log_file changed; takes effect at restart");
        next->log_file = running->log_file;
      } else if (!next->log_file.empty()) {
        next->log_file = log_file;
      }
      for (const std::string& key : KeepRestartOnlyKeys(*running, &*next)) {
        Log(LogLevel::kWarn, key + " changed; takes effect at restart");
      }
      retention_changed = next->retention_ns != running->retention_ns;
      const size_t max_connections = next->http.max_connections;
      ConfigureLog(log_, *next);
      live_.Set(std::move(next).value());
      server_.ApplyLimits();
      RaiseOpenFileLimit(log_, max_connections);
      Log(LogLevel::kInfo, "reloaded " + (flags_.count("config") ? flags_.at("config")
                                                                 : std::string("(no --config)")));
    }
    service::NotifyReady("listening on " + server_.url());
    return retention_changed;
  }

 private:
  Host& host_;
  const Flags& flags_;
  LiveConfig& live_;
  Server& server_;
  Logger& log_;

  void Log(LogLevel level, const std::string& msg) { log_.Log(level, msg); }
};

void Prune(Logger& log, FleetStore& store, int64_t retention_ns, int64_t now_ns) {
  if (retention_ns <= 0) return;
  const int64_t cutoff = now_ns - retention_ns;
  while (true) {
    auto n = store.PruneEvents(cutoff, 10000);
    if (!n.ok()) {
      log.Log(LogLevel::kError, "retention: " + n.status().message());
      break;
    }
    if (*n < 10000) break;
  }
  // The fleet's trees by the same retention (tree_store.h): history older
  // than the cutoff, then the objects no kept root reaches.
  auto removed = store.trees().PruneTrees(cutoff);
  if (!removed.ok()) {
    log.Log(LogLevel::kError, "retention: trees: " + removed.status().message());
  } else if (*removed > 0) {
    log.Log(LogLevel::kInfo, "retention: removed " + std::to_string(*removed) + " tree objects");
  }
}

}  // namespace

void AddServeFlags(cmdline::Program& root, Host& host) {
  auto flags = std::make_shared<Flags>();
  root.SetAction(&root, [flags, &host] { return Serve(host, *flags); });
  AddFlag(&root, flags.get(), "listen", "HOST:PORT", "where to listen (default 127.0.0.1:8080)");
  AddStoreFlags(&root, flags.get());
  AddFlag(&root, flags.get(), "tls-cert", "FILE", "serve https with this certificate chain");
  AddFlag(&root, flags.get(), "tls-key", "FILE", "the private key of --tls-cert");
  AddFlag(&root, flags.get(), "web-root", "DIR", "the dashboard's files");
  AddFlag(&root, flags.get(), "state-dir", "DIR",
          std::string("where the signing key is kept (default: the SQLite store's directory, "
                      "else ") +
              kDefaultStateDir + ")");
  AddFlag(&root, flags.get(), "log-file", "FILE",
          "append stdout and stderr to FILE, reopened on SIGHUP");
  AddFlag(&root, flags.get(), "log-format", cmdline::Choices({"text", "json"}),
          "log lines as text (default) or json")
      ->check(cmdline::OneOf({"text", "json"}));
  AddFlag(&root, flags.get(), "log-level", cmdline::Choices({"debug", "info", "warn", "error"}),
          "the lowest level logged (default info)")
      ->check(cmdline::OneOf({"debug", "info", "warn", "error"}));
}

int Serve(Host& host, const Flags& flags) {
  auto loaded = ServeConfig(host, flags);
  if (!loaded.ok()) return Fail(loaded.status());
  CollectorConfig config = std::move(loaded).value();
  if (!config.log_file.empty()) {
    if (Status s = RedirectOutput(config.log_file); !s.ok()) return Fail(s);
  }
  // Signals are taken synchronously by this thread; block them before any
  // other thread starts so that they inherit the mask. SIGHUP is ignored
  // until here (main.cc), so that an early one never ends the process.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGHUP, SIG_DFL);  // blocked: taken by sigtimedwait below
  signal(SIGPIPE, SIG_IGN);
  // Lines go out through a thread of their own (log_writer.h): a stalled
  // journald or a full disk under log_file never holds up an answer.
  LineWriter* lines = nullptr;
  Logger log([&lines](std::string_view line) { lines->Push(std::string(line)); },
             [&host] { return host.NowNs(); });
  LineWriter line_writer(WriteStderr, [&log](int64_t n) {
    return log.Line(LogLevel::kWarn, "log lines dropped: the log did not keep up", {{"count", n}});
  });
  lines = &line_writer;
  ConfigureLog(log, config);
  auto store = OpenConfigStore(config);
  if (!store.ok()) return Fail(store.status());

  RaiseOpenFileLimit(log, config.http.max_connections);

  LiveConfig live(config);
  Metrics metrics;
  AlertDispatcher alerts(**store, live, metrics, host);
  Api api(
      **store, live, metrics, [&host] { return host.NowNs(); }, [&alerts] { alerts.Wake(); });
  api.SetOnRefused([&alerts](const RefusedReport& r) { alerts.ReportRefused(r); });
  api.SetProcessHost(&host);
  {
    // The signing key, made at the first start (signing_key.h). A collector
    // whose state directory was not chosen and does not exist (a PostgreSQL
    // store on a machine without /var/lib/driftwatch-collector) serves
    // unsigned, and says so.
    const bool chosen = flags.count("state-dir") != 0;
    const std::string dir = StateDir(config, chosen ? flags.at("state-dir") : "");
    struct stat st {};
    if (!chosen && !host.StatAt(AT_FDCWD, dir, &st).ok()) {
      log.Log(LogLevel::kWarn, "no state directory " + dir +
                                   ": commands are handed out unsigned; give --state-dir DIR");
    } else {
      auto keys = SigningKeys::Load(host, dir, true);
      if (!keys.ok()) return Fail(keys.status().WithContext("signing key"));
      log.Log(LogLevel::kInfo, "signing key " + keys->key().Public().Id());
      api.SetSigningKeys(std::make_shared<const SigningKeys>(std::move(keys).value()));
    }
  }
  ServerOptions options;
  options.listen = config.listen;
  options.tls_cert = config.tls_cert;
  options.tls_key = config.tls_key;
  options.web_root = config.web_root;
  options.host = &host;
  options.logger = &log;
  Server server(api, options);
  Status s = server.Start();
  if (!s.ok()) return Fail(s);
  alerts.Start();
  // The URL on stdout for whoever started the collector; with log_file,
  // stdout is the log, where every line has its level.
  if (config.log_file.empty()) std::cout << server.url() << std::endl;
  log.Log(LogLevel::kInfo, "listening on " + server.url(),
          {{"version", DRIFTWATCH_VERSION}, {"log_level", config.log_level}});
  service::NotifyReady("listening on " + server.url());

  Reloader reloader(host, flags, live, server, log);
  int64_t next_prune = 0;
  while (true) {
    const int64_t now = host.NowNs();
    if (now >= next_prune) {
      Prune(log, **store, live.Get()->retention_ns, now);
      next_prune = now + kPruneEveryNs;
    }
    const int64_t wait_ns = std::max<int64_t>(next_prune - now, 1000000);
    timespec wait{static_cast<time_t>(wait_ns / 1000000000),
                  static_cast<long>(wait_ns % 1000000000)};
    const int sig = sigtimedwait(&sigs, nullptr, &wait);
    if (sig == SIGTERM || sig == SIGINT) break;
    if (sig == SIGHUP && reloader.Reload()) next_prune = 0;
  }
  service::NotifyStopping();
  log.Log(LogLevel::kInfo, "stopping");
  server.Stop();
  alerts.Stop();
  return kExitOk;
}

}  // namespace driftwatch::collector::cli
