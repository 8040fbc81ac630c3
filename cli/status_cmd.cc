// driftwatch status: enrollment, collector, outbox, last check and
// baselines of this agent, from its store (report/agent_status.h).
#include <iostream>
#include <memory>

#include "agent/check.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "core/drift_json.h"
#include "core/host.h"
#include "report/agent_status.h"

namespace driftwatch::cli {
namespace {

using web::json::value;

struct StatusCmdOptions {
  std::string db;  // "": the default store
  std::string format = "text";
  bool probe = false;
};

// "45s", "12m", "5h", "3d" ago.
std::string Age(int64_t now_ns, int64_t then_ns) {
  const int64_t s = std::max<int64_t>(0, (now_ns - then_ns) / 1000000000);
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m";
  if (s < 2 * 86400) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

value SeverityCounts(const EventCounts& c) {
  value v = value::object();
  for (Severity s : {Severity::kLow, Severity::kMedium, Severity::kHigh, Severity::kCritical}) {
    v[std::string(SeverityName(s))] = value::number(c.severities[static_cast<int>(s)]);
  }
  return v;
}

value StatusJson(const report::AgentStatus& s) {
  value v = value::object();
  v["store"] = value(s.db_path);
  v["healthy"] = value::boolean(report::Healthy(s));
  value e = value::object();
  e["enrolled"] = value::boolean(s.enrolled);
  e["collector"] = value(s.collector);
  e["host_id"] = value(s.host_id);
  e["group"] = value(s.group);
  e["since"] = TimeOrNull(s.enrolled_ns);
  v["enrollment"] = e;
  value c = value::object();
  c["checked"] = value::boolean(s.probe.checked);
  c["reachable"] = s.probe.checked ? value::boolean(s.probe.reachable) : value::null();
  if (!s.probe.error.empty()) c["error"] = value(s.probe.error);
  v["collector"] = c;
  value o = value::object();
  o["pending"] = value::number(s.outbox_pending);
  o["rejected"] = value::number(s.outbox_rejected);
  o["oldest"] =
      s.oldest_pending_ns ? value(FormatRfc3339Nanos(*s.oldest_pending_ns)) : value::null();
  o["oldest_age_seconds"] = s.oldest_pending_ns
                                ? value::number((s.now_ns - *s.oldest_pending_ns) / 1000000000)
                                : value::null();
  v["outbox"] = o;
  if (s.last_check) {
    value l = value::object();
    l["time"] = value(FormatRfc3339Nanos(s.last_check->check.finished_ns));
    l["age_seconds"] = value::number((s.now_ns - s.last_check->check.finished_ns) / 1000000000);
    l["baseline"] = value(s.last_check->check.baseline);
    l["revision"] = value::number(s.last_check->check.revision);
    l["result"] = value(s.last_check->counts.total == 0 ? "clean" : "drift");
    l["events"] = value::number(s.last_check->counts.total);
    l["by_severity"] = SeverityCounts(s.last_check->counts);
    v["last_check"] = l;
  } else {
    v["last_check"] = value::null();
  }
  value b = value::array();
  size_t i = 0;
  for (const report::BaselineAge& a : s.baselines) {
    value x = value::object();
    x["name"] = value(a.name);
    x["revision"] = value::number(a.revision);
    x["created"] = value(FormatRfc3339Nanos(a.created_ns));
    x["age_seconds"] = value::number((s.now_ns - a.created_ns) / 1000000000);
    b[i++] = x;
  }
  v["baselines"] = b;
  value r = value::object();
  r["running"] = value::boolean(s.realtime_running);
  r["summary"] = value(report::RealtimeSummary(s));
  r["journal_valid"] = value::boolean(s.journal.valid);
  r["journal_reason"] = value(s.journal.reason);
  r["dirty_paths"] = value::number(s.journal.dirty_paths);
  v["realtime"] = r;
  return v;
}

void PrintStatus(const report::AgentStatus& s) {
  std::cout << "store       " << s.db_path << "\n";
  if (s.enrolled) {
    std::cout << "enrolled    as " << s.host_id << (s.group.empty() ? "" : " in group " + s.group)
              << " with " << s.collector;
    if (s.enrolled_ns != 0) {
      std::cout << " since " << FormatTime(s.enrolled_ns) << " (" << Age(s.now_ns, s.enrolled_ns)
                << " ago)";
    }
    std::cout << "\n";
  } else {
    std::cout << "enrolled    no (driftwatch enroll --collector URL --token-file FILE)\n";
  }
  std::cout << "collector   ";
  if (!s.enrolled) {
    std::cout << "none\n";
  } else if (!s.probe.checked) {
    std::cout << "not checked (pass --probe)\n";
  } else if (s.probe.reachable) {
    std::cout << "reachable (/healthz answered)\n";
  } else {
    std::cout << "UNREACHABLE: " << s.probe.error << "\n";
  }
  std::cout << "outbox      " << s.outbox_pending << " report(s) waiting";
  if (s.oldest_pending_ns) {
    std::cout << ", the oldest queued " << Age(s.now_ns, *s.oldest_pending_ns) << " ago";
  }
  if (s.outbox_rejected > 0) std::cout << "; " << s.outbox_rejected << " rejected";
  std::cout << "\n";
  if (s.last_check) {
    const agent::CheckSummary& c = *s.last_check;
    std::cout << "last check  " << FormatTime(c.check.finished_ns) << " ("
              << Age(s.now_ns, c.check.finished_ns) << " ago) against '" << c.check.baseline
              << "' rev " << c.check.revision << ": ";
    if (c.counts.total == 0) {
      std::cout << "no drift\n";
    } else {
      std::cout << "drift, " << c.counts.total << " event(s) (";
      bool first = true;
      for (Severity sev :
           {Severity::kCritical, Severity::kHigh, Severity::kMedium, Severity::kLow}) {
        if (int64_t n = c.counts.severities[static_cast<int>(sev)]; n > 0) {
          std::cout << (first ? "" : ", ") << n << " " << SeverityName(sev);
          first = false;
        }
      }
      std::cout << ")\n";
    }
  } else {
    std::cout << "last check  none yet\n";
  }
  if (s.baselines.empty()) std::cout << "baseline    none (driftwatch baseline create)\n";
  for (const report::BaselineAge& b : s.baselines) {
    std::cout << "baseline    '" << b.name << "' rev " << b.revision << ", taken "
              << FormatTime(b.created_ns) << " (" << Age(s.now_ns, b.created_ns) << " ago)\n";
  }
  std::cout << "realtime    " << report::RealtimeSummary(s) << "\n";
}

int RunStatus(const StatusCmdOptions& o) {
  report::StatusOptions options;
  options.db_path = o.db.empty() ? agent::DefaultDbPath() : o.db;
  options.probe_collector = o.probe;
  auto s = report::GatherStatus(DefaultHost(), options);
  if (!s.ok()) return Fail(s.status());
  if (o.format == "json") {
    std::cout << StatusJson(*s).serialize() << "\n";
  } else {
    PrintStatus(*s);
  }
  return report::Healthy(*s) ? kExitOk : kExitDrift;
}

}  // namespace

void AddStatusCommand(CLI::App& root) {
  auto o = std::make_shared<StatusCmdOptions>();
  CLI::App* cmd = cmdline::AddCommand(
      root, "status", "enrollment, collector, outbox, last check and baselines of this agent",
      [o] { return RunStatus(*o); });
  cmd->footer(
      "exit status: 0 healthy, 1 the collector did not answer --probe, 2 the store cannot be "
      "read");
  AddDbFlag(cmd, &o->db);
  cmd->add_flag("--probe", o->probe, "ask the collector's /healthz (2 s at most)");
  AddFormatFlag(cmd, &o->format);
}

}  // namespace driftwatch::cli
