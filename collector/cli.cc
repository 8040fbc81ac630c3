// The collector's program and short commands: token create, migrate;
// and the flags and store selection every command shares (cli.h).
#include "collector/cli.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <optional>

#include "collector/auth.h"
#include "collector/integrity_cmd.h"
#include "collector/lifecycle_cmd.h"
#include "collector/log.h"
#include "collector/pg_import.h"
#include "collector/sqlite_store.h"
#include "collector/store_url.h"
#include "core/drift_json.h"
#include "core/host.h"

namespace driftwatch::collector::cli {
namespace {

// The SQLite file of the store `config` names; nullopt for PostgreSQL.
std::optional<std::string> SqlitePath(const CollectorConfig& config) {
  if (!config.store.empty()) {
    auto url = ParseStoreUrl(config.store);
    if (!url.ok() || url->kind != StoreUrl::Kind::kSqlite) return std::nullopt;
    return url->target;
  }
  return config.db.empty() ? std::string(kDefaultDb) : config.db;
}

Result<int64_t> PositiveNumber(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < 1 || errno == ERANGE) {
    return Status::InvalidArgument("--" + flag + ": expected a positive number, not '" + text +
                                   "'");
  }
  return static_cast<int64_t>(v);
}

// A store URL ParseStoreUrl accepts.
CLI::Validator StoreUrlCheck() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        auto url = ParseStoreUrl(text);
        if (url.ok()) return "";
        // The message names the flag already; the layer puts it in front.
        const std::string m = url.status().message();
        const size_t colon = m.find(": ");
        return m.rfind("--", 0) == 0 && colon != std::string::npos ? m.substr(colon + 2) : m;
      },
      "", "store url");
}

const std::vector<std::string> kTokenRoles = {"enroll", "read", "admin", "reenroll"};

cmdline::Manual CollectorManual() {
  cmdline::Manual m;
  m.title = "configuration drift collector, REST API and dashboard";
  m.description =
      "driftwatch-collector keeps the drift history of a fleet of driftwatch(8) agents in a "
      "SQLite or PostgreSQL store and serves it over a REST API and a web dashboard: fleet "
      "overview, drift events, per-path history, host comparison, containers and alerts.\n"
      "\n"
      "Without a command it runs the server until SIGTERM or SIGINT; SIGHUP reloads the --config "
      "file and reopens the log file. The commands manage the store a server uses: they take the "
      "STORE flags --config FILE (its store or db key), --db FILE or --store URL, and "
      "--store-pool N; a flag overrides the file.";
  m.exit_status =
      "0: success.\n\n1: verify found an event chain that does not fit (each place on a line)."
      "\n\n2: an error, including a mistake on the command line.";
  m.files =
      "/etc/driftwatch/collector.yaml\tthe configuration of the packaged service\n"
      "/var/lib/driftwatch-collector/collector.db\tthe default SQLite store\n"
      "/usr/share/driftwatch-collector/agent\tthe agent package that package agent repacks\n";
  m.see_also = "driftwatch(8)";
  return m;
}

}  // namespace

int Fail(const Status& s) {
  std::cerr << "driftwatch-collector: " << s.message() << "\n";
  return kExitError;
}

Result<CollectorConfig> LoadConfig(Host& host, const Flags& flags) {
  if (flags.count("store") && flags.count("db")) {
    return Status::InvalidArgument("give either --store or --db, not both");
  }
  CollectorConfig config;
  if (flags.count("config")) {
    DW_ASSIGN_OR_RETURN(config, LoadCollectorConfig(host, flags.at("config")));
  }
  if (flags.count("store")) {
    DW_RETURN_IF_ERROR(ParseStoreUrl(flags.at("store")).status());
    config.store = flags.at("store");
    config.db.clear();
  }
  if (flags.count("db")) {
    config.db = flags.at("db");
    config.store.clear();
  }
  if (flags.count("store-pool")) {
    DW_ASSIGN_OR_RETURN(int64_t pool, PositiveNumber("store-pool", flags.at("store-pool")));
    if (pool > 1024) return Status::InvalidArgument("--store-pool: at most 1024");
    config.store_pool = static_cast<int>(pool);
  }
  for (auto [flag, field] :
       {std::pair{"listen", &config.listen}, std::pair{"tls-cert", &config.tls_cert},
        std::pair{"tls-key", &config.tls_key}, std::pair{"web-root", &config.web_root},
        std::pair{"log-file", &config.log_file}, std::pair{"log-format", &config.log_format},
        std::pair{"log-level", &config.log_level}}) {
    if (flags.count(flag)) *field = flags.at(flag);
  }
  if (!config.log_format.empty()) {
    DW_RETURN_IF_ERROR(ParseLogFormat(config.log_format).status().WithContext("--log-format"));
  }
  if (!config.log_level.empty()) {
    DW_RETURN_IF_ERROR(ParseLogLevel(config.log_level).status().WithContext("--log-level"));
  }
  return config;
}

