// `driftwatch container ...`: images, lifecycle, exec, diff and A/B slots.
#include <fcntl.h>
#include <unistd.h>

#include <iostream>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "cli/output.h"
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

constexpr char kUsage[] =
    "usage: driftwatch container VERB [--state-dir DIR] ...\n"
    "  image import [--db PATH] [--rules FILE] [--keep-special] NAME DIR|ROOTFS.tar\n"
    "                                     copy an image into the store, record its digest\n"
    "                                     and its tree as baseline image:NAME@DIGEST; device\n"
    "                                     nodes are dropped, setuid/setgid bits and file\n"
    "                                     capabilities stripped unless --keep-special\n"
    "  image ls [--format json]\n"
    "  run [--name N] [--volume SRC:DST[:ro]]... [--env K=V]... [--net none|host]\n"
    "      [--memory 256M] [--pids 512] [--userns [--userns-range HOSTID:COUNT]]\n"
    "      [--cap-add CAP]... [--seccomp default|unconfined] [--seccomp-allow GROUP]...\n"
    "      [-i|--interactive] [-t|--tty] [--detach | --rm] IMAGE -- CMD...\n"
    "                                     --net none (default): private network, loopback only\n"
    "                                     -i: stdin attached (a pipe); -t: a pty of the\n"
    "                                     container's own, proxied (never the host terminal)\n"
    "                                     --seccomp-allow: keyring namespaces mount handles bpf\n"
    "                                     perf userfaultfd kexec modules tty-inject io_uring\n"
    "                                     host-admin (docs/containers.md)\n"
    "  start [--detach] [-i] [-t] NAME     start a stopped container again (layer kept)\n"
    "  ps [--format json] | stop [--timeout S] NAME | rm [--force] NAME | logs NAME\n"
    "  exec [-i] [-t] NAME -- CMD...\n"
    "  diff NAME [--format text|json]     A/C/D of the writable layer; exit 1 on drift\n"
    "  diff --baseline [--db PATH] [--rules FILE] NAME\n"
    "                                     the running root against the image's baseline,\n"
    "                                     with the container rules\n"
    "  deploy SERVICE IMAGE --health CMD [run flags] [-- CMD...]\n"
    "  rollback SERVICE\n";

const FlagSpec kStateDirFlag{"state-dir", true, false};
const FlagSpec kFormatFlag{"format", true, false};
const FlagSpec kDbFlag{"db", true, false};
const FlagSpec kRulesFlag{"rules", true, false};

// --db (agent store) and --rules (container rules) of the verbs that keep
// trees in the agent store.
TreeBaselineOptions TreeOptionsFrom(const Args& a) {
  TreeBaselineOptions o;
  o.db_path = a.GetOr("db", "");
  o.rules_path = a.GetOr("rules", "");
  o.author = CurrentUser();
  return o;
}

Result<Args> ParseWith(const std::vector<std::string>& args, std::vector<FlagSpec> specs) {
  specs.push_back(kStateDirFlag);
  return Args::Parse(args, specs);
}

StateDir StateFrom(const Args& a) {
  return StateDir(DefaultHost(), a.GetOr("state-dir", StateDir::DefaultPath()));
}

Status NeedPositionals(const Args& a, size_t n, const char* what) {
  if (a.positional().size() != n) return Status::InvalidArgument(std::string("expected ") + what);
  return Status::Ok();
}

Result<bool> JsonFormat(const Args& a) {
  std::string f = a.GetOr("format", "text");
  if (f != "text" && f != "json") return Status::InvalidArgument("--format must be text or json");
  return f == "json";
}

// Flags shared by run and deploy.
const std::vector<FlagSpec> kRunFlags = {
    {"name", true, false},         {"volume", true, true},        {"env", true, true},
    {"net", true, false},          {"memory", true, false},       {"pids", true, false},
    {"detach", false, false},      {"rm", false, false},          {"userns", false, false},
    {"userns-range", true, false}, {"cap-add", true, true},       {"seccomp", true, false},
    {"seccomp-allow", true, true}, {"interactive", false, false}, {"tty", false, false}};
const FlagSpec kInteractiveFlag{"interactive", false, false};
const FlagSpec kTtyFlag{"tty", false, false};

