// driftwatch enroll: registers this agent with a collector and keeps the
// issued agent token in the agent database (report_state).
#include <iostream>

#include "agent/check.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "core/host.h"
#include "report/enrollment.h"
#include "report/outbox.h"

namespace driftwatch::cli {
namespace {

constexpr const char* kUsage =
    "usage: driftwatch enroll --collector URL (--token-file FILE | --token-file - | --token "
    "ENROLL_TOKEN)\n"
    "                         [--group G] [--name HOST_ID] [--db FILE] [--ca-file PEM]\n";

// The enroll token from --token-file (a file, or "-" for stdin) or --token.
// A token on the command line is visible to every user in the process list,
// hence the file.
Result<std::string> EnrollToken(const Args& a) {
  if (a.Has("token") == a.Has("token-file")) {
    return Status::InvalidArgument("enroll: give either --token-file FILE or --token, not " +
                                   std::string(a.Has("token") ? "both" : "neither"));
  }
  if (auto t = a.Get("token")) return *t;
  const std::string file = *a.Get("token-file");
  if (file != "-") return report::ReadTokenFile(DefaultHost(), file);
  std::string text(report::kMaxTokenFileBytes + 1, '\0');
  std::cin.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(std::cin.gcount()));
  if (text.size() > report::kMaxTokenFileBytes) {
    return Status::InvalidArgument("--token-file -: more than 4096 bytes on stdin");
  }
  return report::TokenFromText(text, "--token-file - (stdin)");
}

}  // namespace

int RunEnrollCommand(const std::vector<std::string>& args) {
  auto parsed = Args::Parse(args, {{"collector"},
                                   {"token"},
                                   {"token-file"},
                                   {"group"},
                                   {"db"},
                                   {"name"},
                                   {"ca-file"},
                                   {"help", false}});
  if (!parsed.ok()) return Fail(parsed.status());
  const Args& a = *parsed;
  if (a.Has("help")) {
    std::cout << kUsage;
    return kExitOk;
  }
  if (!a.Has("collector")) {
    std::cerr << kUsage;
    return kExitError;
  }
  auto token = EnrollToken(a);
  if (!token.ok()) return Fail(token.status());
  auto outbox = report::OpenAgentOutbox(DefaultHost(), a.GetOr("db", agent::DefaultDbPath()));
  if (!outbox.ok()) return Fail(outbox.status());
  report::EnrollRequest request;
  request.collector = *a.Get("collector");
  request.token = std::move(token).value();
  request.name = a.GetOr("name", DefaultHost().Hostname());
  request.group = a.GetOr("group", "");
  request.ca_file = a.GetOr("ca-file", "");
  request.now_ns = DefaultHost().NowNs();
  auto e = report::EnrollAndSave(**outbox, request);
  if (!e.ok()) return Fail(e.status());
  std::cout << "enrolled as " << e->host_id << (e->group.empty() ? "" : " in group " + e->group)
            << " with " << e->collector << "\n";
  return kExitOk;
}

}  // namespace driftwatch::cli
