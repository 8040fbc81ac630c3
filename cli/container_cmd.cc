// `driftwatch container ...`: images, lifecycle, exec, diff and A/B slots.
#include <fcntl.h>
#include <unistd.h>

#include <iostream>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/container_restore.h"
#include "cli/output.h"
#include "cli/restore_output.h"
#include "cli/tree_baseline.h"
#include "container/image_store.h"
#include "container/init.h"
#include "container/launcher.h"
#include "container/report.h"
#include "container/seccomp_filter.h"
#include "container/slots.h"
#include "container/state.h"
#include "container/userns.h"

namespace driftwatch::cli {
namespace {

using container::ContainerRecord;
using container::StateDir;

// Every flag and argument of the container verbs; each verb registers the
// ones it takes.
struct ContainerFlags {
  std::string state_dir = StateDir::DefaultPath();
  std::string format = "text";
  std::string db;     // agent store of the tree baselines
  std::string rules;  // container rules
  bool keep_special = false;
  // run, deploy
  std::string name;
  std::vector<std::string> volumes;
  std::vector<std::string> env;
  std::string net = "none";
  std::string memory;
  std::string pids;
  bool detach = false;
  bool rm = false;
  bool userns = false;
  std::string userns_range;
  std::vector<std::string> cap_add;
  std::string seccomp = "default";
  std::vector<std::string> seccomp_allow;
  bool interactive = false;
  bool tty = false;
  std::string health;
  int timeout = 10;
  bool force = false;
  bool baseline = false;
  // restore: paths, --dry-run, --reason
  std::vector<std::string> paths;
  bool dry_run = false;
  std::string reason;
  // Arguments: NAME (or SERVICE), then IMAGE or DIR, then CMD...
  std::string target;
  std::string source;
  std::vector<std::string> command;
};

// --db (agent store) and --rules (container rules) of the verbs that keep
// trees in the agent store.
TreeBaselineOptions TreeOptionsFrom(const ContainerFlags& a) {
  TreeBaselineOptions o;
  o.db_path = a.db;
  o.rules_path = a.rules;
  o.author = CurrentUser();
  return o;
}

StateDir StateFrom(const ContainerFlags& a) { return StateDir(DefaultHost(), a.state_dir); }

// --interactive / --tty need the caller to stay attached.
Status CheckAttach(const ContainerFlags& a) {
  if ((a.interactive || a.tty) && a.detach)
    return Status::InvalidArgument("-i/-t need the foreground; drop --detach");
  return Status::Ok();
}

Status FillRunFlags(const ContainerFlags& a, ContainerRecord* r) {
  r->name = a.name;
  for (const std::string& v : a.volumes) {
    DW_ASSIGN_OR_RETURN(container::VolumeSpec vs, container::ParseVolume(v));
    r->volumes.push_back(vs);
  }
  for (const std::string& e : a.env) {
    if (e.find('=') == std::string::npos || e[0] == '=')
      return Status::InvalidArgument("--env '" + e + "': expected K=V");
    r->env.push_back(e);
  }
  r->net = a.net;
  for (const std::string& c : a.cap_add) {
    DW_ASSIGN_OR_RETURN(int cap, container::ParseCapability(c));
    (void)cap;
    r->cap_add.push_back(c);
  }
  r->seccomp = a.seccomp;
  r->seccomp_allow = a.seccomp_allow;
  DW_RETURN_IF_ERROR(container::ValidateSeccomp(r->seccomp, r->seccomp_allow));
  if (!a.memory.empty()) {
    DW_ASSIGN_OR_RETURN(r->memory_bytes, container::ParseByteSize(a.memory));
  }
  if (!a.pids.empty()) {
    DW_ASSIGN_OR_RETURN(r->pids_max, container::ParseByteSize(a.pids));
  }
  if (!a.userns_range.empty() && !a.userns)
    return Status::InvalidArgument("--userns-range needs --userns");
  if (a.userns) {
    if (!a.userns_range.empty()) {
      DW_ASSIGN_OR_RETURN(r->userns, container::ParseIdRange(a.userns_range));
    } else {
      r->userns = container::DefaultIdRange(DefaultHost());
    }
  }
  r->command = a.command;
  return Status::Ok();
}

int ImageImport(const ContainerFlags& a) {
  StateDir state = StateFrom(a);
  const std::string name = a.target;
  TreeBaselineOptions o = TreeOptionsFrom(a);
  std::string baseline;
  auto digester = [&](const std::string& rootfs) -> Result<std::pair<Hash128, uint64_t>> {
    DW_ASSIGN_OR_RETURN(ImageBaseline b, RecordImageBaseline(o, name, rootfs));
    baseline = b.baseline;
    return std::make_pair(b.digest, b.entries);
  };
  container::SpecialFileCounts counts;
  container::ImportOptions options;
  options.keep_special = a.keep_special;
  options.counts = &counts;
  auto r = container::ImportImage(state, name, a.source, digester, options);
  if (!r.ok()) return Fail(r.status());
  std::cout << r->name << " " << r->digest.Hex() << " (" << r->entries << " entries; baseline "
            << baseline << ")\n";
  if (counts.devices_removed + counts.setid_cleared + counts.capabilities_removed > 0) {
    std::cerr << "driftwatch: note: " << name << ": removed " << counts.devices_removed
              << " device node(s), cleared setuid/setgid on " << counts.setid_cleared
              << " file(s), removed file capabilities from " << counts.capabilities_removed
              << " file(s) (--keep-special keeps them)\n";
  }
  return kExitOk;
}

int ImageLs(const ContainerFlags& a) {
  auto images = container::ListImages(StateFrom(a));
  if (!images.ok()) return Fail(images.status());
  if (a.format == "json") {
    web::json::value list = web::json::value::array(images->size());
    for (size_t i = 0; i < images->size(); ++i) {
      web::json::value v = web::json::value::object();
      v["name"] = web::json::value::string((*images)[i].name);
      v["digest"] = web::json::value::string((*images)[i].digest.Hex());
      v["entries"] = web::json::value::number(static_cast<uint64_t>((*images)[i].entries));
      list[i] = v;
    }
    std::cout << list.serialize() << "\n";
  } else {
    for (const auto& im : *images) std::cout << im.name << " " << im.digest.Hex() << "\n";
  }
  return kExitOk;
}

int Run(const ContainerFlags& a) {
  if (Status s = CheckAttach(a); !s.ok()) return Fail(s);
  ContainerRecord r;
  r.image = a.target;
  if (Status s = FillRunFlags(a, &r); !s.ok()) return Fail(s);
  if (a.rm && a.detach)
    return Fail(Status::InvalidArgument("--rm and --detach exclude each other"));
  StateDir state = StateFrom(a);
  auto created = container::CreateContainer(state, r);
  if (!created.ok()) return Fail(created.status());
  container::StartOptions opts;
  opts.detach = a.detach;
  opts.ephemeral = a.rm;
  opts.interactive = a.interactive;
  opts.tty = a.tty;
  std::cout.flush();
  auto code = container::StartContainer(state, created->name, opts);
  if (a.rm && !opts.detach) {
    Status removed = container::RemoveContainer(state, created->name, true);
    if (!removed.ok()) return Fail(removed);
  }
  if (!code.ok()) return Fail(code.status());
  if (opts.detach) std::cout << created->name << "\n";
  return *code;
}

int Start(const ContainerFlags& a) {
  if (Status s = CheckAttach(a); !s.ok()) return Fail(s);
  container::StartOptions opts;
  opts.detach = a.detach;
  opts.interactive = a.interactive;
  opts.tty = a.tty;
  std::cout.flush();
  auto code = container::StartContainer(StateFrom(a), a.target, opts);
  if (!code.ok()) return Fail(code.status());
  return *code;
}

int Ps(const ContainerFlags& a) {
  StateDir state = StateFrom(a);
  auto names = state.ListContainers();
  if (!names.ok()) return Fail(names.status());
  std::vector<container::PsRow> rows;
  for (const std::string& n : *names) {
    auto r = container::InspectContainer(state, n);
    if (!r.ok()) continue;  // removed meanwhile
    container::PsRow row{*r, false, {}};
    auto events = container::DiffContainer(state, *r);
    if (events.ok()) {
      row.drift_known = true;
      row.drift = Summarize(*events);
    }
    rows.push_back(std::move(row));
  }
  std::cout << (a.format == "json" ? container::PsJson(rows).serialize() + "\n"
                                   : container::PsText(rows));
  return kExitOk;
}

int Stop(const ContainerFlags& a) {
  Status s = container::StopContainer(StateFrom(a), a.target, std::chrono::seconds(a.timeout));
  return s.ok() ? kExitOk : Fail(s);
}

int Rm(const ContainerFlags& a) {
  Status s = container::RemoveContainer(StateFrom(a), a.target, a.force);
  return s.ok() ? kExitOk : Fail(s);
}

int Logs(const ContainerFlags& a) {
  StateDir state = StateFrom(a);
  auto r = state.LoadContainer(a.target);
  if (!r.ok()) return Fail(r.status());
  auto text =
      container::ReadSmallFile(state.host(), state.ContainerDir(r->name) + "/log", 64u << 20);
  if (!text.ok() && text.status().code() != StatusCode::kNotFound) return Fail(text.status());
  if (text.ok()) std::cout << *text;
  return kExitOk;
}

int Exec(const ContainerFlags& a) {
  std::cout.flush();
  container::ExecOptions opts;
  opts.interactive = a.interactive;
  opts.tty = a.tty;
  auto code = container::ExecInContainer(StateFrom(a), a.target, a.command, opts);
  if (!code.ok()) return Fail(code.status());
  return *code;
}

Result<std::vector<DriftEvent>> DiffAgainstImageBaseline(const ContainerFlags& a,
                                                         const StateDir& state,
                                                         const ContainerRecord& r) {
  DW_ASSIGN_OR_RETURN(ContainerRecord now, container::InspectContainer(state, r.name));
  if (!container::IsRunning(state.host(), now)) {
    return Status::InvalidArgument("diff --baseline needs a running container; " + r.name + " is " +
                                   now.status);
  }
  if (now.userns.enabled()) {
    return Status::InvalidArgument(
        "diff --baseline: " + r.name +
        " runs in a user namespace, whose owners the host sees shifted; use diff without "
        "--baseline");
  }
  // Mounted over the image: /proc, /dev, /sys and the volumes.
  std::vector<std::string> excluded = {"/proc", "/dev", "/sys"};
  for (const container::VolumeSpec& v : now.volumes) excluded.push_back(v.destination);
  auto drift =
      DiffTreeWithBaseline(TreeOptionsFrom(a), ImageBaselineName(now.image, now.image_digest),
                           "/proc/" + std::to_string(now.pid) + "/root", excluded);
  if (!drift.ok()) return drift.status();
  for (const std::string& w : drift->warnings) std::cerr << "driftwatch: warning: " << w << "\n";
  return std::move(drift->events);
}

int Diff(const ContainerFlags& a) {
  StateDir state = StateFrom(a);
  auto r = state.LoadContainer(a.target);
  if (!r.ok()) return Fail(r.status());
  auto events =
      a.baseline ? DiffAgainstImageBaseline(a, state, *r) : container::DiffContainer(state, *r);
  if (!events.ok()) return Fail(events.status());
  std::cout << (a.format == "json" ? container::DiffJson(*r, *events).serialize() + "\n"
                                   : container::DiffText(*events));
  return events->empty() ? kExitOk : kExitDrift;
}

int Restore(const ContainerFlags& a) {
  ContainerRestoreOptions o{a.target, a.paths, a.dry_run, a.db, CurrentUser(), a.reason};
  auto result = RestoreContainer(StateFrom(a), o);
  if (!result.ok()) return Fail(result.status());
  return PrintRestore(*result, a.dry_run, a.format == "json");
}

int Deploy(const ContainerFlags& a) {
  ContainerRecord r;
  if (Status s = FillRunFlags(a, &r); !s.ok()) return Fail(s);
  if (a.interactive || a.tty)
    return Fail(Status::InvalidArgument("deploy runs its slots detached; drop -i/-t"));
  if (!a.name.empty())
    return Fail(Status::InvalidArgument("deploy names its slots itself; drop --name"));
  container::DeployOptions o;
  o.service = a.target;
  o.spec = static_cast<const container::ContainerSpec&>(r);
  o.spec.image = a.source;
  o.health = a.health;
  std::cout.flush();
  auto out = container::Deploy(StateFrom(a), o);
  if (!out.ok()) return Fail(out.status());
  std::cout << o.service << ": slot " << out->active << " (" << out->container << ") is active"
            << (out->stopped.empty() ? "" : "; stopped " + out->stopped) << "\n";
  return kExitOk;
}

int Rollback(const ContainerFlags& a) {
  std::cout.flush();
  auto out = container::Rollback(StateFrom(a), a.target);
  if (!out.ok()) return Fail(out.status());
  std::cout << a.target << ": slot " << out->active << " (" << out->container
            << ") is active again; stopped " << out->stopped << "\n";
  return kExitOk;
}

// A verb of `container` (or `container image`) with its own flags and
// --state-dir.
CLI::App* AddVerb(CLI::App& parent, const std::string& name, const std::string& summary,
                  int (*run)(const ContainerFlags&), std::shared_ptr<ContainerFlags>* flags) {
  *flags = std::make_shared<ContainerFlags>();
  auto f = *flags;
  CLI::App* cmd = cmdline::AddCommand(parent, name, summary, [f, run] { return run(*f); });
  cmd->add_option("--state-dir", f->state_dir, "where containers and images are kept")
      ->type_name("DIR");
  return cmd;
}

void AddAttachFlags(CLI::App* cmd, ContainerFlags* f) {
  cmd->add_flag("-i,--interactive", f->interactive, "keep stdin open (proxied, never the host's)");
  cmd->add_flag("-t,--tty", f->tty, "give the container its own terminal");
}

void AddTreeFlags(CLI::App* cmd, ContainerFlags* f) {
  AddDbFlag(cmd, &f->db);
  cmd->add_option("--rules", f->rules,
                  "the container rules (default /etc/driftwatch/container.yaml)")
      ->type_name("FILE");
}

// The flags run and deploy share.
void AddRunFlags(CLI::App* cmd, ContainerFlags* f) {
  cmd->add_option("--name", f->name, "the container's name")->type_name("NAME");
  cmd->add_option("--volume", f->volumes, "bind SRC at DST, read-only with :ro (repeatable)")
      ->type_name("SRC:DST[:ro]");
  cmd->add_option("--env", f->env, "an environment variable (repeatable)")->type_name("K=V");
  cmd->add_option("--net", f->net,
                  "none (default): a private network with loopback only; host: the host's")
      ->type_name(cmdline::Choices({"none", "host"}))
      ->check(cmdline::OneOf({"none", "host"}));
  cmd->add_option("--memory", f->memory, "memory limit, like 256M")->type_name("SIZE");
  cmd->add_option("--pids", f->pids, "process limit, like 512")->type_name("N");
  cmd->add_flag("--detach", f->detach, "run in the background and print the container's name");
  cmd->add_flag("--rm", f->rm, "remove the container when it exits");
  cmd->add_flag("--userns", f->userns, "run in a user namespace");
  cmd->add_option("--userns-range", f->userns_range, "the host ids of the user namespace")
      ->type_name("HOSTID:COUNT");
  cmd->add_option("--cap-add", f->cap_add, "keep a capability (repeatable)")->type_name("CAP");
  cmd->add_option("--seccomp", f->seccomp, "the system call filter (default: default)")
      ->type_name(cmdline::Choices({"default", "unconfined"}))
      ->check(cmdline::OneOf({"default", "unconfined"}));
  cmd->add_option("--seccomp-allow", f->seccomp_allow,
                  "allow a group the default filter denies: keyring namespaces mount handles bpf "
                  "perf userfaultfd kexec modules tty-inject io_uring host-admin (repeatable)")
      ->type_name("GROUP");
  AddAttachFlags(cmd, f);
  cmd->add_option("CMD", f->command, "the command to run, after --");
}

}  // namespace

void AddContainerCommand(CLI::App& root) {
  CLI::App* c = cmdline::AddGroup(root, "container",
                                  "run containers; images, diff, deploy and rollback of slots");
  std::shared_ptr<ContainerFlags> f;

  CLI::App* image = cmdline::AddGroup(*c, "image", "container images: import, ls");
  CLI::App* cmd = AddVerb(*image, "import",
                          "copy an image into the store and record its tree as baseline "
                          "image:NAME@DIGEST; device nodes are dropped, setuid/setgid bits and "
                          "file capabilities stripped unless --keep-special",
                          ImageImport, &f);
  cmd->add_option("NAME", f->target, "the image's name")->required();
  cmd->add_option("SOURCE", f->source, "a root directory or a rootfs tarball")
      ->type_name("DIR|ROOTFS.tar")
      ->required();
  AddTreeFlags(cmd, f.get());
  cmd->add_flag("--keep-special", f->keep_special,
                "keep device nodes, setuid/setgid bits and file capabilities");
  cmd = AddVerb(*image, "ls", "the images in the store", ImageLs, &f);
  AddFormatFlag(cmd, &f->format);

  cmd = AddVerb(*c, "run", "create and start a container from IMAGE", Run, &f);
  cmd->add_option("IMAGE", f->target, "the image")->required();
  AddRunFlags(cmd, f.get());

  cmd = AddVerb(*c, "start", "start a stopped container again (its layer kept)", Start, &f);
  cmd->add_option("NAME", f->target, "the container")->required();
  cmd->add_flag("--detach", f->detach, "run in the background");
  AddAttachFlags(cmd, f.get());

  cmd = AddVerb(*c, "ps", "the containers, with their drift", Ps, &f);
  AddFormatFlag(cmd, &f->format);

  cmd = AddVerb(*c, "stop", "stop a container", Stop, &f);
  cmd->add_option("NAME", f->target, "the container")->required();
  cmd->add_option("--timeout", f->timeout, "seconds between SIGTERM and SIGKILL (default 10)")
      ->type_name("S")
      ->check(cmdline::IntegerRange(0, 3600));

  cmd = AddVerb(*c, "rm", "remove a container", Rm, &f);
  cmd->add_option("NAME", f->target, "the container")->required();
  cmd->add_flag("--force", f->force, "stop it first when it runs");

  cmd = AddVerb(*c, "logs", "what a container wrote", Logs, &f);
  cmd->add_option("NAME", f->target, "the container")->required();

  cmd = AddVerb(*c, "exec", "run a command in a running container", Exec, &f);
  cmd->add_option("NAME", f->target, "the container")->required();
  AddAttachFlags(cmd, f.get());
  cmd->add_option("CMD", f->command, "the command, after --")->required();

  cmd = AddVerb(*c, "diff",
                "A/C/D of the writable layer, or with --baseline the running root against the "
                "image's baseline with the container rules; exit 1 on drift",
                Diff, &f);
  cmd->add_option("NAME", f->target, "the container")->required();
  AddFormatFlag(cmd, &f->format);
  cmd->add_flag("--baseline", f->baseline, "compare with the image's baseline");
  AddTreeFlags(cmd, f.get());

  cmd = AddVerb(*c, "restore",
                "make paths of a stopped container equal to its image again (all its drift "
                "without PATH); exit 1 when some were refused",
                Restore, &f);
  cmd->add_option("NAME", f->target, "the container")->required();
  cmd->add_option("PATH", f->paths, "a path or glob inside the container");
  cmd->add_flag("--dry-run", f->dry_run, "print what would be done, change nothing");
  cmd->add_option("--reason", f->reason, "why; kept in the restore history")
      ->type_name("TEXT")
      ->required()
      ->check(cmdline::NonEmpty());
  AddFormatFlag(cmd, &f->format);
  AddDbFlag(cmd, &f->db);

  cmd = AddVerb(*c, "deploy",
                "start IMAGE in the idle slot of SERVICE, switch to it when --health passes",
                Deploy, &f);
  cmd->add_option("SERVICE", f->target, "the service")->required();
  cmd->add_option("IMAGE", f->source, "the image")->required();
  cmd->add_option("--health", f->health, "the health check command run in the new slot")
      ->type_name("CMD")
      ->required();
  AddRunFlags(cmd, f.get());

  cmd = AddVerb(*c, "rollback", "switch SERVICE back to its other slot", Rollback, &f);
  cmd->add_option("SERVICE", f->target, "the service")->required();
}

}  // namespace driftwatch::cli
