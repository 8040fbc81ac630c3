// `driftwatch check --report`: hands a finished check to the outbox.
#include <iostream>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "core/host.h"
#include "report/agent_config.h"
#include "report/reporter.h"
#include "report/self_integrity.h"

namespace driftwatch::cli {

int ReportCheck(const std::string& db_path, const std::string& rules_path, CheckResult result) {
  // What runs goes with the report, and into the chain when it changed
  // (docs/integrity.md): the configuration is the daemon's, if installed.
  Host& host = DefaultHost();
  if (Status s = report::StampSelf(host, db_path, report::ExeDigest(host), rules_path,
                                   report::kDefaultAgentConfig, /*start=*/false, &result);
      !s.ok()) {
    return Fail(s.WithContext("--report: the report was not queued, so it will not be sent"));
  }
  std::string note;
  auto id = report::QueueAndDeliver(DefaultHost(), db_path, result, &note);
  if (!id.ok()) {
    return Fail(
        id.status().WithContext("--report: the report was not queued, so it will not be "
                                "sent"));
  }
  std::cerr << "report " << *id << " queued";
  if (!note.empty()) std::cerr << "; " << note;
  std::cerr << "\n";
  return kExitOk;
}

}  // namespace driftwatch::cli
