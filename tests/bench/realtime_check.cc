// One check of a tree, journal-driven or full, for tests/bench/realtime:
//
//   realtime_check --db DB --rules FILE --root DIR [--baseline NAME] [--jobs N]
//                  [--journal [PATH...]]
//
// Without --journal the check walks everything. With it, the check is given
// the journal a healthy realtime watcher would hand over: based on the
// latest check of the baseline, dirty paths as given (none: an unchanged
// tree). Prints how it walked and what it counted; exit 1 on an error or
// when a journal was given but not used.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "agent/check.h"
#include "agent/store.h"
#include "core/host.h"

namespace {

int Run(int argc, char** argv) {
  using namespace driftwatch;
  agent::CheckOptions o;
  o.host = &DefaultHost();
  bool journal = false;
  std::vector<std::string> dirty;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "realtime_check: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--db") {
      o.db_path = value();
    } else if (a == "--rules") {
      o.rules_path = value();
    } else if (a == "--root") {
      o.root = value();
    } else if (a == "--baseline") {
      o.baseline = value();
    } else if (a == "--jobs") {
      o.jobs = std::atoi(value().c_str());
    } else if (a == "--journal") {
      journal = true;
    } else if (journal && !a.empty() && a[0] == '/') {
      dirty.push_back(a);
    } else {
      std::cerr << "realtime_check: unexpected argument '" << a
                << "' (expected --db, --rules, --root, --baseline, --jobs, --journal [PATH...])\n";
      return 2;
    }
  }
  if (journal) {
    auto store = agent::Store::Open(*o.host, o.db_path);
    if (!store.ok()) {
      std::cerr << "realtime_check: " << store.status().message() << "\n";
      return 1;
    }
    auto latest = (*store)->LatestCheck(o.baseline);
    if (!latest.ok() || !latest->has_value()) {
      std::cerr << "realtime_check: no check of baseline '" << o.baseline
                << "' to start a journal at (run one without --journal first)\n";
      return 1;
    }
    agent::DirtySet d;
    d.base_snapshot_id = (*latest)->snapshot_id;
    std::sort(dirty.begin(), dirty.end());
    d.paths = std::move(dirty);
    o.dirty = std::move(d);
  }
  auto r = agent::RunCheck(o);
  if (!r.ok()) {
    std::cerr << "realtime_check: " << r.status().message() << "\n";
    return 1;
  }
  std::cout << (r->walk.journal
                    ? "journal " + std::to_string(r->walk.dirty_paths) + " dirty paths"
                    : "full walk" + (r->walk.full_reason.empty() ? std::string()
                                                                 : ": " + r->walk.full_reason))
            << "; " << r->stats.files << " files, " << r->stats.dirs << " dirs, "
            << r->stats.files_hashed << " hashed, " << r->events.size() << " events\n";
  return journal && !r->walk.journal ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
