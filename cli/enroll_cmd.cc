// driftwatch enroll: registers this agent with a collector and keeps the
// issued agent token in the agent database (report_state).
#include <iostream>

#include "agent/check.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "core/host.h"
#include "report/enrollment.h"
#include "report/outbox.h"
#include "report/self_integrity.h"
#include "report/signing_trust.h"

namespace driftwatch::cli {
namespace {

struct EnrollFlags {
  std::string collector;
  std::string token;
  std::string token_file;
  std::string group;
  std::string db;
  std::string name;
  std::string ca_file;
};

// The enroll token from --token-file (a file, or "-" for stdin) or --token.
// A token on the command line is visible to every user in the process list,
// hence the file.
Result<std::string> EnrollToken(const EnrollFlags& f) {
  if (f.token.empty() == f.token_file.empty()) {
    return Status::InvalidArgument("enroll: give either --token-file FILE or --token, not " +
                                   std::string(f.token.empty() ? "neither" : "both"));
  }
  if (!f.token.empty()) return f.token;
  if (f.token_file != "-") return report::ReadTokenFile(DefaultHost(), f.token_file);
  std::string text(report::kMaxTokenFileBytes + 1, '\0');
  std::cin.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(std::cin.gcount()));
  if (text.size() > report::kMaxTokenFileBytes) {
    return Status::InvalidArgument("--token-file -: more than 4096 bytes on stdin");
  }
  return report::TokenFromText(text, "--token-file - (stdin)");
}

int Enroll(const EnrollFlags& f) {
  auto token = EnrollToken(f);
  if (!token.ok()) return Fail(token.status());
  const std::string db = f.db.empty() ? agent::DefaultDbPath() : f.db;
  auto outbox = report::OpenAgentOutbox(DefaultHost(), db);
  if (!outbox.ok()) return Fail(outbox.status());
  report::EnrollRequest request;
  request.collector = f.collector;
  request.token = std::move(token).value();
  request.name = f.name.empty() ? DefaultHost().Hostname() : f.name;
  request.group = f.group;
  request.ca_file = f.ca_file;
  request.now_ns = DefaultHost().NowNs();
  request.db_path = db;
  auto e = report::EnrollAndSave(**outbox, request);
  if (!e.ok()) return Fail(e.status());
  if (Status s = report::RecordEnroll(DefaultHost(), db, e->collector, e->host_id, e->group);
      !s.ok()) {
    return Fail(s.WithContext("enrolled as " + e->host_id + ", but the store's chain"));
  }
  std::cout << "enrolled as " << e->host_id << (e->group.empty() ? "" : " in group " + e->group)
            << " with " << e->collector << "\n";
  if (auto pinned = report::LoadPinnedKey(db); pinned.ok() && pinned->has_value()) {
    std::cout << "pinned the collector's signing key " << (*pinned)->Id() << "\n";
  }
  return kExitOk;
}

}  // namespace

void AddEnrollCommand(CLI::App& root) {
  auto f = std::make_shared<EnrollFlags>();
  CLI::App* cmd = cmdline::AddCommand(root, "enroll", "register this host with a collector",
                                      [f] { return Enroll(*f); });
  cmd->add_option("--collector", f->collector, "the collector's URL")
      ->type_name("URL")
      ->required()
      ->check(cmdline::NonEmpty());
  cmd->add_option("--token-file", f->token_file,
                  "the enroll token, from a file or - for stdin (kept out of the process list)")
      ->type_name("FILE");
  cmd->add_option("--token", f->token, "the enroll token itself (visible in the process list)")
      ->type_name("TOKEN");
  cmd->add_option("--group", f->group, "the host's group on the collector")->type_name("GROUP");
  cmd->add_option("--name", f->name, "the host's name on the collector (default: hostname)")
      ->type_name("HOST_ID");
  AddDbFlag(cmd, &f->db);
  cmd->add_option("--ca-file", f->ca_file, "CA certificates to trust for an https collector")
      ->type_name("PEM");
}

}  // namespace driftwatch::cli
