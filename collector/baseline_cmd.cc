// driftwatch-collector baseline (cli.h): without a source, queue a new
// baseline on every host (of --group) at its next report; with --from-host
// or --from-majority, make a new revision of the group's own baseline from
// the trees the collector holds (group_baseline.h, docs/collector.md
// "Fleet trees"), which the group's agents check against.
#include <iostream>
#include <memory>

#include "collector/cli.h"
#include "collector/group_baseline.h"

namespace driftwatch::collector::cli {
namespace {

struct BaselineFlags {
  Flags flags;
  bool from_majority = false;
};

int GroupBaselineCommand(Host& host, const BaselineFlags& f, FleetStore& store) {
  GroupBaselineRequest req;
  const Flags& flags = f.flags;
  req.group = flags.count("group") ? flags.at("group") : "";
  req.from_host = flags.count("from-host") ? flags.at("from-host") : "";
  req.from_majority = f.from_majority;
  req.by = flags.count("by") ? flags.at("by") : "";
  req.why = flags.count("why") ? flags.at("why") : "";
  auto made = MakeGroupBaseline(store, req, host.NowNs());
  if (!made.ok()) return Fail(made.status());
  std::cout << "group " << made->group << ": baseline revision " << made->revision << " from "
            << made->source << ", root " << made->root.Hex() << "\n";
  return kExitOk;
}

int Baseline(Host& host, const BaselineFlags& f) {
  const Flags& flags = f.flags;
  if (!NamesStore(flags)) {
    return Fail(Status::InvalidArgument(
        "baseline: expected the store: --config FILE, --db FILE or --store URL"));
  }
  const bool group_baseline = f.from_majority || flags.count("from-host") > 0;
  if (group_baseline) {
    // Checked before the store opens: nothing is written by a mistake.
    if (f.from_majority && flags.count("from-host")) {
      return Fail(
          Status::InvalidArgument("baseline: give --from-host or --from-majority, not both"));
    }
    for (const char* need : {"group", "by", "why"}) {
      if (!flags.count(need) || flags.at(need).empty()) {
        return Fail(Status::InvalidArgument(std::string("baseline: --") + need +
                                            " is required with --from-host or --from-majority"));
      }
    }
  } else if (flags.count("by") || flags.count("why")) {
    return Fail(
        Status::InvalidArgument("baseline: --by and --why go with --from-host or --from-majority"));
  }
  auto config = LoadConfig(host, flags);
  if (!config.ok()) return Fail(config.status());
  auto store = OpenConfigStore(*config);
  if (!store.ok()) return Fail(store.status());
  int code = kExitOk;
  if (group_baseline) {
    code = GroupBaselineCommand(host, f, **store);
  } else {
    std::string group = flags.count("group") ? flags.at("group") : "";
    auto ids = (*store)->QueueCommandForGroup(group, "baseline", host.NowNs());
    if (!ids.ok()) {
      code = Fail(ids.status());
    } else {
      std::cout << "queued baseline for " << ids->size() << " host(s)"
                << (group.empty() ? "" : " in group " + group) << "\n";
    }
  }
  store->reset();
  FixSqliteOwnership(*config);
  return code;
}

}  // namespace

void AddBaselineCommand(CLI::App& root, Host& host) {
  auto f = std::make_shared<BaselineFlags>();
  CLI::App* cmd = cmdline::AddCommand(
      root, "baseline",
      "queue a new baseline on every host (of --group) at its next report; with --from-host or "
      "--from-majority, make a new revision of the group's baseline its agents check against",
      [f, &host] { return Baseline(host, *f); });
  AddStoreFlags(cmd, &f->flags);
  AddFlag(cmd, &f->flags, "group", "GROUP",
          "only the hosts of this group; the group whose "
          "baseline --from-host or --from-majority makes");
  AddFlag(cmd, &f->flags, "from-host", "HOST",
          "the group's baseline is this host's tree (host-specific paths left out)");
  cmd->add_flag("--from-majority", f->from_majority,
                "the group's baseline is what most of its hosts hold at each path");
  AddFlag(cmd, &f->flags, "by", "WHO", "who makes the group baseline (recorded with it)");
  AddFlag(cmd, &f->flags, "why", "TEXT", "why the group baseline changes (recorded with it)");
}

}  // namespace driftwatch::collector::cli
