// The collector's short commands: token create, baseline, migrate; and the
// flags and store selection every command shares (cli.h).
#include "collector/cli.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <optional>

#include "collector/auth.h"
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

}  // namespace

int Fail(const Status& s) {
  std::cerr << "driftwatch-collector: " << s.message() << "\n";
  return kExitError;
}

Result<Flags> ParseFlags(const Args& args, const std::vector<std::string>& known) {
  Flags out;
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

// migrate --store URL: create or upgrade the schema. With --from
// sqlite:///PATH also copy that SQLite collector database into the (empty)
// PostgreSQL store (pg_import.h, docs/operations.md).
int Migrate(Host& /*host*/, const Args& args) {
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

int TokenCreate(Host& host, const Args& args) {
  auto flags = ParseFlags(args, {"db", "store", "store-pool", "config", "role", "uses", "expires"});
  if (!flags.ok()) return Fail(flags.status());
  if ((!flags->count("db") && !flags->count("store") && !flags->count("config")) ||
      !flags->count("role")) {
    return Fail(Status::InvalidArgument(
        "usage: token create --db FILE|--store URL|--config FILE --role enroll|read|admin "
        "[--uses N] [--expires DURATION]"));
  }
  auto role = ParseRole(flags->at("role"));
  if (!role.ok() || *role == Role::kAgent) {
    return Fail(Status::InvalidArgument("--role: expected enroll, read or admin"));
  }
  const int64_t now = host.NowNs();
  auto limits = ParseTokenLimits(*flags, now);
  if (!limits.ok()) return Fail(limits.status());
  auto config = LoadConfig(host, *flags);
  if (!config.ok()) return Fail(config.status());
  auto store = OpenConfigStore(*config);
  if (!store.ok()) return Fail(store.status());
  auto token = CreateToken(**store, *role, now, *limits);
  store->reset();
  FixSqliteOwnership(*config);
  if (!token.ok()) return Fail(token.status());
  std::cout << *token << "\n";
  // Only when limits were asked for: scripts that merge stderr into the
  // token they read keep working.
  if (flags->count("uses") || flags->count("expires")) {
    std::cerr << "driftwatch-collector: enroll token: " << DescribeTokenLimits(*limits) << "\n";
  }
  return kExitOk;
}

int Baseline(Host& host, const Args& args) {
  auto flags = ParseFlags(args, {"db", "store", "store-pool", "config", "group"});
  if (!flags.ok()) return Fail(flags.status());
  if (!flags->count("db") && !flags->count("store") && !flags->count("config")) {
    return Fail(
        Status::InvalidArgument("usage: baseline --db FILE|--store URL|--config FILE [--group G]"));
  }
  auto config = LoadConfig(host, *flags);
  if (!config.ok()) return Fail(config.status());
  auto store = OpenConfigStore(*config);
  if (!store.ok()) return Fail(store.status());
  std::string group = flags->count("group") ? flags->at("group") : "";
  auto ids = (*store)->QueueCommandForGroup(group, "baseline", host.NowNs());
  store->reset();
  FixSqliteOwnership(*config);
  if (!ids.ok()) return Fail(ids.status());
  std::cout << "queued baseline for " << ids->size() << " host(s)"
            << (group.empty() ? "" : " in group " + group) << "\n";
  return kExitOk;
}

}  // namespace driftwatch::collector::cli
