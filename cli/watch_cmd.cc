// driftwatch watch: realtime drift in the foreground (docs/realtime.md).
// Prints each event as the watcher classifies it; writes neither the
// journal nor the outbox. SIGINT and SIGTERM end it with exit 0.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <mutex>
#include <thread>

#include "agent/check.h"
#include "agent/realtime.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "core/drift_json.h"
#include "core/fs_events.h"
#include "core/host.h"
#include "rules/policy.h"

namespace driftwatch::cli {
namespace {

struct WatchFlags {
  std::string db;
  std::string rules;
  std::string root;
  std::string baseline = "default";
  std::string format = "text";
};

Result<std::string> Absolute(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) == nullptr) return ErrnoStatus("getcwd", errno);
  return std::string(cwd) + "/" + path;
}

void PrintEvent(const DriftEvent& e, bool json) {
  if (json) {
    std::cout << DriftEventToJson(e).serialize() << std::endl;
    return;
  }
  std::string line = FormatEvent(e);
  if (e.transient) line += " (transient)";
  if (e.actor) line += " by " + FormatActor(*e.actor);
  if (e.reverted_by) line += ", undone by " + FormatActor(*e.reverted_by);
  std::cout << line << std::endl;
}

int Watch(const WatchFlags& f) {
  const bool json = f.format == "json";
  agent::CheckOptions o;
  o.host = &DefaultHost();
  o.db_path = f.db.empty() ? agent::DefaultDbPath() : f.db;
  o.baseline = f.baseline;
  auto rules = Absolute(f.rules.empty() ? agent::DefaultRulesPath() : f.rules);
  auto root = Absolute(f.root.empty() ? "/" : f.root);
  if (!rules.ok()) return Fail(rules.status());
  if (!root.ok()) return Fail(root.status());
  o.rules_path = *rules;
  o.root = *root;
  while (o.root.size() > 1 && o.root.back() == '/') o.root.pop_back();
  Status defaults = agent::ApplyBaselineDefaults(&o, !f.root.empty(), !f.rules.empty());
  if (!defaults.ok()) return Fail(defaults);
  auto exists = agent::BaselineExists(o);
  if (!exists.ok()) return Fail(exists.status());
  if (!*exists) {
    return Fail(Status::NotFound("no baseline named '" + o.baseline + "' in " + o.db_path +
                                 " (create one with: driftwatch baseline create)"));
  }
  auto policy = rules::LoadPolicyFile(DefaultHost(), o.rules_path);
  if (!policy.ok()) return Fail(policy.status());
  if (std::string why = FsEventsUnsupportedReason(); !why.empty()) {
    return Fail(Status::Unsupported("realtime watching is not available: " + why));
  }
  auto source = OpenFanotifySource();
  if (!source.ok()) return Fail(source.status());

  // The signals are taken by sigtimedwait below, not by handlers; blocked
  // before any thread starts, so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  agent::WatcherOptions wo;
  wo.root = o.root;
  wo.db_path = o.db_path;
  wo.baseline = o.baseline;
  wo.container_of = MakeContainerMatcher();
  wo.sink = [json](CheckResult r) {
    for (const DriftEvent& e : r.events) PrintEvent(e, json);
  };
  agent::Watcher watcher(DefaultHost(), *policy, **source, std::move(wo));
  Status started = watcher.Start();
  if (!started.ok()) return Fail(started);
  std::cerr << "watching " << EscapePath(o.root) << " against baseline '" << o.baseline
            << "' (Ctrl-C ends)" << std::endl;
  std::atomic<bool> done{false};
  Status result;
  std::thread run([&] {
    result = watcher.Run();
    done = true;
  });
  struct timespec tick = {0, 200'000'000};
  while (!done) {
    if (sigtimedwait(&signals, nullptr, &tick) > 0) break;
  }
  watcher.Stop();
  run.join();
  for (const std::string& gap : watcher.gaps()) std::cerr << "warning: " << gap << "\n";
  if (!result.ok()) return Fail(result);
  return kExitOk;
}

}  // namespace

void AddWatchCommand(CLI::App& root) {
  auto f = std::make_shared<WatchFlags>();
  CLI::App* cmd = cmdline::AddCommand(
      root, "watch", "print drift as it happens, with the process behind each change",
      [f] { return Watch(*f); });
  cmd->add_option("--baseline", f->baseline, "the baseline to compare with (default: default)")
      ->type_name("NAME");
  cmd->add_option("--rules", f->rules, "the rule file (default: the baseline's)")
      ->type_name("FILE");
  cmd->add_option("--root", f->root, "the watched tree (default: the baseline's)")
      ->type_name("DIR")
      ->check(cmdline::NonEmpty());
  AddDbFlag(cmd, &f->db);
  AddFormatFlag(cmd, &f->format);
}

}  // namespace driftwatch::cli
