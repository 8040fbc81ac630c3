// The collector's escrow of agent chains: the verdict on a report's `chain`
// and `self` fields (docs/integrity.md "At the collector", docs/wire.md
// "Integrity"), the same for every store backend.
//
// A backend reads what it holds for the host (HeldChain, and through an
// EscrowLedger the stored heads and the latest baseline records) inside its
// ingest transaction, calls JudgeChain / JudgeSelf, and writes what the
// verdict says: the new records to escrow, the new held state, the
// integrity alerts. Escrowed records are never overwritten; a fork or a
// rewind leaves the held state as it was.
//
// Pure functions of their arguments; thread-compatible.
#ifndef DRIFTWATCH_COLLECTOR_ESCROW_H_
#define DRIFTWATCH_COLLECTOR_ESCROW_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/chain.h"
#include "core/drift.h"
#include "core/status.h"

namespace driftwatch::collector {

// What the collector holds of a host's chain in its current epoch. Epochs
// start at 1; a trust reset starts the next one with nothing adopted.
struct HeldChain {
  int64_t epoch = 1;
  int64_t length = 0;
  std::string head = chain::GenesisHead();
  bool adopted = false;  // a chain was accepted in this epoch (trust on first use)
};

// The latest `baseline` or `accept` record of one baseline name.
struct EscrowedBaseline {
  std::string name;
  int64_t revision = 0;
  std::string root;
  int64_t seq = 0;  // the record's seq
};

// What JudgeChain reads from the store, in the host's current epoch.
class EscrowLedger {
 public:
  virtual ~EscrowLedger() = default;
  // The stored head after record `seq` (1 <= seq <= held length).
  virtual Result<std::string> HeadAt(int64_t seq) = 0;
  // The latest baseline/accept record of `name`; nullopt when none.
  virtual Result<std::optional<EscrowedBaseline>> LatestBaseline(const std::string& name) = 0;
};

// Integrity alert kinds (docs/api.md "Integrity").
inline constexpr std::string_view kAlertFork = "fork";
inline constexpr std::string_view kAlertRewind = "rewind";
inline constexpr std::string_view kAlertBaselineOutside = "baseline-outside-chain";
inline constexpr std::string_view kAlertExe = "exe";
inline constexpr std::string_view kAlertRules = "rules";
inline constexpr std::string_view kAlertConfig = "config";

// One finding of a verdict. An explained change is listed at severity
// "info" and stored resolved (by "collector", with the explanation).
struct IntegrityFinding {
  std::string kind;
  std::string severity;  // "critical", "high" or "info"
  int64_t seq = 0;       // the chain record concerned; 0 when none
  std::string detail;    // what diverged: both heads, both roots, both digests
  bool explained = false;
  std::string explanation;  // when explained
  friend bool operator==(const IntegrityFinding&, const IntegrityFinding&) = default;
};

// The `chain` field of the 200 answer.
enum class ChainState { kOk, kAdopted, kResend, kAlert };
std::string_view ChainStateName(ChainState s);  // "ok", "adopted", "resend", "alert"

struct ChainAnswer {
  int64_t held = 0;
  std::string head;
  ChainState state = ChainState::kOk;
  friend bool operator==(const ChainAnswer&, const ChainAnswer&) = default;
};

// The answer as stored with its report, so that a duplicate gets it again:
// a small JSON object, "" for none. Parsing gives nullopt for "" and for
// text this function did not write.
std::string ChainAnswerText(const std::optional<ChainAnswer>& a);
std::optional<ChainAnswer> ParseChainAnswerText(const std::string& text);

struct ChainVerdict {
  ChainAnswer answer;
  HeldChain next;  // the held state to store (unchanged after a fork or rewind)
  // Records to escrow in next.epoch, each with its head, oldest first.
  std::vector<std::pair<chain::Record, std::string>> escrow;
  // The baseline/accept records among `escrow`, latest per name.
  std::vector<EscrowedBaseline> baselines;
  std::vector<IntegrityFinding> findings;
};

// The verdict on a report's chain (Contract 2):
//  - from > held length: resend, nothing escrowed;
//  - heads are recomputed from the held head at `from`; when the last does
//    not equal the sent head, the agent's chain differs at or before
//    `from`: fork at `from`, nothing escrowed;
//  - a record with seq <= held length whose head differs from the stored
//    one: fork at the first such seq; a chain shorter than the held one
//    whose records fit: rewind. Either way nothing is escrowed;
//  - else the records past the held length are escrowed, and each `check`
//    record among them must name the baseline revision and root of the
//    latest baseline/accept record of its baseline (else
//    baseline-outside-chain, the records still escrowed);
//  - the state is alert when there are findings, adopted when nothing was
//    adopted in this epoch before, else ok.
// Store errors of the ledger are returned as they are.
Result<ChainVerdict> JudgeChain(const HeldChain& held, const chain::ReportChain& report,
                                EscrowLedger& ledger);

// What the collector keeps of a host's `self` between reports.
struct SelfContext {
  std::optional<chain::SelfDigests> previous;  // nullopt before the first report with `self`
  // The driftwatch package's version in the host's stored inventory and in
  // this report's full package list ("" when absent or not sent).
  std::string stored_package_version;
  std::string report_package_version;
};

// The verdict on a report's `self` (Contract 2): a changed exe is critical
// unless the version changed or the package inventory shows driftwatch at a
// new version; changed rules or config are high unless a `rules`/`config`
// record among `records` (this report's) explains them. Explained changes
// are listed as info. Nothing when there is no previous `self`.
std::vector<IntegrityFinding> JudgeSelf(const SelfContext& context, const chain::SelfDigests& now,
                                        const std::vector<chain::Record>& records);

// The driftwatch agent's package names, as the package inventory lists them.
bool IsDriftwatchPackage(std::string_view name);
// The version of the driftwatch package in `list`, "" when absent.
std::string DriftwatchPackageVersion(const std::vector<PackageInfo>& list);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_ESCROW_H_
