// The escrow verdicts (escrow.h, Contract 2 of docs/integrity.md).
#include "collector/escrow.h"

#include <cpprest/json.h>

#include <map>

namespace driftwatch::collector {
namespace {

// The fields of a record body, or an empty map when it is not one (a body
// the agent could not have written is a fact about the agent, not a reason
// to refuse its report: the check below then sees no baseline named).
std::map<std::string, std::string> Fields(const chain::Record& r) {
  auto parsed = chain::ParseBody(r.body);
  if (!parsed.ok()) return {};
  return std::move(parsed).value();
}

int64_t ToInt(const std::string& s) {
  int64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
    if (v > (int64_t{1} << 53)) return -1;
  }
  return s.empty() ? -1 : v;
}

}  // namespace

std::string_view ChainStateName(ChainState s) {
  switch (s) {
    case ChainState::kOk:
      return "ok";
    case ChainState::kAdopted:
      return "adopted";
    case ChainState::kResend:
      return "resend";
    case ChainState::kAlert:
      return "alert";
  }
  return "ok";
}

Result<ChainVerdict> JudgeChain(const HeldChain& held, const chain::ReportChain& report,
                                EscrowLedger& ledger) {
  ChainVerdict v;
  v.next = held;
  v.answer.held = held.length;
  v.answer.head = held.head;
  if (report.from > held.length) {
    v.answer.state = ChainState::kResend;
    return v;
  }
  // The decoder checked that the records are numbered from+1 .. length.
  std::string start = chain::GenesisHead();
  if (report.from > 0) {
    DW_ASSIGN_OR_RETURN(start, ledger.HeadAt(report.from));
  }
  std::vector<std::string> heads;
  const size_t fit = chain::FirstMismatch(start, report.from, report.records, {}, &heads);
  if (fit != report.records.size()) {
    return Status::InvalidArgument("chain.records[" + std::to_string(fit) +
                                   "]: not numbered after the record before it");
  }
  // Records sent that do not give the head sent, chained from the head the
  // collector holds at `from`: the agent's chain differs at or before
  // `from` (a record edited and the chain recomputed). The report is
  // stored all the same; nothing of its chain is escrowed.
  const std::string& last = heads.empty() ? start : heads.back();
  if (last != report.head) {
    v.answer.state = ChainState::kAlert;
    v.findings.push_back({std::string(kAlertFork), "critical", report.from,
                          "the chain forks at or before seq " + std::to_string(report.from) +
                              ": the records after it, chained from the head the collector "
                              "holds there (" +
                              start + "), end in head " + last +
                              ", but the agent's chain ends in head " + report.head,
                          false, ""});
    return v;
  }
  // Records the collector holds already must be the ones it holds.
  for (size_t i = 0; i < report.records.size(); ++i) {
    const int64_t seq = report.records[i].seq;
    if (seq > held.length) break;
    DW_ASSIGN_OR_RETURN(std::string stored, ledger.HeadAt(seq));
    if (stored != heads[i]) {
      v.answer.state = ChainState::kAlert;
      v.findings.push_back({std::string(kAlertFork), "critical", seq,
                            "the chain forks at seq " + std::to_string(seq) + " (" +
                                report.records[i].kind + "): the collector holds head " + stored +
                                ", the agent's record gives head " + heads[i] +
                                "; the collector holds " + std::to_string(held.length) + " records",
                            false, ""});
      return v;
    }
  }
  if (report.length < held.length) {
    v.answer.state = ChainState::kAlert;
    DW_ASSIGN_OR_RETURN(std::string stored, ledger.HeadAt(held.length));
    v.findings.push_back({std::string(kAlertRewind), "critical", report.length,
                          "the chain was rewound: the agent's ends at seq " +
                              std::to_string(report.length) + " (head " + report.head +
                              "), the collector holds " + std::to_string(held.length) +
                              " records (head " + stored + ")",
                          false, ""});
    return v;
  }
  // The new records extend the held chain. Check records must name the
  // revision the chain itself says the baseline has.
  std::map<std::string, EscrowedBaseline> baselines;  // this report's, latest per name
  for (size_t i = 0; i < report.records.size(); ++i) {
    const chain::Record& r = report.records[i];
    if (r.seq <= held.length) continue;
    v.escrow.emplace_back(r, heads[i]);
    if (r.kind == chain::kBaseline || r.kind == chain::kAccept) {
      auto f = Fields(r);
      if (f.count("name") == 0) continue;
      baselines[f["name"]] = {f["name"], ToInt(f["revision"]), f["root"], r.seq};
    } else if (r.kind == chain::kCheck) {
      auto f = Fields(r);
      const std::string name = f["baseline"];
      std::optional<EscrowedBaseline> b;
      if (auto it = baselines.find(name); it != baselines.end()) {
        b = it->second;
      } else {
        DW_ASSIGN_OR_RETURN(b, ledger.LatestBaseline(name));
      }
      const int64_t revision = ToInt(f["revision"]);
      const std::string& root = f["baseline_root"];
      if (!b) {
        v.findings.push_back({std::string(kAlertBaselineOutside), "critical", r.seq,
                              "check at seq " + std::to_string(r.seq) + " ran against baseline '" +
                                  name + "' revision " + f["revision"] + " (root " + root +
                                  "), which the chain never recorded",
                              false, ""});
      } else if (b->revision != revision || b->root != root) {
        v.findings.push_back({std::string(kAlertBaselineOutside), "critical", r.seq,
                              "check at seq " + std::to_string(r.seq) + " ran against baseline '" +
                                  name + "' revision " + f["revision"] + " (root " + root +
                                  "); the chain's latest is revision " +
                                  std::to_string(b->revision) + " (root " + b->root + ") at seq " +
                                  std::to_string(b->seq),
                              false, ""});
      }
    }
  }
  for (auto& [name, b] : baselines) v.baselines.push_back(std::move(b));
  if (!v.escrow.empty()) {
    v.next.length = v.escrow.back().first.seq;
    v.next.head = v.escrow.back().second;
  }
  v.answer.held = v.next.length;
  v.answer.head = v.next.head;
  if (!v.findings.empty()) {
    v.answer.state = ChainState::kAlert;
  } else if (!held.adopted) {
    v.answer.state = ChainState::kAdopted;
  } else {
    v.answer.state = ChainState::kOk;
  }
  v.next.adopted = true;
  return v;
}