Result<std::unique_ptr<FleetStore>> OpenConfigStore(const CollectorConfig& config) {
  std::unique_ptr<FleetStore> store;
  if (!config.store.empty()) {
    DW_ASSIGN_OR_RETURN(store,
                        OpenStoreUrl(config.store, config.store_pool > 0 ? config.store_pool : 4));
  } else {
    DW_ASSIGN_OR_RETURN(store, OpenSqliteStore(config.db.empty() ? kDefaultDb : config.db));
  }
  FixSqliteOwnership(config);
  return store;
}

void FixSqliteOwnership(const CollectorConfig& config) {
  const std::optional<std::string> db = SqlitePath(config);
  if (!db || geteuid() != 0) return;
  const size_t slash = db->rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : db->substr(0, slash);
  struct stat d {};
  if (stat(dir.c_str(), &d) != 0 || d.st_uid == 0) return;
  // Root made these files in a directory of the collector's user: give them
  // to that user, or the service could no longer write its database.
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    const std::string f = *db + suffix;
    struct stat st {};
    if (lstat(f.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0) continue;
    if (fchownat(AT_FDCWD, f.c_str(), d.st_uid, d.st_gid, AT_SYMLINK_NOFOLLOW) != 0) {
      std::cerr << "driftwatch-collector: " << ErrnoStatus("chown " + f, errno).message() << "\n";
    }
  }
}

namespace {

// migrate --store URL: create or upgrade the schema. With --from
// sqlite:///PATH also copy that SQLite collector database into the (empty)
// PostgreSQL store (pg_import.h, docs/operations.md).
int Migrate(const Flags& flags) {
  std::optional<StoreUrl> from;
  if (flags.count("from")) {
    auto src = ParseStoreUrl(flags.at("from"));
    if (!src.ok()) return Fail(src.status());
    auto dst = ParseStoreUrl(flags.at("store"));
    if (!dst.ok()) return Fail(dst.status());
    if (src->kind != StoreUrl::Kind::kSqlite || dst->kind != StoreUrl::Kind::kPostgres) {
      return Fail(Status::InvalidArgument(
          "migrate --from copies a sqlite:/// database into a postgresql:// --store"));
    }
    from = *src;
  }
  auto line = MigrateStoreUrl(flags.at("store"));
  if (!line.ok()) return Fail(line.status());
  std::cout << *line << "\n";
  if (from) {
    auto counts = ImportSqliteIntoPg(from->target, flags.at("store"));
    if (!counts.ok()) return Fail(counts.status());
    std::cout << "copied from " << from->target << ": " << FormatImportCounts(*counts) << "\n";
  }
  return kExitOk;
}

}  // namespace

Result<TokenLimits> ParseTokenLimits(const Flags& flags, int64_t now_ns) {
  TokenLimits limits;
  if (flags.count("uses")) {
    DW_ASSIGN_OR_RETURN(limits.uses_left, PositiveNumber("uses", flags.at("uses")));
  }
  if (flags.count("expires")) {
    auto d = ParseDurationNs(flags.at("expires"));
    if (!d.ok()) return Status::InvalidArgument("--expires: " + d.status().message());
    if (*d <= 0) return Status::InvalidArgument("--expires: expected a duration above 0");
    if (*d > INT64_MAX - now_ns) return Status::InvalidArgument("--expires: too far ahead");
    limits.expires_ns = now_ns + *d;
  }
  return limits;
}

std::string DescribeTokenLimits(const TokenLimits& limits) {
  std::string uses = limits.uses_left < 0 ? "unlimited uses"
                                          : std::to_string(limits.uses_left) +
                                                (limits.uses_left == 1 ? " use" : " uses");
  std::string expiry =
      limits.expires_ns == 0 ? "never expires" : "expires " + FormatRfc3339Nanos(limits.expires_ns);
  return uses + ", " + expiry;
}

namespace {

int TokenCreate(Host& host, const Flags& flags) {
  if (!NamesStore(flags)) {
    return Fail(Status::InvalidArgument(
        "token create: expected the store: --config FILE, --db FILE or --store URL"));
  }
  auto role = ParseRole(flags.at("role"));
  if (!role.ok() || *role == Role::kAgent) {
    return Fail(Status::InvalidArgument("--role: expected enroll, read, admin or reenroll"));
  }
  const std::string host_id = flags.count("host") ? flags.at("host") : "";
  const int64_t now = host.NowNs();
  auto limits = ParseTokenLimits(flags, now);
  if (!limits.ok()) return Fail(limits.status());
  auto config = LoadConfig(host, flags);
  if (!config.ok()) return Fail(config.status());
  auto store = OpenConfigStore(*config);
  if (!store.ok()) return Fail(store.status());
  auto token = CreateToken(**store, *role, now, *limits, host_id);
  store->reset();
  FixSqliteOwnership(*config);
  if (!token.ok()) return Fail(token.status());
  if (flags.count("out")) {
    Status written = WriteTokenFile(host, flags.at("out"), *token);
    if (!written.ok()) {
      const std::string id = TokenId(HashToken(*token));
      return Fail(Status(written.code(), written.message() + "; the token created (" + id +
                                             ") was not written anywhere: revoke it with "
                                             "driftwatch-collector token revoke " +
                                             id));
    }
    std::cerr << "driftwatch-collector: token written to " << flags.at("out") << " (mode 0600)\n";
  } else {
    std::cout << *token << "\n";
  }
  // Only when limits were asked for: scripts that merge stderr into the
  // token they read keep working.
  if (*role == Role::kReenroll) {
    TokenLimits given = *limits;
    if (given.uses_left < 0) given.uses_left = 1;
    std::cerr << "driftwatch-collector: re-enroll token for host " << host_id << ": "
              << DescribeTokenLimits(given) << "\n";
  } else if (flags.count("uses") || flags.count("expires")) {
    std::cerr << "driftwatch-collector: enroll token: " << DescribeTokenLimits(*limits) << "\n";
  }
  return kExitOk;
}

}  // namespace

