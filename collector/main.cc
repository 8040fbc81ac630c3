// driftwatch-collector: the fleet collector (docs/collector.md). This file
// dispatches to the commands (cli.h); Usage() lists them.
#include <iostream>
#include <string>
#include <vector>

#include "collector/cli.h"
#include "collector/lifecycle_cmd.h"
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

void Usage(std::ostream& out) {
  out << "usage:\n"
         "  driftwatch-collector [--config FILE] [--listen HOST:PORT] [--db FILE]\n"
         "                       [--tls-cert F --tls-key F] [--web-root DIR] [--log-file F]\n"
         "      serve; SIGHUP reloads the --config file and reopens the log file\n"
         "  driftwatch-collector token create STORE --role enroll|read|admin\n"
         "                       [--uses N] [--expires DURATION]   (limits: enroll only)\n"
         "                       [--out FILE]   (the token into a new file of mode 0600)\n"
         "  driftwatch-collector token create STORE --role reenroll --host H\n"
         "                       [--uses N (1)] [--expires DURATION]\n"
         "  driftwatch-collector token list STORE [--format table|json]\n"
         "  driftwatch-collector token revoke ID STORE\n"
         "  driftwatch-collector host list STORE [--format table|json]\n"
         "  driftwatch-collector host remove ID STORE\n"
         "  driftwatch-collector host rename ID NEW STORE\n"
         "  driftwatch-collector baseline STORE [--group G]\n"
         "  driftwatch-collector package agent --url URL STORE --out DIR [--group G]\n"
         "                       [--ca-file F] [--uses N] [--expires DURATION (30d)]\n"
         "                       [--deb AGENT.deb]\n"
         "  driftwatch-collector migrate --store URL [--from sqlite:///PATH]\n"
         "STORE is --config FILE (its store or db key), --db FILE, or\n"
         "--store sqlite:///PATH|postgresql://... [--store-pool N]; a flag overrides the file.\n";
}

}  // namespace
}  // namespace driftwatch::collector

int main(int argc, char** argv) {
  namespace cli = driftwatch::collector::cli;
  driftwatch::Host& host = driftwatch::DefaultHost();
  std::vector<std::string> args(argv + 1, argv + argc);
  auto rest = [&](size_t n) { return cli::Args(args.begin() + n, args.end()); };
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h" || args[0] == "help")) {
    driftwatch::collector::Usage(std::cout);
    return cli::kExitOk;
  }
  if (!args.empty() && (args[0] == "--version" || args[0] == "version")) {
    std::cout << "driftwatch-collector " << DRIFTWATCH_VERSION << "\n";
    return cli::kExitOk;
  }
  if (args.size() >= 2 && args[0] == "token" && args[1] == "create") {
    return cli::TokenCreate(host, rest(2));
  }
  if (args.size() >= 2 && args[0] == "token" && args[1] == "list") {
    return cli::TokenList(host, rest(2));
  }
  if (args.size() >= 2 && args[0] == "token" && args[1] == "revoke") {
    return cli::TokenRevoke(host, rest(2));
  }
  if (args.size() >= 2 && args[0] == "host" && args[1] == "list") {
    return cli::HostList(host, rest(2));
  }
  if (args.size() >= 2 && args[0] == "host" && args[1] == "remove") {
    return cli::HostRemove(host, rest(2));
  }
  if (args.size() >= 2 && args[0] == "host" && args[1] == "rename") {
    return cli::HostRename(host, rest(2));
  }
  if (args.size() >= 2 && args[0] == "package" && args[1] == "agent") {
    return cli::PackageAgent(host, rest(2));
  }
  if (!args.empty() && args[0] == "baseline") return cli::Baseline(host, rest(1));
  if (!args.empty() && args[0] == "migrate") return cli::Migrate(host, rest(1));
  if (!args.empty() && args[0].rfind("--", 0) != 0) {
    std::cerr << "driftwatch-collector: unknown command '" << args[0] << "'\n";
    driftwatch::collector::Usage(std::cerr);
    return cli::kExitError;
  }
  return cli::Serve(host, args);
}
