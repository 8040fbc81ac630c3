#include "collector/alerts.h"

#include <cpprest/http_client.h>
#include <syslog.h>

#include <algorithm>
#include <chrono>

#include "collector/api_json.h"
#include "core/drift_json.h"
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
  // Realtime events: who made the change, and who undid a transient one.
  auto actor = [&](const char* k) -> std::string {
    if (!ev.has_field(k)) return "";
    auto a = ActorFromJson(ev.at(k), k);
    return a.ok() ? FormatActor(*a) : "";
  };
  if (const std::string by = actor("actor"); !by.empty()) text += " by " + by;
  if (ev.has_field("transient") && ev.at("transient").is_boolean() &&
      ev.at("transient").as_bool()) {
    const std::string undo = actor("reverted_by");
    text += undo.empty() ? " (transient: reverted)" : " (transient: reverted by " + undo + ")";
  }
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

namespace {

std::string RefusalText(const RefusedReport& r, int64_t refusals) {
  std::string text = "report refused for host " + r.host_id + " (" + r.reason + "): " + r.detail;
  if (refusals > 1) text += " [" + std::to_string(refusals) + " refusals]";
  return text;
}

}  // namespace

std::string RefusalAlertBody(const AlertRule& rule, const RefusedReport& r, int64_t refusals) {
  if (rule.slack) {
    value o = value::object();
    o["text"] = value("driftwatch: " + RefusalText(r, refusals));
    return o.serialize();
  }
  value o = value::object();
  o["alert"] = value(rule.name);
  o["kind"] = value("report-refused");
  o["host"] = value(r.host_id);
  o["reason"] = value(r.reason);
  o["detail"] = value(r.detail);
  o["refusals"] = value::number(refusals);
  o["at"] = value(FormatRfc3339Nanos(r.at_ns));
  o["summary"] = value(RefusalText(r, refusals));
  return o.serialize();
}

int64_t AlertBackoffNs(int attempts) {
  return std::min(kMaxBackoffNs, kSecond << std::min(attempts - 1, 20));
}

AlertDispatcher::AlertDispatcher(FleetStore& store, const LiveConfig& config, Metrics& metrics,
                                 Host& host, WebhookPoster post)
    : store_(store), config_(config), metrics_(metrics), host_(host), post_(std::move(post)) {}

AlertDispatcher::~AlertDispatcher() { Stop(); }

void AlertDispatcher::Start() {
  // Runs with no route too: a reload may add one.
  if (thread_.joinable()) return;
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

void AlertDispatcher::ReportRefused(const RefusedReport& r) {
  std::vector<std::string> routes;
  const std::shared_ptr<const CollectorConfig> config = config_.Get();
  for (const AlertRule& rule : config->alerts) {
    if (rule.min_severity > Severity::kHigh) continue;
    if (!rule.groups.empty() &&
        std::find(rule.groups.begin(), rule.groups.end(), r.group) == rule.groups.end()) {
      continue;
    }
    routes.push_back(rule.name);
  }
  if (routes.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = std::find_if(refusals_.begin(), refusals_.end(),
                           [&](const RefusalAlert& a) { return a.report.host_id == r.host_id; });
    if (it != refusals_.end()) {
      it->report = r;
      ++it->refusals;
      it->routes_left = routes;
    } else if (refusals_.size() < kMaxRefusalAlerts) {
      refusals_.push_back(RefusalAlert{r, 1, routes, 0, 0});
    }
    wake_ = true;
  }
  cv_.notify_all();
}

int AlertDispatcher::DeliverRefusals(const CollectorConfig& config, int64_t now_ns) {
  std::vector<RefusalAlert> due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = refusals_.begin(); it != refusals_.end();) {
      if (it->next_ns <= now_ns) {
        due.push_back(std::move(*it));
        it = refusals_.erase(it);
      } else {
        ++it;
      }
    }
  }
  int delivered = 0;
  for (RefusalAlert& a : due) {
    std::vector<std::string> left;
    for (const std::string& name : a.routes_left) {
      const AlertRule* rule = nullptr;
      for (const AlertRule& r : config.alerts) {
        if (r.name == name) rule = &r;
      }
      if (rule == nullptr) continue;
      Status s = Status::Ok();
      if (rule->syslog) {
        syslog(LOG_DAEMON | LOG_ERR, "driftwatch alert (%s): %s", rule->name.c_str(),
               RefusalText(a.report, a.refusals).c_str());
      }
      if (!rule->webhook.empty())
        s = post_(rule->webhook, RefusalAlertBody(*rule, a.report, a.refusals));
      if (s.ok()) {
        metrics_.alerts_sent++;
        ++delivered;
      } else {
        metrics_.alerts_failed++;
        left.push_back(name);
      }
    }
    if (left.empty()) continue;
    a.routes_left = std::move(left);
    ++a.attempts;
    a.next_ns = host_.NowNs() + AlertBackoffNs(a.attempts);
    std::lock_guard<std::mutex> lock(mu_);
    // A newer refusal of the same host queued meanwhile stands for this one too.
    auto it = std::find_if(refusals_.begin(), refusals_.end(), [&](const RefusalAlert& x) {
      return x.report.host_id == a.report.host_id;
    });
    if (it != refusals_.end()) {
      it->refusals += a.refusals;
    } else if (refusals_.size() < kMaxRefusalAlerts) {
      refusals_.push_back(std::move(a));
    }
  }
  return delivered;
}

void AlertDispatcher::Loop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_ || wake_; });
      if (stop_) return;
      wake_ = false;
    }
    RunOnce(host_.NowNs());
  }
}

int AlertDispatcher::RunOnce(int64_t now_ns) {
  // One configuration for the whole pass, whatever a reload does meanwhile.
  const std::shared_ptr<const CollectorConfig> config = config_.Get();
  int delivered = DeliverRefusals(*config, now_ns);
  auto due = store_.DueAlerts(now_ns, 100);
  if (!due.ok()) return delivered;
  for (const PendingAlert& a : *due) {
    const AlertRule* rule = nullptr;
    for (const AlertRule& r : config->alerts) {
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
      store_.MarkAlertDelivered(a.id, host_.NowNs()).IgnoreError();
    } else {
      metrics_.alerts_failed++;
      int attempts = a.attempts + 1;
      store_.RescheduleAlert(a.id, attempts, host_.NowNs() + AlertBackoffNs(attempts), s.message())
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
  return post_(rule.webhook, AlertBody(rule, alert));
}

Status PostWebhook(const std::string& url, const std::string& body) {
  try {
    web::http::client::http_client_config cfg;
    cfg.set_timeout(std::chrono::seconds(5));
    web::http::client::http_client client(web::uri(url), cfg);
    web::http::http_request req(web::http::methods::POST);
    req.set_body(body, "application/json");
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