// Docker's short forms before "--": -i, -t, -it, -ti.
std::vector<std::string> ExpandShortFlags(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  bool rest = false;
  for (const std::string& a : args) {
    if (a == "--") rest = true;
    if (!rest && a.size() >= 2 && a[0] == '-' && a[1] != '-' &&
        a.find_first_not_of("it", 1) == std::string::npos) {
      for (size_t i = 1; i < a.size(); ++i) out.push_back(a[i] == 'i' ? "--interactive" : "--tty");
      continue;
    }
    out.push_back(a);
  }
  return out;
}

// --interactive / --tty need the caller to stay attached.
Status CheckAttach(const Args& a) {
  if ((a.Has("interactive") || a.Has("tty")) && a.Has("detach"))
    return Status::InvalidArgument("-i/-t need the foreground; drop --detach");
  return Status::Ok();
}

Status FillRunFlags(const Args& a, ContainerRecord* r) {
  r->name = a.GetOr("name", "");
  for (const std::string& v : a.GetAll("volume")) {
    DW_ASSIGN_OR_RETURN(container::VolumeSpec vs, container::ParseVolume(v));
    r->volumes.push_back(vs);
  }
  for (const std::string& e : a.GetAll("env")) {
    if (e.find('=') == std::string::npos || e[0] == '=')
      return Status::InvalidArgument("--env '" + e + "': expected K=V");
    r->env.push_back(e);
  }
  r->net = a.GetOr("net", "none");
  if (r->net != "host" && r->net != "none")
    return Status::InvalidArgument("--net must be host or none");
  for (const std::string& c : a.GetAll("cap-add")) {
    DW_ASSIGN_OR_RETURN(int cap, container::ParseCapability(c));
    (void)cap;
    r->cap_add.push_back(c);
  }
  r->seccomp = a.GetOr("seccomp", "default");
  r->seccomp_allow = a.GetAll("seccomp-allow");
  DW_RETURN_IF_ERROR(container::ValidateSeccomp(r->seccomp, r->seccomp_allow));
  if (a.Has("memory")) {
    DW_ASSIGN_OR_RETURN(r->memory_bytes, container::ParseByteSize(*a.Get("memory")));
  }
  if (a.Has("pids")) {
    DW_ASSIGN_OR_RETURN(r->pids_max, container::ParseByteSize(*a.Get("pids")));
  }
  if (a.Has("userns-range") && !a.Has("userns"))
    return Status::InvalidArgument("--userns-range needs --userns");
  if (a.Has("userns")) {
    if (a.Has("userns-range")) {
      DW_ASSIGN_OR_RETURN(r->userns, container::ParseIdRange(*a.Get("userns-range")));
    } else {
      r->userns = container::DefaultIdRange(DefaultHost());
    }
  }
  r->command = a.rest();
  return Status::Ok();
}