std::string ChainAnswerText(const std::optional<ChainAnswer>& a) {
  if (!a) return "";
  web::json::value o = web::json::value::object();
  o["held"] = web::json::value::number(a->held);
  o["head"] = web::json::value::string(a->head);
  o["state"] = web::json::value::string(std::string(ChainStateName(a->state)));
  return o.serialize();
}

std::optional<ChainAnswer> ParseChainAnswerText(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::error_code ec;
  const web::json::value o = web::json::value::parse(text, ec);
  if (ec || !o.is_object() || !o.has_integer_field("held") || !o.has_string_field("head") ||
      !o.has_string_field("state")) {
    return std::nullopt;
  }
  ChainAnswer a;
  a.held = o.at("held").as_number().to_int64();
  a.head = o.at("head").as_string();
  const std::string state = o.at("state").as_string();
  for (ChainState s :
       {ChainState::kOk, ChainState::kAdopted, ChainState::kResend, ChainState::kAlert}) {
    if (ChainStateName(s) == state) a.state = s;
  }
  return a;
}

bool IsDriftwatchPackage(std::string_view name) { return name == "driftwatch"; }

std::string DriftwatchPackageVersion(const std::vector<PackageInfo>& list) {
  for (const PackageInfo& p : list) {
    if (IsDriftwatchPackage(p.name)) return p.version;
  }
  return "";
}

std::vector<IntegrityFinding> JudgeSelf(const SelfContext& context, const chain::SelfDigests& now,
                                        const std::vector<chain::Record>& records) {
  std::vector<IntegrityFinding> out;
  if (!context.previous) return out;
  const chain::SelfDigests& was = *context.previous;
  if (was.exe != now.exe && !was.exe.empty() && !now.exe.empty()) {
    IntegrityFinding f{std::string(kAlertExe),
                       "critical",
                       0,
                       "the agent's executable changed: sha256 " + was.exe + " (version " +
                           was.version + ") is now " + now.exe + " (version " + now.version + ")",
                       false,
                       ""};
    if (was.version != now.version) {
      f.explained = true;
      f.explanation = "driftwatch was upgraded from " + was.version + " to " + now.version;
    } else if (!context.report_package_version.empty() &&
               context.report_package_version != context.stored_package_version) {
      f.explained = true;
      f.explanation = "the package inventory shows driftwatch at " +
                      context.report_package_version + " (was " +
                      (context.stored_package_version.empty() ? std::string("not listed")
                                                              : context.stored_package_version) +
                      ")";
    }
    if (f.explained) f.severity = "info";
    out.push_back(std::move(f));
  }
  // A rules or config change the agent recorded in its chain, in this report.
  auto recorded = [&](std::string_view kind, const std::string& digest) -> const chain::Record* {
    for (const chain::Record& r : records) {
      if (r.kind != kind) continue;
      auto f = Fields(r);
      if (f["digest"] == digest) return &r;
    }
    return nullptr;
  };
  struct Part {
    std::string_view kind;
    const std::string& was;
    const std::string& now;
  };
  for (const Part& p :
       {Part{kAlertRules, was.rules, now.rules}, Part{kAlertConfig, was.config, now.config}}) {
    if (p.was == p.now) continue;
    IntegrityFinding f{std::string(p.kind),
                       "high",
                       0,
                       "the agent's " + std::string(p.kind) + " changed: sha256 " +
                           (p.was.empty() ? std::string("(none)") : p.was) + " is now " +
                           (p.now.empty() ? std::string("(none)") : p.now),
                       false,
                       ""};
    if (const chain::Record* r = recorded(p.kind, p.now)) {
      f.seq = r->seq;
      f.severity = "info";
      f.explained = true;
      f.explanation = "recorded by the agent's chain at seq " + std::to_string(r->seq);
    }
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace driftwatch::collector
