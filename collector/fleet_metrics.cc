#include "collector/fleet_metrics.h"

#include <cpprest/json.h>

#include "core/drift.h"

namespace driftwatch::collector {
namespace {

constexpr const char* kOtherGroup = "(other)";

// Drift by severity of a host's latest report, from its stored summary
// ({"severities": {"low": N, ...}}); zeros when it has none.
std::array<int64_t, 4> OpenDrift(const HostRecord& h) {
  std::array<int64_t, 4> out{};
  if (h.last_report_events <= 0 || h.last_summary_json.empty()) return out;
  try {
    const web::json::value v = web::json::value::parse(h.last_summary_json);
    if (!v.is_object() || !v.has_object_field("severities")) return out;
    const web::json::value& s = v.at("severities");
    for (int i = 1; i <= 4; ++i) {
      const std::string name(SeverityName(static_cast<Severity>(i)));
      if (s.has_number_field(name)) out[i - 1] = s.at(name).as_number().to_int64();
    }
  } catch (const std::exception&) {
    // A summary stored by an older collector: no figures for it.
  }
  return out;
}

}  // namespace

std::map<std::string, GroupFigures> FleetFigures(const std::vector<HostRecord>& hosts,
                                                 int64_t now_ns, int64_t silent_after_ns) {
  std::map<std::string, GroupFigures> out;
  for (const HostRecord& h : hosts) {
    auto it = out.find(h.group);
    if (it == out.end()) {
      it = out.size() < kMaxGroups ? out.try_emplace(h.group).first
                                   : out.try_emplace(kOtherGroup).first;
    }
    GroupFigures& g = it->second;
    if (IsSilent(h, now_ns, silent_after_ns)) {
      g.silent++;
    } else if (h.last_report_events > 0) {
      g.drifted++;
    } else {
      g.ok++;
    }
    const std::array<int64_t, 4> open = OpenDrift(h);
    for (size_t i = 0; i < open.size(); ++i) g.open_drift[i] += open[i];
    g.newest_report_ns = std::max(g.newest_report_ns, h.last_report_ns);
  }
  return out;
}

void RenderFleetMetrics(const std::map<std::string, GroupFigures>& groups, int64_t now_ns,
                        MetricsText* out) {
  out->Family("driftwatch_fleet_hosts", "gauge",
              "Enrolled hosts by group and state (ok, drifted, silent).");
  for (const auto& [group, g] : groups) {
    for (const auto& [state, n] :
         {std::pair{"ok", g.ok}, std::pair{"drifted", g.drifted}, std::pair{"silent", g.silent}}) {
      out->Sample("driftwatch_fleet_hosts", {{"group", group}, {"state", state}}, n);
    }
  }
  out->Family("driftwatch_fleet_open_drift", "gauge",
              "Drift events in the hosts' latest reports, by group and severity.");
  for (const auto& [group, g] : groups) {
    for (int i = 1; i <= 4; ++i) {
      out->Sample(
          "driftwatch_fleet_open_drift",
          {{"group", group}, {"severity", std::string(SeverityName(static_cast<Severity>(i)))}},
          g.open_drift[i - 1]);
    }
  }
  out->Family("driftwatch_fleet_newest_report_age_seconds", "gauge",
              "Seconds since the newest report of a host of the group (groups with a report).");
  for (const auto& [group, g] : groups) {
    if (g.newest_report_ns == 0) continue;
    out->Sample("driftwatch_fleet_newest_report_age_seconds", {{"group", group}},
                static_cast<double>(std::max<int64_t>(now_ns - g.newest_report_ns, 0)) / 1e9);
  }
}

Result<std::string> FleetMetricsCache::Get(FleetStore& store, int64_t now_ns,
                                           int64_t silent_after_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  if (at_ns_ == 0 || now_ns < at_ns_ || now_ns - at_ns_ >= kMaxAgeNs) {
    DW_ASSIGN_OR_RETURN(std::vector<HostRecord> hosts, store.ListHosts());
    figures_ = FleetFigures(hosts, now_ns, silent_after_ns);
    at_ns_ = now_ns;
  }
  MetricsText out;
  RenderFleetMetrics(figures_, now_ns, &out);
  return out.Take();
}

}  // namespace driftwatch::collector
