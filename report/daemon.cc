#include "report/daemon.h"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <iostream>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "agent/check.h"
#include "agent/journal.h"
#include "agent/store.h"
#include "core/drift_json.h"
#include "core/host.h"
#include "core/service.h"
#include "report/agent_metrics.h"
#include "report/client.h"
#include "report/daemon_priority.h"
#include "report/daemon_realtime.h"
#include "report/daemon_restore.h"
#include "report/daemon_schedule.h"
#include "report/daemon_trees.h"
#include "report/enrollment.h"
#include "report/group_baseline.h"
#include "report/outbox.h"
#include "report/reporter.h"
#include "report/self_integrity.h"
#include "report/signing_trust.h"
#include "rules/policy.h"

namespace driftwatch::report {
namespace {

// Levels of the daemon's lines (docs/operations.md "Logs").
constexpr const char* kInfo = "info";
constexpr const char* kWarn = "warn";
constexpr const char* kError = "error";

// "TIME LEVEL driftwatch daemon: MESSAGE", one line each.
void Log(Host& host, const char* level, const std::string& msg) {
  std::cerr << FormatRfc3339Nanos(host.NowNs()) << " " << level << " driftwatch daemon: " << msg
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
bool KeepForRetry(Host& host, const PendingAck& a, const Status& s) {
  if (s.ok()) return false;
  if (s.code() == StatusCode::kUnavailable) return true;
  Log(host, kWarn, "command " + std::to_string(a.id) + ": acknowledgement refused: " + s.message());
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

std::string ConfigSource(const DaemonConfig& c, const std::string& path) {
  return c.source.empty() ? "no configuration file at " + path + ", every value is the default"
                          : "configuration from " + c.source;
}

}  // namespace

struct Daemon::Impl {
  explicit Impl(Host& h) : host(h), schedule(h, std::random_device{}()) {}

  Host& host;
  DaemonSchedule schedule;
  std::string config_path;
  bool config_required = false;
  DaemonConfig config;
  boost::asio::io_context io;
  boost::asio::steady_timer check_timer{io};
  boost::asio::steady_timer poll_timer{io};
  boost::asio::signal_set signals{io, SIGHUP, SIGTERM, SIGINT};
  FsEventSourceFactory events;
  ContainerMatcher container_of;
  // Destroyed before io: its results are posted to the loop.
  std::unique_ptr<DaemonRealtime> realtime;
  std::vector<PendingAck> acks;
  std::function<void(const DaemonConfig&, CheckResult*)> after_check;
  // Whether the baseline of the loaded configuration is known to exist
  // (else the next check takes it first).
  bool baseline_ready = false;
  // `baseline: group`: the name of the group's baseline in the store and the
  // rules its host-specific paths come from (set before each check).
  std::string group_baseline;
  std::optional<rules::Policy> group_policy;
  bool started = false;  // the start-up step has run and armed the timers
  uint64_t check_gen = 0, poll_gen = 0;
  bool enroll_unavailable_logged = false;
  std::string exe_digest;          // of the running executable, read once at start
  std::string status = "started";  // the last STATUS= sent to the service manager

  void Log(const std::string& msg) { report::Log(host, kInfo, msg); }
  void Warn(const std::string& msg) { report::Log(host, kWarn, msg); }
  void Error(const std::string& msg) { report::Log(host, kError, msg); }

  void SetStatus(std::string s) {
    status = std::move(s);
    service::NotifyStatus(status);
  }

  agent::CheckOptions CheckOpts() const {
    agent::CheckOptions o;
    o.host = &host;
    o.db_path = config.db;
    o.rules_path = config.rules;
    o.root = config.root;
    o.baseline = group_baseline.empty() ? config.baseline : group_baseline;
    o.jobs = config.jobs;
    o.verify_packages = config.verify_packages;
    return o;
  }

  // Where and as whom to report; nullopt when not enrolled.
  Result<std::optional<Enrollment>> Credentials(Outbox& outbox) {
    if (!config.token_file.empty()) {
      // A regular file of at most 4 KiB: a FIFO or device there is refused
      // instead of blocking the daemon (core/host.h, ReadFile).
      DW_ASSIGN_OR_RETURN(std::string token, ReadTokenFile(host, config.token_file));
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

  // Queues result (when given) and delivers the outbox. Returns the
  // enrollment when the collector took every queued report.
  std::optional<Enrollment> Deliver(const CheckResult* result, bool respect_backoff) {
    auto failed = [this](const std::string& msg) {
      Error(msg);
      return std::nullopt;
    };
    auto outbox = OpenAgentOutbox(host, config.db, config.outbox_max);
    if (!outbox.ok()) return failed(outbox.status().message());
    if (result != nullptr) {
      auto id = (*outbox)->Enqueue(*result, host.NowNs());
      if (!id.ok()) return failed("cannot queue the report: " + id.status().message());
    }
    auto cred = Credentials(**outbox);
    if (!cred.ok()) return failed(cred.status().message());
    if (!cred->has_value()) {
      if (result != nullptr) Log("not enrolled with a collector; report kept in the outbox");
      return std::nullopt;
    }
    CollectorClient client((*cred)->collector, (*cred)->token, (*cred)->ca_file);
    DeliveryOptions opts;
    opts.respect_backoff = respect_backoff;
    auto outcome = DeliverOutbox(host, **outbox, client, **cred, opts, host.NowNs());
    if (!outcome.ok()) {
      Warn("delivery: " + outcome.status().message());
      return std::nullopt;
    }
    if (outcome->sent || outcome->rejected || !outcome->warnings.empty() ||
        (!outcome->error.ok() && result != nullptr)) {
      report::Log(host, outcome->error.ok() && outcome->warnings.empty() ? kInfo : kWarn,
                  outcome->Note());
    }
    if (!outcome->error.ok() || outcome->remaining > 0) return std::nullopt;
    return *cred;
  }

  // First start (docs/collector.md, "First start: the enroll file"): with no enrollment in
  // the store and no token_file configured, enrolls with the enroll file's
  // collector, then removes the spent token file. A collector that cannot be
  // reached is tried again at the next poll; a refusal after 10 minutes.
  void MaybeEnroll() {
    if (!config.token_file.empty() || !schedule.EnrollDue()) return;
    auto outbox = OpenAgentOutbox(host, config.db, config.outbox_max);
    if (!outbox.ok()) return Error(outbox.status().message());
    auto enrolled = (*outbox)->LoadEnrollment();
    if (!enrolled.ok()) return Error(enrolled.status().message());
    if (enrolled->has_value()) return;
    auto file = LoadEnrollFile(host, config.enroll_file);
    if (!file.ok() && file.status().code() == StatusCode::kNotFound) return;
    if (!file.ok()) {
      schedule.EnrollRefused();
      return Warn("cannot enroll: " + file.status().message() + "; trying again in 10 minutes");
    }
    auto token = ReadTokenFile(host, file->token_file);
    if (!token.ok()) {
      schedule.EnrollRefused();
      return Warn("cannot enroll with " + file->collector + ": " + token.status().message() +
                  "; trying again in 10 minutes");
    }
    SetStatus("enrolling");
    EnrollRequest request{file->collector, std::move(token).value(),
                          host.Hostname(), file->group,
                          file->ca_file,   host.NowNs(),
                          config.db};
    auto e = EnrollAndSave(**outbox, request);
    if (!e.ok()) {
      const Status& s = e.status();
      if (s.code() == StatusCode::kUnavailable) {
        SetStatus("enrolling: collector unavailable");
        // Logged once while it lasts, not at every poll.
        if (std::exchange(enroll_unavailable_logged, true)) return;
        return Warn("enrolling with " + file->collector + ": " + s.message() +
                    "; trying again every " + FormatDuration(config.poll_interval_ns));
      }
      schedule.EnrollRefused();
      enroll_unavailable_logged = false;
      SetStatus("enrolling: refused");
      if (s.code() == StatusCode::kPermissionDenied) {
        return Warn("enrolling with " + file->collector + ": the enroll token in " +
                    file->token_file + " was refused (expired, used up or revoked; " + s.message() +
                    "); trying again in 10 minutes");
      }
      return Warn("enrolling with " + file->collector + ": " + s.message() +
                  "; trying again in 10 minutes");
    }
    enroll_unavailable_logged = false;
    if (Status s = RecordEnroll(host, config.db, e->collector, e->host_id, e->group); !s.ok()) {
      Error("the enrollment was not recorded in the store's chain: " + s.message());
    }
    std::string msg = "enrolled as " + e->host_id + " with " + e->collector;
    if (Status removed = host.Remove(file->token_file); removed.ok()) {
      Log(msg + "; removed the spent token file " + file->token_file);
    } else {
      Warn(msg + "; could not remove the spent token file: " + removed.message());
    }
    SetStatus("enrolled as " + e->host_id);
  }

  // The first check of a configuration takes its baseline when there is
  // none yet ("first baseline"), so that a fresh host needs no command.
  Status EnsureBaseline() {
    if (baseline_ready) return Status::Ok();
    DW_ASSIGN_OR_RETURN(bool exists, agent::BaselineExists(CheckOpts()));
    if (!exists) {
      SetStatus("first baseline");
      DW_ASSIGN_OR_RETURN(
          agent::BaselineInfo info,
          agent::CreateBaseline(CheckOpts(), "driftwatch daemon", "first baseline"));
      Log("first baseline '" + info.name + "': " + std::to_string(info.stats.files) + " files, " +
          std::to_string(info.stats.dirs) + " dirs");
    }
    baseline_ready = true;
    return Status::Ok();
  }

  // A check, its delivery, and the metrics file (metrics_file:) after it.
  Status Check() {
    const int64_t t0 = host.MonotonicNs();
    AgentFigures figures;
    Status s = CheckAndDeliver(&figures);
    figures.check_duration_ns = host.MonotonicNs() - t0;
    if (!s.ok()) {
      figures = AgentFigures{.check_duration_ns = figures.check_duration_ns,
                             .check_result = kCheckFailed};
    }
    WriteMetrics(figures);
    return s;
  }

  void WriteMetrics(AgentFigures f) {
    if (config.metrics_file.empty()) return;
    f.now_ns = host.NowNs();
    if (f.check_finished_ns == 0) f.check_finished_ns = f.now_ns;
    if (auto outbox = OpenAgentOutbox(host, config.db, config.outbox_max); outbox.ok()) {
      if (auto n = (*outbox)->PendingCount(); n.ok()) f.outbox_reports = *n;
      if (auto at = (*outbox)->OldestPendingNs(); at.ok()) f.outbox_oldest_ns = at->value_or(0);
    }
    if (Status s = WriteAgentMetrics(host, config.metrics_file, f); !s.ok()) {
      Warn(s.message());
    }
  }

  Status CheckAndDeliver(AgentFigures* figures) {
    const bool group = config.baseline == kGroupBaselineSetting;
    if (group) {
      DW_ASSIGN_OR_RETURN(auto outbox, OpenAgentOutbox(host, config.db, config.outbox_max));
      DaemonNote note;
      DW_ASSIGN_OR_RETURN(group_baseline, UseGroupBaseline(host, config, Credentials(*outbox),
                                                           &group_policy, &note));
      if (!note.text.empty()) Log(note.text);
    } else {
      DW_RETURN_IF_ERROR(EnsureBaseline());
    }
    // require_signed_baselines: a baseline revision no trusted key signed is
    // not checked against (docs/integrity.md, "Signed baselines").
    DW_RETURN_IF_ERROR(SignatureGate(host, config, config.db, CheckOpts().baseline));
    auto result = agent::RunJournaledCheck(CheckOpts(), realtime ? realtime->Sync() : nullptr);
    if (!result.ok()) return result.status();
    if (group) LeaveOutForPeers(*group_policy, &*result);
    result->interval_ns = config.interval_ns;
    if (after_check && config.root == "/") after_check(config, &*result);
    // What runs goes with the report; a changed rule or configuration file
    // enters the chain first, so that the same report explains it.
    // When that cannot be written (a full disk), the report still goes,
    // without "self".
    if (Status s = StampSelf(host, config.db, exe_digest, config.rules, config_path,
                             /*start=*/false, &*result);
        !s.ok()) {
      Error("what runs was not recorded in the store's chain: " + s.message());
    }
    // Recorded in the history by RunCheck; below min_severity they go no
    // further.
    const size_t below = agent::DropBelowSeverity(config.min_severity, &*result);
    std::string msg = std::to_string(result->events.size()) + " drift event(s)";
    if (below > 0) {
      msg += " (and " + std::to_string(below) + " below " +
             std::string(agent::MinSeverityName(config.min_severity)) + ", not reported)";
    }
    Log("check: " + msg);
    const EventCounts counts = ReportCounts(*result);
    for (int i = 1; i <= 4; ++i) figures->drift[i - 1] = counts.severities[i];
    figures->check_result = counts.total > 0 ? kCheckDrift : kCheckNoDrift;
    figures->check_finished_ns = result->finished_ns;
    SetStatus("checked at " + FormatRfc3339Nanos(result->finished_ns).substr(0, 19) + "Z: " + msg);
    // The host's tree follows a report the collector took, else the next check's.
    if (auto cred = Deliver(&*result, false)) {
      DaemonNote n = SyncTreeAfterCheck(host, config.db, config.rules, *cred, *result, figures);
      if (!n.text.empty()) report::Log(host, n.warn ? kWarn : kInfo, n.text);
    }
    return Status::Ok();
  }

  // Realtime drift (posted by the watcher's thread): queued and delivered
  // at once, as a step of the loop like any other.
  void DeliverRealtime(CheckResult result) {
    agent::DropBelowSeverity(config.min_severity, &result);
    if (result.events.empty()) return;
    result.interval_ns = config.interval_ns;
    Log("realtime: " + std::to_string(result.events.size()) + " drift event(s)");
    Deliver(&result, false);
  }

  void StartRealtime() {
    if (!realtime) {
      realtime = std::make_unique<DaemonRealtime>(
          host, events, container_of,
          [this](CheckResult r) {
            boost::asio::post(
                io, [this, r = std::move(r)]() mutable { DeliverRealtime(std::move(r)); });
          },
          [this](const char* level, const std::string& msg) { report::Log(host, level, msg); });
    }
    realtime->Start(config);
  }

  // A timer's wait that had completed when it was cancelled (its handler
  // queued already) still runs; the generation tells it that it was
  // replaced, so that one chain of checks and one of polls run at a time.
  void ScheduleCheck() {
    bool baseline_missing = false;
    if (!schedule.checked()) {
      auto exists = agent::BaselineExists(CheckOpts());
      baseline_missing = exists.ok() && !*exists;
    }
    const int64_t delay = schedule.NextCheckDelayNs(config, baseline_missing);
    check_timer.expires_after(std::chrono::nanoseconds(delay));
    check_timer.async_wait([this, gen = ++check_gen](const boost::system::error_code& ec) {
      if (ec || gen != check_gen) return;
      schedule.CheckRan();
      Status s = Check();
      if (!s.ok()) Error("check failed: " + s.message());
      ScheduleCheck();
    });
  }

  void Poll() {
    MaybeEnroll();
    Deliver(nullptr, true);
    auto outbox = OpenAgentOutbox(host, config.db, config.outbox_max);
    if (!outbox.ok()) return Error(outbox.status().message());
    auto cred = Credentials(**outbox);
    if (!cred.ok() || !cred->has_value()) return;
    CollectorClient client((*cred)->collector, (*cred)->token, (*cred)->ca_file);
    std::vector<PendingAck> failed;
    for (PendingAck& a : acks) {
      if (!KeepForRetry(host, a, SendAck(client, a))) continue;
      failed.push_back(std::move(a));
    }
    acks = std::move(failed);
    auto cmds = client.PollCommands();
    if (!cmds.ok()) return;
    // With a pinned collector key, commands that change the baseline or
    // the files are run only when signed by it (docs/integrity.md).
    auto pinned = LoadPinnedKey(config.db);
    for (const AgentCommand& c : *cmds) {
      PendingAck ack;
      bool restored = false;
      ack.id = c.id;
      Status trusted = pinned.ok() ? VerifyCommandSignature(c, *pinned, (*cred)->host_id)
                       : c.kind == "baseline" || c.kind == "accept" || c.kind == "restore"
                           ? pinned.status()
                           : Status::Ok();
      if (!trusted.ok()) {
        ack.detail = "refused: " + trusted.message();
        Warn("command " + std::to_string(c.id) + " " + c.kind + ": " + ack.detail);
      } else if (c.kind == "baseline") {
        auto info = agent::CreateBaseline(
            CheckOpts(), "collector",
            "requested by the collector (command " + std::to_string(c.id) + ")");
        ack.ok = info.ok();
        if (info.ok()) {
          ack.detail = "baseline " + info->name + " revision " + std::to_string(info->revision);
          ack.baseline =
              BaselineAck{info->name, info->revision, info->created_ns, info->root, "", ""};
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
          ack.baseline =
              BaselineAck{info->name, info->revision, info->created_ns, info->root, "", ""};
        } else {
          ack.detail = info.status().message();
        }
        Log("command " + std::to_string(c.id) + " accept: " + ack.detail);
      } else if (c.kind == "restore") {
        const RemoteRestoreOutcome r =
            RunRemoteRestore(c, CheckOpts(), config.allow_remote_restore);
        ack.ok = r.ok;
        ack.detail = r.detail;
        restored = r.changed;
        const std::string line = "command " + std::to_string(c.id) + " restore (" +
                                 (c.all ? std::string("all drifted paths")
                                        : std::to_string(c.paths.size()) + " path(s)") +
                                 (c.dry_run ? ", dry run" : "") + "; reason: " + c.reason +
                                 "): " + ack.detail;
        if (r.ok) {
          Log(line);
        } else {
          Warn(line);
        }
      } else if (c.kind == "check-now") {
        Status s = Check();
        ack.ok = s.ok();
        ack.detail = s.ok() ? "checked" : s.message();
      } else {
        ack.detail = "unknown command '" + c.kind + "'";
      }
      if (ack.baseline) {
        if (Status f = AddStatementFields(host, config.db, &*ack.baseline); !f.ok()) {
          Warn("command " + std::to_string(c.id) + ": " + f.message());
        }
      }
      Status s = SendAck(client, ack);
      if (KeepForRetry(host, ack, s)) acks.push_back(std::move(ack));
      if (((c.kind == "baseline" || c.kind == "accept") && ack.ok) || restored) {
        // Report against the new baseline, or the restored files, so the
        // collector sees them at once.
        Status cs = Check();
        if (!cs.ok()) Error("check failed: " + cs.message());
      }
    }
  }

  // Acknowledges a command; a signed statement in the answer (a revision
  // the collector signed) is verified and kept with the revision.
  Status SendAck(CollectorClient& client, const PendingAck& a) {
    std::string signed_file;
    Status s = client.Ack(a.id, a.ok, a.detail, a.baseline, &signed_file);
    if (s.ok() && !signed_file.empty()) {
      auto attached = AttachAnsweredSignature(host, config, signed_file);
      if (attached.ok()) {
        Log("command " + std::to_string(a.id) + ": " + *attached);
      } else {
        Warn("command " + std::to_string(a.id) +
             ": the collector's signature is refused: " + attached.status().message());
      }
    }
    return s;
  }

  void SchedulePoll() {
    poll_timer.expires_after(std::chrono::nanoseconds(config.poll_interval_ns));
    poll_timer.async_wait([this, gen = ++poll_gen](const boost::system::error_code& ec) {
      if (ec || gen != poll_gen) return;
      Poll();
      SchedulePoll();
    });
  }

  void WaitSignal() {
    signals.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        // A SIGHUP that came during a check is handled here, after it.
        service::NotifyReloading();
        auto c = LoadDaemonConfig(host, config_path, config_required);
        if (!c.ok()) {
          Error("reload failed, keeping the old configuration: " + c.status().message());
        } else {
          config = std::move(c).value();
          Log(config.source.empty() ? "configuration reloaded: " + ConfigSource(config, config_path)
                                    : "configuration reloaded from " + config.source);
          baseline_ready = false;
          schedule.Reloaded();
          if (started) {
            StartRealtime();
            check_timer.cancel();
            poll_timer.cancel();
            ScheduleCheck();
            SchedulePoll();
          }
        }
        service::NotifyReady(status);
        WaitSignal();
        return;
      }
      service::NotifyStopping();
      Log("signal " + std::to_string(sig) + ": exiting");
      io.stop();
    });
  }
};

Daemon::Daemon(Host& host, std::string config_path, bool config_required, DaemonConfig config,
               std::function<void(const DaemonConfig&, CheckResult*)> after_check,
               FsEventSourceFactory events, ContainerMatcher container_of)
    : impl_(std::make_unique<Impl>(host)) {
  impl_->events = std::move(events);
  impl_->container_of = std::move(container_of);
  impl_->config_path = std::move(config_path);
  impl_->config_required = config_required;
  impl_->config = std::move(config);
  impl_->after_check = std::move(after_check);
}

Daemon::~Daemon() = default;

int Daemon::Run() {
  // The signal handlers were installed with the Impl (its signal_set); a
  // signal that came since waits in the set for WaitSignal().
  impl_->WaitSignal();
  const DaemonConfig& c = impl_->config;
  impl_->Log("started (" + ConfigSource(c, impl_->config_path) + "); checks every " +
             FormatDuration(c.interval_ns) + ", polls every " + FormatDuration(c.poll_interval_ns));
  for (const std::string& w : LowerPriority(c.nice)) Log(impl_->host, kWarn, w);
  // Polls (and so enrolls, on a first start) before the first check, whose
  // report then goes out at once.
  impl_->io.post([this] {
    // Opening the store first creates its directory (0700) on a host where
    // nothing made it yet, so that a first-start enrollment can be kept.
    if (auto store = agent::Store::Open(impl_->host, impl_->config.db); !store.ok()) {
      impl_->Error(store.status().message());
    }
    impl_->exe_digest = ExeDigest(impl_->host);
    if (Status s = StampSelf(impl_->host, impl_->config.db, impl_->exe_digest, impl_->config.rules,
                             impl_->config_path, /*start=*/true, nullptr);
        !s.ok()) {
      impl_->Error("the start was not recorded in the store's chain: " + s.message());
    }
    impl_->Poll();
    impl_->StartRealtime();
    impl_->started = true;
    impl_->ScheduleCheck();
    impl_->SchedulePoll();
  });
  service::NotifyReady(impl_->status);
  impl_->io.run();
  impl_->realtime.reset();
  return 0;
}

}  // namespace driftwatch::report