int Image(const std::vector<std::string>& args) {
  if (args.empty()) return Fail(Status::InvalidArgument("expected image import|ls"));
  std::vector<std::string> rest(args.begin() + 1, args.end());
  auto a = ParseWith(rest, {kFormatFlag, kDbFlag, kRulesFlag, {"keep-special", false, false}});
  if (!a.ok()) return Fail(a.status());
  StateDir state = StateFrom(*a);
  if (args[0] == "import") {
    if (Status s = NeedPositionals(*a, 2, "image import NAME DIR|ROOTFS.tar"); !s.ok())
      return Fail(s);
    const std::string name = a->positional()[0];
    TreeBaselineOptions o = TreeOptionsFrom(*a);
    std::string baseline;
    auto digester = [&](const std::string& rootfs) -> Result<std::pair<Hash128, uint64_t>> {
      DW_ASSIGN_OR_RETURN(ImageBaseline b, RecordImageBaseline(o, name, rootfs));
      baseline = b.baseline;
      return std::make_pair(b.digest, b.entries);
    };
    container::SpecialFileCounts counts;
    container::ImportOptions options;
    options.keep_special = a->Has("keep-special");
    options.counts = &counts;
    auto r = container::ImportImage(state, name, a->positional()[1], digester, options);
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
  if (args[0] == "ls") {
    auto json = JsonFormat(*a);
    if (!json.ok()) return Fail(json.status());
    auto images = container::ListImages(state);
    if (!images.ok()) return Fail(images.status());
    if (*json) {
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
  return Fail(Status::InvalidArgument("unknown image verb '" + args[0] + "'"));
}

int Run(const std::vector<std::string>& args) {
  auto a = ParseWith(ExpandShortFlags(args), kRunFlags);
  if (!a.ok()) return Fail(a.status());
  if (Status s = CheckAttach(*a); !s.ok()) return Fail(s);
  if (Status s = NeedPositionals(*a, 1, "run [flags] IMAGE -- CMD..."); !s.ok()) return Fail(s);
  ContainerRecord r;
  r.image = a->positional()[0];
  if (Status s = FillRunFlags(*a, &r); !s.ok()) return Fail(s);
  if (a->Has("rm") && a->Has("detach"))
    return Fail(Status::InvalidArgument("--rm and --detach exclude each other"));
  StateDir state = StateFrom(*a);
  auto created = container::CreateContainer(state, r);
  if (!created.ok()) return Fail(created.status());
  container::StartOptions opts;
  opts.detach = a->Has("detach");
  opts.ephemeral = a->Has("rm");
  opts.interactive = a->Has("interactive");
  opts.tty = a->Has("tty");
  std::cout.flush();
  auto code = container::StartContainer(state, created->name, opts);
  if (a->Has("rm") && !opts.detach) {
    Status removed = container::RemoveContainer(state, created->name, true);
    if (!removed.ok()) return Fail(removed);
  }
  if (!code.ok()) return Fail(code.status());
  if (opts.detach) std::cout << created->name << "\n";
  return *code;
}

int Start(const std::vector<std::string>& args) {
  auto a =
      ParseWith(ExpandShortFlags(args), {{"detach", false, false}, kInteractiveFlag, kTtyFlag});
  if (!a.ok()) return Fail(a.status());
  if (Status s = CheckAttach(*a); !s.ok()) return Fail(s);
  if (Status s = NeedPositionals(*a, 1, "start NAME"); !s.ok()) return Fail(s);
  container::StartOptions opts;
  opts.detach = a->Has("detach");
  opts.interactive = a->Has("interactive");
  opts.tty = a->Has("tty");
  std::cout.flush();
  auto code = container::StartContainer(StateFrom(*a), a->positional()[0], opts);
  if (!code.ok()) return Fail(code.status());
  return *code;
}

int Ps(const std::vector<std::string>& args) {
  auto a = ParseWith(args, {kFormatFlag});
  if (!a.ok()) return Fail(a.status());
  auto json = JsonFormat(*a);
  if (!json.ok()) return Fail(json.status());
  StateDir state = StateFrom(*a);
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
  std::cout << (*json ? container::PsJson(rows).serialize() + "\n" : container::PsText(rows));
  return kExitOk;
}

int Stop(const std::vector<std::string>& args) {
  auto a = ParseWith(args, {{"timeout", true, false}});
  if (!a.ok()) return Fail(a.status());
  if (Status s = NeedPositionals(*a, 1, "stop NAME"); !s.ok()) return Fail(s);
  int timeout = std::atoi(a->GetOr("timeout", "10").c_str());
  Status s =
      container::StopContainer(StateFrom(*a), a->positional()[0], std::chrono::seconds(timeout));
  return s.ok() ? kExitOk : Fail(s);
}

int Rm(const std::vector<std::string>& args) {
  auto a = ParseWith(args, {{"force", false, false}});
  if (!a.ok()) return Fail(a.status());
  if (Status s = NeedPositionals(*a, 1, "rm NAME"); !s.ok()) return Fail(s);
  Status s = container::RemoveContainer(StateFrom(*a), a->positional()[0], a->Has("force"));
  return s.ok() ? kExitOk : Fail(s);
}

int Logs(const std::vector<std::string>& args) {
  auto a = ParseWith(args, {});
  if (!a.ok()) return Fail(a.status());
  if (Status s = NeedPositionals(*a, 1, "logs NAME"); !s.ok()) return Fail(s);
  StateDir state = StateFrom(*a);
  auto r = state.LoadContainer(a->positional()[0]);
  if (!r.ok()) return Fail(r.status());
  auto text =
      container::ReadSmallFile(state.host(), state.ContainerDir(r->name) + "/log", 64u << 20);
  if (!text.ok() && text.status().code() != StatusCode::kNotFound) return Fail(text.status());
  if (text.ok()) std::cout << *text;
  return kExitOk;
}

int Exec(const std::vector<std::string>& args) {
  auto a = ParseWith(ExpandShortFlags(args), {kInteractiveFlag, kTtyFlag});
  if (!a.ok()) return Fail(a.status());
  if (Status s = NeedPositionals(*a, 1, "exec NAME -- CMD..."); !s.ok()) return Fail(s);
  std::cout.flush();
  container::ExecOptions opts;
  opts.interactive = a->Has("interactive");
  opts.tty = a->Has("tty");
  auto code = container::ExecInContainer(StateFrom(*a), a->positional()[0], a->rest(), opts);
  if (!code.ok()) return Fail(code.status());
  return *code;
}

// `diff --baseline`: the running container's merged root, scanned with the
// container rules, against its image's baseline in the agent store.
Result<std::vector<DriftEvent>> DiffAgainstImageBaseline(const Args& a, const StateDir& state,
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

int Diff(const std::vector<std::string>& args) {
  auto a = ParseWith(args, {kFormatFlag, kDbFlag, kRulesFlag, {"baseline", false, false}});
  if (!a.ok()) return Fail(a.status());
  if (Status s = NeedPositionals(*a, 1, "diff NAME"); !s.ok()) return Fail(s);
  auto json = JsonFormat(*a);
  if (!json.ok()) return Fail(json.status());
  StateDir state = StateFrom(*a);
  auto r = state.LoadContainer(a->positional()[0]);
  if (!r.ok()) return Fail(r.status());
  auto events = a->Has("baseline") ? DiffAgainstImageBaseline(*a, state, *r)
                                   : container::DiffContainer(state, *r);
  if (!events.ok()) return Fail(events.status());
  std::cout << (*json ? container::DiffJson(*r, *events).serialize() + "\n"
                      : container::DiffText(*events));
  return events->empty() ? kExitOk : kExitDrift;
}

int Deploy(const std::vector<std::string>& args) {
  std::vector<FlagSpec> specs = kRunFlags;
  specs.push_back({"health", true, false});
  auto a = ParseWith(args, specs);
  if (!a.ok()) return Fail(a.status());
  if (Status s = NeedPositionals(*a, 2, "deploy SERVICE IMAGE --health CMD"); !s.ok())
    return Fail(s);
  ContainerRecord r;
  if (Status s = FillRunFlags(*a, &r); !s.ok()) return Fail(s);
  if (a->Has("interactive") || a->Has("tty"))
    return Fail(Status::InvalidArgument("deploy runs its slots detached; drop -i/-t"));
  if (a->Has("name"))
    return Fail(Status::InvalidArgument("deploy names its slots itself; drop --name"));
  container::DeployOptions o;
  o.service = a->positional()[0];
  o.spec = static_cast<const container::ContainerSpec&>(r);
  o.spec.image = a->positional()[1];
  o.health = a->GetOr("health", "");
  std::cout.flush();
  auto out = container::Deploy(StateFrom(*a), o);
  if (!out.ok()) return Fail(out.status());
  std::cout << o.service << ": slot " << out->active << " (" << out->container << ") is active"
            << (out->stopped.empty() ? "" : "; stopped " + out->stopped) << "\n";
  return kExitOk;
}

int Rollback(const std::vector<std::string>& args) {
  auto a = ParseWith(args, {});
  if (!a.ok()) return Fail(a.status());
  if (Status s = NeedPositionals(*a, 1, "rollback SERVICE"); !s.ok()) return Fail(s);
  std::cout.flush();
  auto out = container::Rollback(StateFrom(*a), a->positional()[0]);
  if (!out.ok()) return Fail(out.status());
  std::cout << a->positional()[0] << ": slot " << out->active << " (" << out->container
            << ") is active again; stopped " << out->stopped << "\n";
  return kExitOk;
}

}  // namespace

int RunContainerCommand(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "help") {
    (args.empty() ? std::cerr : std::cout) << kUsage;
    return args.empty() ? kExitError : kExitOk;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  const std::string& verb = args[0];
  if (verb == "image") return Image(rest);
  if (verb == "run") return Run(rest);
  if (verb == "start") return Start(rest);
  if (verb == "ps") return Ps(rest);
  if (verb == "stop") return Stop(rest);
  if (verb == "rm") return Rm(rest);
  if (verb == "logs") return Logs(rest);
  if (verb == "exec") return Exec(rest);
  if (verb == "diff") return Diff(rest);
  if (verb == "deploy") return Deploy(rest);
  if (verb == "rollback") return Rollback(rest);
  std::cerr << kUsage;
  return Fail(Status::InvalidArgument("unknown container verb '" + verb + "'"));
}

}  // namespace driftwatch::cli