CLI::Option* AddFlag(CLI::App* cmd, Flags* flags, const std::string& name, const std::string& type,
                     const std::string& help) {
  return cmd
      ->add_option_function<std::string>(
          "--" + name, [flags, name](const std::string& v) { (*flags)[name] = v; }, help)
      ->type_name(type);
}

void AddStoreFlags(CLI::App* cmd, Flags* flags) {
  AddFlag(cmd, flags, "config", "FILE", "the collector's configuration: its store or db key");
  AddFlag(cmd, flags, "db", "FILE", "the SQLite store (overrides the file)");
  AddFlag(cmd, flags, "store", "URL", "sqlite:///PATH or postgresql://... (overrides the file)")
      ->check(StoreUrlCheck());
  AddFlag(cmd, flags, "store-pool", "N", "connections to a PostgreSQL store (default 4)")
      ->check(cmdline::IntegerRange(1, 1024));
}

bool NamesStore(const Flags& flags) {
  return flags.count("config") || flags.count("db") || flags.count("store");
}

void AddTokenCommand(CLI::App& root, Host& host) {
  CLI::App* token = cmdline::AddGroup(root, "token", "API tokens");
  auto f = std::make_shared<Flags>();
  CLI::App* create =
      cmdline::AddCommand(*token, "create", "create a token and print it (shown only here)",
                          [f, &host] { return TokenCreate(host, *f); });
  AddStoreFlags(create, f.get());
  AddFlag(create, f.get(), "role", cmdline::Choices(kTokenRoles),
          "enroll (agents register with it), read (dashboard, API), admin, or reenroll (one "
          "reinstalled host enrolls again under its id, keeping its history)")
      ->required()
      ->check(cmdline::OneOf(kTokenRoles));
  AddFlag(create, f.get(), "host", "HOST",
          "reenroll tokens: the enrolled host it may enroll again");
  AddFlag(create, f.get(), "out", "FILE",
          "write the token into this new file (mode 0600) instead of printing it");
  AddTokenLimitFlags(create, f.get(), "");
}

void AddTokenLimitFlags(CLI::App* cmd, Flags* flags, const std::string& default_expiry) {
  AddFlag(cmd, flags, "uses", "N", "enroll tokens: how many hosts may enroll with it")
      ->check(cmdline::PositiveInteger());
  AddFlag(cmd, flags, "expires", "DURATION",
          "enroll tokens: valid for this long, like 7d" +
              (default_expiry.empty() ? std::string(" (default: never expires)")
                                      : " (default " + default_expiry + ")"))
      ->check(cmdline::Duration());
}

void AddMigrateCommand(CLI::App& root, Host& /*host*/) {
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = cmdline::AddCommand(
      root, "migrate",
      "create or upgrade the store's schema; with --from copy a SQLite collector database into "
      "an empty PostgreSQL store",
      [f] { return Migrate(*f); });
  AddFlag(cmd, f.get(), "store", "URL", "the store: sqlite:///PATH or postgresql://...")
      ->required()
      ->check(StoreUrlCheck());
  AddFlag(cmd, f.get(), "from", "URL", "sqlite:///PATH to copy (with a postgresql:// --store)")
      ->check(StoreUrlCheck());
}

std::unique_ptr<cmdline::Program> MakeProgram(Host& host) {
  auto program = std::make_unique<cmdline::Program>(
      "driftwatch-collector",
      "driftwatch-collector: the fleet collector. Without a command it serves the API and the "
      "dashboard; SIGHUP reloads the --config file and reopens the log file.",
      CollectorManual());
  program->footer(
      "STORE flags: --config FILE (its store or db key), --db FILE, or --store URL "
      "[--store-pool N]; a flag overrides the file.\nexit status: 0 ok, 2 error");
  AddServeFlags(*program, host);
  // One line per command; each command's file adds it and its flags.
  AddTokenCommand(*program, host);
  AddLifecycleCommands(*program, host);
  AddIntegrityCommands(*program, host);
  AddBaselineCommand(*program, host);
  AddPackageCommand(*program, host);
  AddKeyCommand(*program, host);
  AddMigrateCommand(*program, host);
  return program;
}

}  // namespace driftwatch::collector::cli
