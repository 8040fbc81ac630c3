// RunJournaledCheck (agent/journal.h): a check that examines only what the
// realtime journal marked dirty when it can.
#include "agent/journal.h"
#include "rules/policy.h"

namespace driftwatch::agent {

Result<CheckResult> RunJournaledCheck(CheckOptions options, const std::function<Status()>& sync,
                                      Status* not_recorded) {
  if (options.host == nullptr) return Status::InvalidArgument("check: no host given");
  const std::string db = options.db_path.empty() ? DefaultDbPath() : options.db_path;
  const std::string rules = options.rules_path.empty() ? DefaultRulesPath() : options.rules_path;
  std::unique_ptr<Journal> journal;
  std::optional<Consultation> consulted;
  std::string reason;
  auto policy = rules::LoadPolicyFile(*options.host, rules);
  if (policy.ok()) {
    auto j = Journal::Open(*options.host, db);
    if (j.ok()) {
      journal = std::move(*j);
      auto c = journal->Consult(policy->Fingerprint().Hex(), sync);
      if (c.ok()) {
        consulted = std::move(*c);
        options.dirty = consulted->dirty;
        reason = consulted->full_reason;
      } else {
        reason = "the journal could not be read: " + c.status().message();
      }
    }
  }
  Status unrecorded;
  DW_ASSIGN_OR_RETURN(CheckResult result, RunCheck(options, &unrecorded));
  if (consulted && consulted->watcher_alive && !result.walk.journal &&
      result.walk.full_reason.empty()) {
    result.walk.full_reason = reason;
  }
  if (!unrecorded.ok()) {
    if (not_recorded == nullptr) return unrecorded;
    *not_recorded = unrecorded;
  } else if (consulted) {
    Status s = journal->Commit(*consulted, options.baseline, !result.walk.journal);
    if (!s.ok()) result.warnings.push_back("realtime journal: " + s.message());
  }
  return result;
}

}  // namespace driftwatch::agent
