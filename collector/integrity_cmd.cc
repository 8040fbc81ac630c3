// The collector's integrity commands (integrity_cmd.h).
#include "collector/integrity_cmd.h"

#include <cpprest/json.h>
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include "collector/log.h"

namespace driftwatch::collector::cli {
namespace {

using web::json::value;

constexpr int kExitDiverged = 1;

Result<std::unique_ptr<FleetStore>> OpenStore(Host& host, const Flags& flags,
                                              CollectorConfig* config) {
  DW_ASSIGN_OR_RETURN(*config, LoadConfig(host, flags));
  return OpenConfigStore(*config);
}

// Who runs the command, for the audit line and the resolved alerts.
std::string Operator() {
  const uid_t uid = getuid();
  const struct passwd* pw = getpwuid(uid);
  return "cli uid " + std::to_string(uid) + (pw ? " (" + std::string(pw->pw_name) + ")" : "");
}

// The audit line of the collector's log (docs/operations.md "Logs"), to the
// configured log file when there is one.
Status Audit(Host& host, const CollectorConfig& config, const std::vector<LogField>& fields) {
  LogFormat format = LogFormat::kText;
  if (!config.log_format.empty()) {
    DW_ASSIGN_OR_RETURN(format, ParseLogFormat(config.log_format));
  }
  const std::string line = FormatLogLine(format, host.NowNs(), LogLevel::kInfo, "audit", fields);
  if (config.log_file.empty()) {
    std::cerr << line;
    return Status::Ok();
  }
  DW_ASSIGN_OR_RETURN(UniqueFd fd, host.OpenAt(AT_FDCWD, config.log_file,
                                               O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC));
  return host.Write(fd.get(), line);
}

}  // namespace

Result<std::map<std::string, ExportedHead>> ParseHeadsFile(const std::string& text) {
  std::error_code ec;
  const value v = value::parse(text, ec);
  if (ec) return Status::InvalidArgument("not JSON: " + ec.message());
  std::vector<value> items;
  if (v.is_array()) {
    for (const value& x : v.as_array()) items.push_back(x);
  } else if (v.is_object() && v.has_field("hosts") && v.at("hosts").is_array()) {
    for (const value& x : v.at("hosts").as_array()) items.push_back(x);
  } else {
    items.push_back(v);
  }
  std::map<std::string, ExportedHead> out;
  for (size_t i = 0; i < items.size(); ++i) {
    const value& x = items[i];
    const std::string where = "heads[" + std::to_string(i) + "]";
    if (!x.is_object() || !x.has_field("host") || !x.at("host").is_string() ||
        !x.has_field("event_chain") || !x.at("event_chain").is_object()) {
      return Status::InvalidArgument(where +
                                     ": expected {\"host\", \"event_chain\"} as GET "
                                     "/api/v1/hosts/{host}/chain answers");
    }
    const value& e = x.at("event_chain");
    if (!e.has_field("length") || !e.at("length").is_number() ||
        !e.at("length").as_number().is_int64() || !e.has_field("head") ||
        !e.at("head").is_string()) {
      return Status::InvalidArgument(where + ".event_chain: expected length and head");
    }
    out[x.at("host").as_string()] = {e.at("length").as_number().to_int64(),
                                     e.at("head").as_string()};
  }
  return out;
}

int RunTrustReset(Host& host, const Flags& flags, const std::string& id) {
  const std::string& reason = flags.at("reason");
  if (reason.empty() || reason.size() > 1000) {
    return Fail(Status::InvalidArgument("--reason: expected 1 to 1000 bytes saying why"));
  }
  CollectorConfig config;
  auto store = OpenStore(host, flags, &config);
  if (!store.ok()) return Fail(store.status());
  const std::string by = Operator();
  auto epoch = (*store)->TrustReset(id, by, reason, host.NowNs());
  store->reset();
  FixSqliteOwnership(config);
  if (!epoch.ok()) return Fail(epoch.status());
  Status audited = Audit(host, config,
                         {{"event", "trust_reset"},
                          {"outcome", "ok"},
                          {"via", "cli"},
                          {"operator", by},
                          {"host", id},
                          {"epoch", *epoch},
                          {"reason", reason}});
  if (!audited.ok())
    std::cerr << "driftwatch-collector: audit line not written: " << audited.message() << "\n";
  std::cout << "host " << id << ": trust reset (epoch " << *epoch
            << "); its open integrity alerts are resolved and its next chain is adopted\n";
  return kExitOk;
}

int RunVerify(Host& host, const Flags& flags) {
  std::map<std::string, ExportedHead> expected;
  if (flags.count("heads")) {
    auto text = host.ReadFile(flags.at("heads"), 64 << 20);
    if (!text.ok()) return Fail(text.status().WithContext(flags.at("heads")));
    auto parsed = ParseHeadsFile(*text);
    if (!parsed.ok()) return Fail(parsed.status().WithContext(flags.at("heads")));
    expected = std::move(parsed).value();
  }
  const std::string only = flags.count("host") ? flags.at("host") : "";
  CollectorConfig config;
  auto store = OpenStore(host, flags, &config);
  if (!store.ok()) return Fail(store.status());
  if (!only.empty()) {
    if (auto h = (*store)->GetHost(only); !h.ok()) return Fail(h.status());
  }
  auto findings = (*store)->VerifyEventChains(only, expected);
  store->reset();
  FixSqliteOwnership(config);
  if (!findings.ok()) return Fail(findings.status());
  for (const EventChainFinding& f : *findings) {
    std::cout << "host " << f.host_id;
    if (f.event_id > 0) std::cout << " event " << f.event_id;
    std::cout << " seq " << f.seq << ": " << f.detail << "\n";
  }
  if (!findings->empty()) return kExitDiverged;
  std::cout << "every event chain fits" << (expected.empty() ? "" : ", and the exported heads")
            << "\n";
  return kExitOk;
}

void AddIntegrityCommands(CLI::App& root, Host& host) {
  CLI::App* hosts = root.get_subcommand("host");
  auto tr = std::make_shared<Flags>();
  CLI::App* reset = cmdline::AddCommand(
      *hosts, "trust-reset",
      "trust a host's chain again after an integrity alert: its next chain is adopted, its "
      "open integrity alerts resolved (audited)",
      [tr, &host] {
        if (!NamesStore(*tr)) {
          return Fail(Status::InvalidArgument(
              "expected the store: --config FILE, --db FILE or --store URL"));
        }
        return RunTrustReset(host, *tr, tr->at("HOST"));
      });
  reset
      ->add_option_function<std::string>(
          "HOST", [tr](const std::string& v) { (*tr)["HOST"] = v; }, "the host's id")
      ->required();
  AddFlag(reset, tr.get(), "reason", "TEXT", "why the host is trusted again (kept and audited)")
      ->required();
  AddStoreFlags(reset, tr.get());

  auto vf = std::make_shared<Flags>();
  CLI::App* verify = cmdline::AddCommand(
      root, "verify",
      "recompute the collector's per-host event chains; exit 1 naming each event that does "
      "not fit",
      [vf, &host] {
        if (!NamesStore(*vf)) {
          return Fail(Status::InvalidArgument(
              "expected the store: --config FILE, --db FILE or --store URL"));
        }
        return RunVerify(host, *vf);
      });
  AddFlag(verify, vf.get(), "host", "HOST", "only this host");
  AddFlag(verify, vf.get(), "heads", "FILE",
          "heads exported earlier (GET /api/v1/hosts/{host}/chain answers) to check against");
  AddStoreFlags(verify, vf.get());
}

}  // namespace driftwatch::collector::cli
