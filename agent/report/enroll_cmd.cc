// driftwatch enroll: registers this agent with a collector and keeps the
// issued agent token in the agent database (report_state).
#include <iostream>

#include "agent/check.h"
#include "agent/cli_args.h"
#include "agent/commands.h"
#include "agent/report/client.h"
#include "agent/report/outbox.h"
#include "core/host.h"

namespace driftwatch::cli {

int RunEnrollCommand(const std::vector<std::string>& args) {
  auto parsed = Args::Parse(
      args, {{"collector"}, {"token"}, {"group"}, {"db"}, {"name"}, {"ca-file"}, {"help", false}});
  if (!parsed.ok()) return Fail(parsed.status());
  const Args& a = *parsed;
  if (a.Has("help") || !a.Has("collector") || !a.Has("token")) {
    std::cerr << "usage: driftwatch enroll --collector URL --token ENROLL_TOKEN [--group G]"
                 " [--name HOST_ID] [--db FILE] [--ca-file PEM]\n";
    return a.Has("help") ? kExitOk : kExitError;
  }
  const std::string db = a.GetOr("db", agent::DefaultDbPath());
  auto outbox = report::Outbox::Open(db);
  if (!outbox.ok()) return Fail(outbox.status());
  report::CollectorClient client(*a.Get("collector"), *a.Get("token"), a.GetOr("ca-file", ""));
  auto answer = client.Enroll(a.GetOr("name", DefaultHost().Hostname()), a.GetOr("group", ""));
  if (!answer.ok()) return Fail(answer.status());
  report::Enrollment e;
  e.collector = *a.Get("collector");
  e.host_id = answer->host_id;
  e.token = answer->token;
  e.group = answer->group;
  e.ca_file = a.GetOr("ca-file", "");
  Status s = (*outbox)->SaveEnrollment(e);
  if (!s.ok()) return Fail(s);
  std::cout << "enrolled as " << e.host_id << (e.group.empty() ? "" : " in group " + e.group)
            << " with " << e.collector << "\n";
  return kExitOk;
}

}  // namespace driftwatch::cli
