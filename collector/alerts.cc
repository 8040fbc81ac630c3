#include "collector/alerts.h"

#include <cpprest/http_client.h>
#include <syslog.h>

#include <algorithm>
#include <chrono>

#include "collector/api_json.h"
#include "core/host.h"

namespace driftwatch::collector {
namespace {

using web::json::value;

constexpr int64_t kSecond = 1000000000;
constexpr int64_t kMaxBackoffNs = 300 * kSecond;

std::string Describe(const value& ev) {
  auto str = [&](const char* k) {
    return ev.has_field(k) && ev.at(k).is_string() ? ev.at(k).as_string() : std::string();
  };
  std::string attrs;
  if (ev.has_field("attributes") && ev.at("attributes").is_array()) {
    for (const value& a : ev.at("attributes").as_array()) {
      if (!a.is_string()) continue;
      attrs += (attrs.empty() ? "" : ", ") + a.as_string();
    }
  }
  std::string text =
      str("severity") + " drift on " + str("host") + ": " + str("kind") + " " + str("path");
  if (!attrs.empty()) text += " (" + attrs + ")";
  if (!str("rule").empty()) text += " rule " + str("rule");
  return text;
}

}  // namespace

std::string AlertBody(const AlertRule& rule, const PendingAlert& alert) {
  value ev = EventToJson(alert.event);
  if (rule.slack) {
    value o = value::object();
    o["text"] = value("driftwatch: " + Describe(ev) + " [alert " + std::to_string(alert.id) + "]");
    return o.serialize();
  }
  value o = value::object();
  o["alert_id"] = value::number(alert.id);
  o["alert"] = value(rule.name);
  o["host"] = value(alert.event.host_id);
  o["summary"] = value(Describe(ev));
  o["event"] = ev;
  return o.serialize();
}

AlertDispatcher::AlertDispatcher(FleetStore& store, const CollectorConfig& config, Metrics& metrics)
    : store_(store), config_(config), metrics_(metrics) {}

AlertDispatcher::~AlertDispatcher() { Stop(); }

void AlertDispatcher::Start() {
  if (config_.alerts.empty() || thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void AlertDispatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AlertDispatcher::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
}

void AlertDispatcher::Loop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_ || wake_; });
      if (stop_) return;
      wake_ = false;
    }
    RunOnce(DefaultHost().NowNs());
  }
}

int AlertDispatcher::RunOnce(int64_t now_ns) {
  auto due = store_.DueAlerts(now_ns, 100);
  if (!due.ok()) return 0;
  int delivered = 0;
  for (const PendingAlert& a : *due) {
    const AlertRule* rule = nullptr;
    for (const AlertRule& r : config_.alerts) {
      if (r.name == a.route) rule = &r;
    }
    if (rule == nullptr) {
      // The route was removed from the configuration: nothing to send to.
      store_.MarkAlertDelivered(a.id, now_ns).IgnoreError();
      continue;
    }
    Status s = Deliver(*rule, a);
    if (s.ok()) {
      metrics_.alerts_sent++;
      ++delivered;
      store_.MarkAlertDelivered(a.id, DefaultHost().NowNs()).IgnoreError();
    } else {
      metrics_.alerts_failed++;
      int attempts = a.attempts + 1;
      int64_t backoff = std::min(kMaxBackoffNs, kSecond << std::min(attempts - 1, 20));
      store_.RescheduleAlert(a.id, attempts, DefaultHost().NowNs() + backoff, s.message())
          .IgnoreError();
    }
  }
  return delivered;
}

Status AlertDispatcher::Deliver(const AlertRule& rule, const PendingAlert& alert) {
  if (rule.syslog) {
    value ev = EventToJson(alert.event);
    std::string sev = ev.has_field("severity") ? ev.at("severity").as_string() : "";
    int prio = sev == "critical" ? LOG_CRIT : sev == "high" ? LOG_ERR : LOG_WARNING;
    syslog(LOG_DAEMON | prio, "driftwatch alert %lld (%s): %s", static_cast<long long>(alert.id),
           rule.name.c_str(), Describe(ev).c_str());
  }
  if (rule.webhook.empty()) return Status::Ok();
  try {
    web::http::client::http_client_config cfg;
    cfg.set_timeout(std::chrono::seconds(5));
    web::http::client::http_client client(web::uri(rule.webhook), cfg);
    web::http::http_request req(web::http::methods::POST);
    req.set_body(AlertBody(rule, alert), "application/json");
    web::http::http_response resp = client.request(req).get();
    if (resp.status_code() / 100 != 2) {
      return Status::Unavailable("webhook answered " + std::to_string(resp.status_code()));
    }
  } catch (const std::exception& e) {
    return Status::Unavailable(std::string("webhook: ") + e.what());
  }
  return Status::Ok();
}

}  // namespace driftwatch::collector
