// `driftwatch check --report`: hands a finished check to the outbox.
#include <iostream>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "core/host.h"
#include "report/reporter.h"

namespace driftwatch::cli {

int ReportCheck(const std::string& db_path, const CheckResult& result) {
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
