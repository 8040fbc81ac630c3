#include "report/daemon_realtime.h"

namespace driftwatch::report {

DaemonRealtime::DaemonRealtime(Host& host, FsEventSourceFactory factory,
                               ContainerMatcher container_of,
                               std::function<void(CheckResult)> on_result,
                               std::function<void(const char*, const std::string&)> log)
    : host_(host),
      factory_(std::move(factory)),
      container_of_(std::move(container_of)),
      on_result_(std::move(on_result)),
      log_(std::move(log)) {}

DaemonRealtime::~DaemonRealtime() { Stop(); }

void DaemonRealtime::Stop() {
  if (watcher_ != nullptr) {
    watcher_->Stop();
    if (thread_.joinable()) thread_.join();
  }
  watcher_.reset();
  journal_.reset();
  source_.reset();
  policy_.reset();
}

void DaemonRealtime::Off(const DaemonConfig& config, const std::string& why) {
  if (why != off_logged_) {
    log_("info", "realtime: off (" + why + "); scheduled checks walk everything");
    off_logged_ = why;
  }
  auto journal = agent::Journal::Open(host_, config.db);
  if (journal.ok()) (*journal)->EndEpoch("realtime is off: " + why).IgnoreError();
}

void DaemonRealtime::Start(const DaemonConfig& config) {
  Stop();
  if (!config.realtime) return Off(config, "realtime: false in the configuration");
  if (!factory_) return Off(config, "no event source in this build");
  auto source = factory_();
  if (!source.ok()) return Off(config, source.status().message());
  auto policy = rules::LoadPolicyFile(host_, config.rules);
  if (!policy.ok()) return Off(config, "the rules: " + policy.status().message());
  auto journal = agent::Journal::Open(host_, config.db);
  if (!journal.ok()) return Off(config, "the journal: " + journal.status().message());
  source_ = std::move(*source);
  policy_ = std::make_unique<rules::Policy>(std::move(*policy));
  journal_ = std::move(*journal);
  agent::WatcherOptions o;
  o.root = config.root;
  o.db_path = config.db;
  o.baseline = config.baseline;
  o.rule_files = policy_->files();
  o.journal = journal_.get();
  o.sink = on_result_;
  o.container_of = container_of_;
  watcher_ = std::make_unique<agent::Watcher>(host_, *policy_, *source_, std::move(o));
  if (Status s = watcher_->Start(); !s.ok()) {
    watcher_.reset();
    Stop();
    return Off(config, s.message());
  }
  off_logged_.clear();
  log_("info", "realtime: watching the paths of " + config.rules + " under " + config.root);
  thread_ = std::thread([this] {
    Status s = watcher_->Run();
    if (!s.ok()) log_("error", "realtime: stopped: " + s.message());
  });
}

std::function<Status()> DaemonRealtime::Sync() {
  if (watcher_ == nullptr) return nullptr;
  agent::Watcher* w = watcher_.get();
  return [w] { return w->Sync(); };
}

}  // namespace driftwatch::report
