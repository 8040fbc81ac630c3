// GET /metrics (docs/operations.md "Metrics"): the request and ingest
// figures, the fleet's gauges by group, build and process information.
#include "collector/api.h"
#include "collector/api_util.h"
#include "collector/process_metrics.h"

namespace driftwatch::collector {

HttpResponse Api::RenderMetrics(const CollectorConfig& config) {
  auto counts = store_.Counts();
  if (!counts.ok()) return api_internal::FromStatus(counts.status());
  const int64_t now = now_ns_();
  auto trees = store_.trees().CountTrees();
  if (!trees.ok()) return api_internal::FromStatus(trees.status());
  auto fleet = fleet_metrics_.Get(store_, now, config.silent_after_ns);
  if (!fleet.ok()) return api_internal::FromStatus(fleet.status());
  MetricsText out;
  auto metric = [&](const char* name, const char* type, const char* help, int64_t v) {
    out.Family(name, type, help);
    out.Sample(name, {}, v);
  };
  out.Family("driftwatch_build_info", "gauge", "The collector's version; always 1.");
  out.Sample("driftwatch_build_info", {{"version", DRIFTWATCH_VERSION}}, int64_t{1});
  metric("driftwatch_http_requests_total", "counter", "HTTP requests handled.", metrics_.requests);
  metric("driftwatch_http_client_errors_total", "counter", "Responses with a 4xx status.",
         metrics_.responses_4xx);
  metric("driftwatch_http_server_errors_total", "counter", "Responses with a 5xx status.",
         metrics_.responses_5xx);
  metrics_.http_latency.Render(&out);
  metric("driftwatch_reports_ingested_total", "counter", "Reports stored.",
         metrics_.reports_ingested);
  metric("driftwatch_reports_duplicate_total", "counter", "Reports received again and not stored.",
         metrics_.reports_duplicate);
  metric("driftwatch_reports_rejected_total", "counter", "Reports refused.",
         metrics_.reports_rejected);
  out.Family("driftwatch_reports_refused_total", "counter",
             "Reports of enrolled agents refused, by reason.");
  for (const auto& [reason, n] : {std::pair{"malformed", &metrics_.refused_malformed},
                                  std::pair{"invalid", &metrics_.refused_invalid},
                                  std::pair{"too_large", &metrics_.refused_too_large},
                                  std::pair{"forbidden", &metrics_.refused_forbidden}}) {
    out.Sample("driftwatch_reports_refused_total", {{"reason", reason}}, n->load());
  }
  metric("driftwatch_events_ingested_total", "counter", "Drift events stored.",
         metrics_.events_ingested);
  out.Family("driftwatch_ingest_duration_seconds", "histogram",
             "Time to validate and store a report, from its body to the answer.");
  HistogramSamples("driftwatch_ingest_duration_seconds", {}, metrics_.ingest_latency.Take(), &out);
  metric("driftwatch_alerts_sent_total", "counter", "Alerts delivered.", metrics_.alerts_sent);
  metric("driftwatch_alerts_failed_total", "counter", "Alert delivery attempts that failed.",
         metrics_.alerts_failed);
  metric("driftwatch_http_busy_total", "counter",
         "Requests answered 503 because the collector was saturated, and connections refused "
         "over the connection limit.",
         metrics_.http_busy);
  metric("driftwatch_http_limit_rejections_total", "counter",
         "Requests refused for their size: 413, 414 and 431.", metrics_.http_limit_rejections);
  metric("driftwatch_http_connections", "gauge", "Open HTTP connections.",
         metrics_.http_connections);
  metric("driftwatch_hosts", "gauge", "Enrolled hosts.", counts->hosts);
  metric("driftwatch_events_stored", "gauge", "Drift events in the store.", counts->events);
  metric("driftwatch_commands_pending", "gauge", "Commands not yet acknowledged.",
         counts->pending_commands);
  metric("driftwatch_alerts_pending", "gauge", "Alerts not yet delivered.", counts->pending_alerts);
  metric("driftwatch_collector_tree_objects", "gauge",
         "Distinct tree objects of the fleet's trees held (each stored once).", trees->objects);
  metric("driftwatch_collector_tree_bytes", "gauge", "The serialized size of those tree objects.",
         trees->bytes);
  std::string text = out.Take() + *fleet;
  if (process_host_ != nullptr) {
    // /proc unreadable (another OS, a hardened mount): the rest is served.
    if (auto figures = ReadProcessFigures(*process_host_); figures.ok()) {
      MetricsText proc;
      RenderProcessMetrics(*figures, &proc);
      text += proc.Take();
    }
  }
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = std::move(text);
  return r;
}

}  // namespace driftwatch::collector
