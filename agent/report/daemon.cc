#include "agent/report/daemon.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <iostream>
#include <optional>
#include <random>
#include <vector>

#include "agent/check.h"
#include "agent/report/client.h"
#include "agent/report/outbox.h"
#include "agent/report/reporter.h"
#include "core/drift_json.h"
#include "core/host.h"

namespace driftwatch::report {
namespace {

void Log(const std::string& msg) {
  std::cerr << FormatRfc3339Nanos(DefaultHost().NowNs()) << " driftwatch daemon: " << msg
            << std::endl;
}

struct PendingAck {
  int64_t id = 0;
  bool ok = false;
  std::string detail;
  std::optional<BaselineAck> baseline;
};

// Whether an ack the collector did not take is sent again at the next poll:
// only when the collector could not be reached. A refusal (409: answered
// already, e.g. an ack whose reply was lost; 404: no such command) is final.
bool KeepForRetry(const PendingAck& a, const Status& s) {
  if (s.ok()) return false;
  if (s.code() == StatusCode::kUnavailable) return true;
  Log("command " + std::to_string(a.id) + ": acknowledgement refused: " + s.message());
  return false;
}

// Exact paths as `baseline accept --path` globs: the glob metacharacters
// are escaped, so that "/etc/a[1]" accepts that file only.
std::vector<std::string> AcceptGlobs(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const std::string& p : paths) {
    std::string g;
    for (char ch : p) {
      if (ch == '*' || ch == '?' || ch == '[' || ch == ']' || ch == '\\' || ch == '{' ||
          ch == '}') {
        g += '\\';
      }
      g += ch;
    }
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace

struct Daemon::Impl {
  std::string config_path;
  DaemonConfig config;
  boost::asio::io_context io;
  boost::asio::steady_timer check_timer{io};
  boost::asio::steady_timer poll_timer{io};
  boost::asio::signal_set signals{io, SIGHUP, SIGTERM, SIGINT};
  std::mt19937_64 rng{std::random_device{}()};
  std::vector<PendingAck> acks;
  std::function<void(CheckResult*)> after_check;

  agent::CheckOptions CheckOpts() const {
    agent::CheckOptions o;
    o.db_path = config.db;
    o.rules_path = config.rules;
    o.root = config.root;
    o.baseline = config.baseline;
    return o;
  }

  // Where and as whom to report; nullopt when not enrolled.
  Result<std::optional<Enrollment>> Credentials(Outbox& outbox) {
    if (!config.token_file.empty()) {
      // A regular file of at most 4 KiB: a FIFO or device there is refused
      // instead of blocking the daemon (core/host.h, ReadFile).
      DW_ASSIGN_OR_RETURN(std::string token, DefaultHost().ReadFile(config.token_file, 4096));
      token = token.substr(0, token.find('\n'));
      while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
      return std::optional<Enrollment>(
          Enrollment{config.collector, config.host_id, token, "", config.ca_file});
    }
    DW_ASSIGN_OR_RETURN(auto e, outbox.LoadEnrollment());
    if (e) {
      if (!config.collector.empty()) e->collector = config.collector;
      if (!config.ca_file.empty()) e->ca_file = config.ca_file;
    }
    return e;
  }

  // Queues result (when given) and delivers the outbox.
  void Deliver(const CheckResult* result, bool respect_backoff) {
    auto outbox = Outbox::Open(config.db, config.outbox_max);
    if (!outbox.ok()) return Log(outbox.status().message());
    if (result != nullptr) {
      auto id = (*outbox)->Enqueue(*result, DefaultHost().NowNs());
      if (!id.ok()) return Log("cannot queue the report: " + id.status().message());
    }
    auto cred = Credentials(**outbox);
    if (!cred.ok()) return Log(cred.status().message());
    if (!cred->has_value()) {
      if (result != nullptr) Log("not enrolled with a collector; report kept in the outbox");
      return;
    }
    CollectorClient client((*cred)->collector, (*cred)->token, (*cred)->ca_file);
    DeliveryOptions opts;
    opts.respect_backoff = respect_backoff;
    auto outcome = DeliverOutbox(**outbox, client, **cred, opts, DefaultHost().NowNs());
    if (!outcome.ok()) return Log("delivery: " + outcome.status().message());
    if (outcome->sent || outcome->rejected || (!outcome->error.ok() && result != nullptr)) {
      Log(outcome->Note());
    }
  }

  Status Check() {
    auto result = agent::RunCheck(CheckOpts());
    if (!result.ok()) return result.status();
    result->interval_ns = config.interval_ns;
    if (after_check && config.root == "/") after_check(&*result);
    Log("check: " + std::to_string(result->events.size()) + " drift event(s)");
    Deliver(&*result, false);
    return Status::Ok();
  }

  void ScheduleCheck(bool first) {
    std::uniform_int_distribution<int64_t> dist(0, std::max<int64_t>(config.jitter_ns, 0));
    int64_t delay = (first ? 0 : config.interval_ns) + dist(rng);
    check_timer.expires_after(std::chrono::nanoseconds(delay));
    check_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      Status s = Check();
      if (!s.ok()) Log("check failed: " + s.message());
      ScheduleCheck(false);
    });
  }

