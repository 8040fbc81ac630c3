// The collector's fleet lifecycle commands (lifecycle_cmd.h).
#include "collector/lifecycle_cmd.h"

#include <cpprest/json.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <vector>

#include "collector/api_json.h"
#include "collector/auth.h"
#include "core/drift_json.h"
#include "core/private_file.h"

namespace driftwatch::collector::cli {
namespace {

// The store the STORE flags name; *config is the configuration it came from.
Result<std::unique_ptr<FleetStore>> OpenFlagsStore(Host& host, const Flags& flags,
                                                   CollectorConfig* config) {
  DW_ASSIGN_OR_RETURN(*config, LoadConfig(host, flags));
  return OpenConfigStore(*config);
}

// Closes the store and hands its files back as OpenConfigStore does.
void CloseStore(std::unique_ptr<FleetStore>& store, const CollectorConfig& config) {
  store.reset();
  FixSqliteOwnership(config);
}

// --format json (checked while parsing) rather than the table.
bool JsonFormat(const Flags& flags) {
  return flags.count("format") && flags.at("format") == "json";
}

// RFC 3339 to the second, or `none` for 0.
std::string When(int64_t ns, const char* none) {
  if (ns == 0) return none;
  std::string t = FormatRfc3339Nanos(ns);
  const size_t dot = t.find('.');
  return dot == std::string::npos ? t : t.substr(0, dot) + "Z";
}

// Prints rows as columns separated by two spaces, the first row a header.
void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

}  // namespace

Status WriteTokenFile(Host& host, const std::string& path, const std::string& token) {
  const size_t slash = path.rfind('/');
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") {
    return Status::InvalidArgument(path + ": expected a file name for the token");
  }
  std::string dir = ".";
  if (slash == 0) dir = "/";
  if (slash != std::string::npos && slash > 0) {
    dir = path.substr(0, slash);
    DW_RETURN_IF_ERROR(MakeDirs(host, dir, 0700));
  }
  // The file is made in the directory checked, through its fd.
  DW_ASSIGN_OR_RETURN(UniqueFd dir_fd, host.OpenAt(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY));
  struct stat st {};
  DW_RETURN_IF_ERROR(host.Fstat(dir_fd.get(), &st).WithContext(dir));
  if (OpenToOthers(st.st_mode)) {
    return Status::PermissionDenied(dir + ": mode " + OctalMode(st.st_mode) +
                                    " lets other users into the token's directory; refusing to "
                                    "write the token there. Fix: chmod 700 " +
                                    dir + ", or give --out a file in a directory of its own");
  }
  auto fd = host.OpenAt(dir_fd.get(), name,
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
  if (!fd.ok()) {
    if (fd.status().code() == StatusCode::kAlreadyExists) {
      return Status::AlreadyExists(path + ": exists already; give a new file for the token");
    }
    return fd.status().WithContext(dir);
  }
  // Host has no write call: the bytes go to the fd it opened.
  const std::string text = token + "\n";
  Status written = Status::Ok();
  for (size_t done = 0; written.ok() && done < text.size();) {
    const ssize_t n = ::write(fd->get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) written = ErrnoStatus("write " + path, errno);
    if (n > 0) done += static_cast<size_t>(n);
  }
  if (written.ok() && ::fsync(fd->get()) != 0) written = ErrnoStatus("fsync " + path, errno);
  if (written.ok() && ::close(fd->release()) != 0) written = ErrnoStatus("close " + path, errno);
  if (!written.ok()) {
    fd->Reset();
    (void)host.Remove(path);  // no part of a token is left behind
  }
  return written;
}

int RunTokenList(Host& host, const Flags& flags) {
  const bool json = JsonFormat(flags);
  CollectorConfig config;
  auto store = OpenFlagsStore(host, flags, &config);
  if (!store.ok()) return Fail(store.status());
  auto tokens = (*store)->ListTokens();
  CloseStore(*store, config);
  if (!tokens.ok()) return Fail(tokens.status());
  if (json) {
    web::json::value list = web::json::value::array(tokens->size());
    for (size_t i = 0; i < tokens->size(); ++i) list[i] = TokenRecordJson((*tokens)[i]);
    web::json::value o = web::json::value::object();
    o["tokens"] = list;
    std::cout << o.serialize() << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {
      {"ID", "ROLE", "HOST", "CREATED", "EXPIRES", "USES LEFT", "REVOKED", "LAST USED"}};
  for (const TokenRecord& t : *tokens) {
    const TokenLimits& l = t.info.limits;
    rows.push_back({t.id, std::string(RoleName(t.info.role)),
                    t.info.host_id.empty() ? "-" : t.info.host_id, When(t.created_ns, "-"),
                    When(l.expires_ns, "never"),
                    l.uses_left < 0 ? "unlimited" : std::to_string(l.uses_left),
                    When(t.info.revoked_ns, "-"), When(t.info.last_used_ns, "never")});
  }
  PrintTable(rows);
  return kExitOk;
}

int RunTokenRevoke(Host& host, const Flags& flags, const std::string& id) {
  CollectorConfig config;
  auto store = OpenFlagsStore(host, flags, &config);
  if (!store.ok()) return Fail(store.status());
  auto revoked = (*store)->RevokeToken(id, host.NowNs());
  CloseStore(*store, config);
  if (!revoked.ok()) {
    if (revoked.status().code() == StatusCode::kNotFound) {
      return Fail(Status::NotFound("unknown token id '" + id +
                                   "' (ids are listed by `driftwatch-collector token list`)"));
    }
    return Fail(revoked.status());
  }
  std::cout << "revoked token " << id << " at " << When(*revoked, "-") << "\n";
  return kExitOk;
}

int RunHostList(Host& host, const Flags& flags) {
  const bool json = JsonFormat(flags);
  CollectorConfig config;
  auto store = OpenFlagsStore(host, flags, &config);
  if (!store.ok()) return Fail(store.status());
  auto hosts = (*store)->ListHosts();
  CloseStore(*store, config);
  if (!hosts.ok()) return Fail(hosts.status());
  const int64_t now = host.NowNs();
  if (json) {
    web::json::value list = web::json::value::array(hosts->size());
    for (size_t i = 0; i < hosts->size(); ++i) {
      list[i] = HostToJson((*hosts)[i], now, config.silent_after_ns, false);
    }
    web::json::value o = web::json::value::object();
    o["hosts"] = list;
    std::cout << o.serialize() << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {
      {"ID", "GROUP", "AGENT", "ENROLLED", "LAST REPORT", "REPORTS", "EVENTS"}};
  for (const HostRecord& h : *hosts) {
    rows.push_back({h.id, h.group.empty() ? "-" : h.group,
                    h.agent_version.empty() ? "-" : h.agent_version, When(h.enrolled_ns, "-"),
                    When(h.last_report_ns, "never"), std::to_string(h.reports),
                    std::to_string(h.events)});
  }
  PrintTable(rows);
  return kExitOk;
}

int RunHostRemove(Host& host, const Flags& flags, const std::string& id) {
  CollectorConfig config;
  auto store = OpenFlagsStore(host, flags, &config);
  if (!store.ok()) return Fail(store.status());
  Status s = (*store)->RemoveHost(id, host.NowNs());
  CloseStore(*store, config);
  if (!s.ok()) return Fail(s);
  std::cout << "removed host " << id
            << ": its reports, events, inventory and commands are deleted, its tokens revoked\n";
  return kExitOk;
}

int RunHostRename(Host& host, const Flags& flags, const std::string& id, const std::string& name) {
  if (!ValidHostId(name)) {
    return Fail(Status::InvalidArgument("NEW: expected 1-128 characters of A-Z a-z 0-9 . _ -"));
  }
  CollectorConfig config;
  auto store = OpenFlagsStore(host, flags, &config);
  if (!store.ok()) return Fail(store.status());
  Status s = (*store)->RenameHost(id, name);
  CloseStore(*store, config);
  if (!s.ok()) return Fail(s);
  std::cout << "renamed host " << id << " to " << name << "; its agent's reports as " << id
            << " are refused until it enrolls as " << name
            << " with a re-enroll token (docs/operations.md)\n";
  return kExitOk;
}

void AddLifecycleCommands(CLI::App& root, Host& host) {
  // Operands are kept beside the flags, under names no flag has.
  auto needs_store = [](const Flags& f) {
    return NamesStore(f) ? Status::Ok()
                         : Status::InvalidArgument(
                               "expected the store: --config FILE, --db FILE or --store URL");
  };
  auto run = [needs_store](const std::shared_ptr<Flags>& f, std::function<int(const Flags&)> go) {
    return [f, needs_store, go] {
      Status s = needs_store(*f);
      return s.ok() ? go(*f) : Fail(s);
    };
  };
  auto add_format = [](CLI::App* cmd, Flags* f) {
    AddFlag(cmd, f, "format", cmdline::Choices({"table", "json"}), "output as a table or json")
        ->check(cmdline::OneOf({"table", "json"}));
  };
  auto add_operand = [](CLI::App* cmd, Flags* f, const std::string& name, const std::string& help) {
    cmd->add_option_function<std::string>(
           name, [f, name](const std::string& v) { (*f)[name] = v; }, help)
        ->required();
  };

  CLI::App* token = root.get_subcommand("token");
  auto tl = std::make_shared<Flags>();
  CLI::App* list =
      cmdline::AddCommand(*token, "list", "every token by its public id, no secret",
                          run(tl, [&host](const Flags& f) { return RunTokenList(host, f); }));
  AddStoreFlags(list, tl.get());
  add_format(list, tl.get());
  auto tr = std::make_shared<Flags>();
  CLI::App* revoke = cmdline::AddCommand(
      *token, "revoke", "revoke a token: its next request is refused",
      run(tr, [&host](const Flags& f) { return RunTokenRevoke(host, f, f.at("ID")); }));
  add_operand(revoke, tr.get(), "ID", "the token's id (token list)");
  AddStoreFlags(revoke, tr.get());

  CLI::App* hosts = cmdline::AddGroup(root, "host", "enrolled hosts: list, remove, rename");
  auto hl = std::make_shared<Flags>();
  CLI::App* hlist =
      cmdline::AddCommand(*hosts, "list", "every enrolled host",
                          run(hl, [&host](const Flags& f) { return RunHostList(host, f); }));
  AddStoreFlags(hlist, hl.get());
  add_format(hlist, hl.get());
  auto hr = std::make_shared<Flags>();
  CLI::App* remove = cmdline::AddCommand(
      *hosts, "remove", "remove a host and everything stored for it; its tokens are revoked",
      run(hr, [&host](const Flags& f) { return RunHostRemove(host, f, f.at("ID")); }));
  add_operand(remove, hr.get(), "ID", "the host's id");
  AddStoreFlags(remove, hr.get());
  auto hn = std::make_shared<Flags>();
  CLI::App* rename = cmdline::AddCommand(
      *hosts, "rename", "give a host a new id, keeping its history and tokens",
      run(hn, [&host](const Flags& f) { return RunHostRename(host, f, f.at("ID"), f.at("NEW")); }));
  add_operand(rename, hn.get(), "ID", "the host's id");
  add_operand(rename, hn.get(), "NEW", "its new id");
  AddStoreFlags(rename, hn.get());
}

}  // namespace driftwatch::collector::cli