  void Poll() {
    Deliver(nullptr, true);
    auto outbox = Outbox::Open(config.db, config.outbox_max);
    if (!outbox.ok()) return Log(outbox.status().message());
    auto cred = Credentials(**outbox);
    if (!cred.ok() || !cred->has_value()) return;
    CollectorClient client((*cred)->collector, (*cred)->token, (*cred)->ca_file);
    std::vector<PendingAck> failed;
    for (PendingAck& a : acks) {
      if (!KeepForRetry(a, client.Ack(a.id, a.ok, a.detail, a.baseline))) continue;
      failed.push_back(std::move(a));
    }
    acks = std::move(failed);
    auto cmds = client.PollCommands();
    if (!cmds.ok()) return;
    for (const AgentCommand& c : *cmds) {
      PendingAck ack;
      ack.id = c.id;
      if (c.kind == "baseline") {
        auto info = agent::CreateBaseline(
            CheckOpts(), "collector",
            "requested by the collector (command " + std::to_string(c.id) + ")");
        ack.ok = info.ok();
        if (info.ok()) {
          ack.detail = "baseline " + info->name + " revision " + std::to_string(info->revision);
          ack.baseline = BaselineAck{info->name, info->revision, info->created_ns, info->root};
        } else {
          ack.detail = info.status().message();
        }
        Log("command " + std::to_string(c.id) + " baseline: " + ack.detail);
      } else if (c.kind == "accept") {
        auto info = agent::AcceptDrift(
            CheckOpts(), AcceptGlobs(c.paths), "collector",
            "accepted through the collector (command " + std::to_string(c.id) + ")");
        ack.ok = info.ok();
        if (info.ok()) {
          ack.detail = "accepted " + std::to_string(c.paths.size()) + " path(s) into baseline " +
                       info->name + " revision " + std::to_string(info->revision);
          ack.baseline = BaselineAck{info->name, info->revision, info->created_ns, info->root};
        } else {
          ack.detail = info.status().message();
        }
        Log("command " + std::to_string(c.id) + " accept: " + ack.detail);
      } else if (c.kind == "check-now") {
        Status s = Check();
        ack.ok = s.ok();
        ack.detail = s.ok() ? "checked" : s.message();
      } else {
        ack.detail = "unknown command '" + c.kind + "'";
      }
      Status s = client.Ack(ack.id, ack.ok, ack.detail, ack.baseline);
      if (KeepForRetry(ack, s)) acks.push_back(std::move(ack));
      if ((c.kind == "baseline" || c.kind == "accept") && ack.ok) {
        // Report against the new baseline so the collector sees it at once.
        Status cs = Check();
        if (!cs.ok()) Log("check failed: " + cs.message());
      }
    }
  }

  void SchedulePoll() {
    poll_timer.expires_after(std::chrono::nanoseconds(config.poll_interval_ns));
    poll_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      Poll();
      SchedulePoll();
    });
  }

  void WaitSignal() {
    signals.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        auto c = LoadDaemonConfig(DefaultHost(), config_path);
        if (!c.ok()) {
          Log("reload failed, keeping the old configuration: " + c.status().message());
        } else {
          config = std::move(c).value();
          Log("configuration reloaded from " + config_path);
          check_timer.cancel();
          poll_timer.cancel();
          ScheduleCheck(false);
          SchedulePoll();
        }
        WaitSignal();
        return;
      }
      Log("signal " + std::to_string(sig) + ": exiting");
      io.stop();
    });
  }
};

Daemon::Daemon(std::string config_path, DaemonConfig config,
               std::function<void(CheckResult*)> after_check)
    : impl_(std::make_unique<Impl>()) {
  impl_->config_path = std::move(config_path);
  impl_->config = std::move(config);
  impl_->after_check = std::move(after_check);
}

Daemon::~Daemon() = default;

int Daemon::Run() {
  Log("started; checks every " + std::to_string(impl_->config.interval_ns / 1000000000) +
      "s, polls every " + std::to_string(impl_->config.poll_interval_ns / 1000000) + "ms");
  impl_->WaitSignal();
  impl_->ScheduleCheck(true);
  impl_->io.post([this] { impl_->Poll(); });
  impl_->SchedulePoll();
  impl_->io.run();
  return 0;
}

}  // namespace driftwatch::report
