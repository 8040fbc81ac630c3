// `driftwatch-collector package agent`: the agent's .deb repacked with an
// enrollment for this collector (docs/collector.md "Agent packages").
//
// The token is written only into a file of a 0700 temporary directory
// (mode 0600) and from there into the package: it never appears on a
// command line, on stdout, or in a message.
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <optional>

#include "collector/api_json.h"
#include "collector/auth.h"
#include "collector/cli.h"
#include "core/hash.h"
#include "core/host.h"

namespace driftwatch::collector::cli {
namespace {

constexpr const char* kEnrollYaml = "etc/driftwatch/enroll.yaml";
constexpr const char* kEnrollToken = "etc/driftwatch/enroll.token";
constexpr const char* kEnrollCa = "etc/driftwatch/enroll-ca.pem";
constexpr size_t kMaxControlBytes = 1 << 20;
constexpr size_t kMaxCaBytes = 1 << 20;

// A 0700 directory removed with everything in it when this goes away.
class ScratchDir {
 public:
  ScratchDir() = default;
  ~ScratchDir() {
    if (path_.empty()) return;
    nftw(
        path_.c_str(),
        [](const char* p, const struct stat*, int type, FTW*) {
          return type == FTW_DP ? rmdir(p) : unlink(p);
        },
        16, FTW_DEPTH | FTW_PHYS);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  Status Create() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl =
        std::string(tmp != nullptr && *tmp == '/' ? tmp : "/tmp") + "/driftwatch-package.XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) return ErrnoStatus("mkdtemp " + tmpl, errno);
    path_ = tmpl;
    return Status::Ok();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs argv (no shell) through `host`; what it prints goes to stderr. OK
// when it exits 0.
Status RunTool(Host& host, const std::vector<std::string>& argv) {
  SpawnRequest request;
  request.argv = argv;
  request.capture_stdout = true;
  const std::string what = argv[0] + " " + argv[1];
  auto spawned = host.Spawn(request);
  if (!spawned.ok() && spawned.status().code() == StatusCode::kNotFound) {
    return Status::Unavailable(what + ": could not run " + argv[0] + " (is dpkg installed?)");
  }
  DW_ASSIGN_OR_RETURN(SpawnResult done, std::move(spawned));
  std::cerr << done.out << done.err;
  if (done.exit_code == 0) return Status::Ok();
  return Status::Internal(what + " failed (exit status " + std::to_string(done.exit_code) + ")");
}

// Creates `path` with exactly `mode` (whatever the umask) and `content`;
// fails when it exists.
Status WriteNewFile(const std::string& path, const std::string& content, mode_t mode) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd.valid()) {
    if (errno == EEXIST) {
      return Status::AlreadyExists(path +
                                   ": the agent package has it already (give the plain agent "
                                   "package as --deb)");
    }
    return ErrnoStatus(path, errno);
  }
  if (fchmod(fd.get(), mode) != 0) return ErrnoStatus("chmod " + path, errno);
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("write " + path, errno);
    done += static_cast<size_t>(n);
  }
  if (fsync(fd.get()) != 0) return ErrnoStatus("fsync " + path, errno);
  return Status::Ok();
}

// Appends `text` to `path` (created with `mode` when absent), starting on a
// new line.
Status AppendLines(Host& host, const std::string& path, const std::string& text, mode_t mode) {
  std::string old;
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    DW_ASSIGN_OR_RETURN(old, host.ReadFile(path, kMaxControlBytes));
    DW_RETURN_IF_ERROR(host.Remove(path));
  } else if (errno != ENOENT) {
    return ErrnoStatus(path, errno);
  }
  if (!old.empty() && old.back() != '\n') old += '\n';
  return WriteNewFile(path, old + text, mode);
}

std::string Md5Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
}

// The value of a control field ("" when absent).
std::string ControlField(const std::string& control, const std::string& name) {
  size_t pos = 0;
  while (pos < control.size()) {
    size_t end = control.find('\n', pos);
    if (end == std::string::npos) end = control.size();
    const std::string line = control.substr(pos, end - pos);
    if (line.rfind(name + ":", 0) == 0) {
      std::string v = line.substr(name.size() + 1);
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.erase(0, 1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\r')) v.pop_back();
      return v;
    }
    pos = end + 1;
  }
  return "";
}

// `control` with Installed-Size (KiB) grown by the added files, each
// counted in whole KiB as dpkg-gencontrol counts them. apt also tells two
// builds of one version apart by it: the enrolling package installs over a
// plain one of the same version.
std::string GrowInstalledSize(const std::string& control,
                              const std::vector<std::pair<std::string, std::string>>& added) {
  const std::string old = ControlField(control, "Installed-Size");
  if (old.empty() || old.find_first_not_of("0123456789") != std::string::npos) return control;
  uint64_t kib = std::stoull(old);
  for (const auto& file : added) kib += (file.second.size() + 1023) / 1024;
  const size_t at =
      control.rfind("Installed-Size:", 0) == 0 ? 0 : control.find("\nInstalled-Size:") + 1;
  const size_t end = control.find('\n', at);
  return control.substr(0, at) + "Installed-Size: " + std::to_string(kib) +
         (end == std::string::npos ? "" : control.substr(end));
}

// `control` with `line` added to the end of the Description's long text.
Result<std::string> AddDescriptionLine(const std::string& control, const std::string& line) {
  size_t start = control.rfind("\nDescription:");
  start = control.rfind("Description:", 0) == 0 ? 0
          : start == std::string::npos          ? start
                                                : start + 1;
  if (start == std::string::npos) {
    return Status::InvalidArgument("DEBIAN/control: no Description field");
  }
  size_t end = control.find('\n', start);
  while (end != std::string::npos && end + 1 < control.size() &&
         (control[end + 1] == ' ' || control[end + 1] == '\t')) {
    end = control.find('\n', end + 1);
  }
  std::string out = control;
  const std::string add = " .\n " + line + "\n";
  if (end == std::string::npos) {
    if (!out.empty() && out.back() != '\n') out += '\n';
    out += add;
  } else {
    out.insert(end + 1, add);
  }
  return out;
}

// http(s)://..., nothing a YAML double-quoted scalar or a control field
// would have to escape.
Status CheckUrl(const std::string& url) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return Status::InvalidArgument("--url: expected http://HOST[:PORT] or https://HOST[:PORT]");
  }
  const size_t scheme_end = url.find("://") + 3;
  if (url.size() == scheme_end || url[scheme_end] == '/') {
    return Status::InvalidArgument("--url " + url + ": no host");
  }
  for (unsigned char c : url) {
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '#') {
      return Status::InvalidArgument("--url: no spaces, quotes, backslashes, '#' or non-ASCII");
    }
  }
  return Status::Ok();
}

// The single *.deb of `dir`.
Result<std::string> DefaultAgentDeb(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return ErrnoStatus(dir + " (give the agent package with --deb)", errno);
  std::vector<std::string> debs;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".deb") == 0) debs.push_back(name);
  }
  closedir(d);
  if (debs.size() != 1) {
    return Status::NotFound(dir + ": " + std::to_string(debs.size()) +
                            " agent packages (*.deb) where one was expected; give --deb");
  }
  return dir + "/" + debs[0];
}

Status MakeDir(Host& host, const std::string& path) {
  if (Status made = host.MakeDir(path, 0755);
      !made.ok() && made.code() != StatusCode::kAlreadyExists) {
    return made;
  }
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return ErrnoStatus(path, errno);
  if (!S_ISDIR(st.st_mode)) return Status::InvalidArgument(path + ": not a directory");
  return Status::Ok();
}

struct PackageRequest {
  std::string url, group, ca_file, out, deb;
};

Result<PackageRequest> ReadRequest(const Flags& flags) {
  PackageRequest r;
  if (!NamesStore(flags)) {
    return Status::InvalidArgument(
        "package agent: expected the store: --config FILE, --db FILE or --store URL");
  }
  r.url = flags.at("url");
  DW_RETURN_IF_ERROR(CheckUrl(r.url));
  if (flags.count("group")) {
    r.group = flags.at("group");
    if (r.group.empty() || !ValidGroup(r.group)) {
      return Status::InvalidArgument("--group: expected 1-128 characters of A-Z a-z 0-9 . _ -");
    }
  }
  r.out = flags.at("out");
  if (mkdir(r.out.c_str(), 0755) != 0 && errno != EEXIST)
    return ErrnoStatus("--out " + r.out, errno);
  struct stat st {};
  if (stat(r.out.c_str(), &st) != 0) return ErrnoStatus("--out " + r.out, errno);
  if (!S_ISDIR(st.st_mode)) return Status::InvalidArgument("--out " + r.out + ": not a directory");
  if (flags.count("ca-file")) {
    r.ca_file = flags.at("ca-file");
    if (r.url.rfind("https://", 0) != 0) {
      return Status::InvalidArgument("--ca-file goes with an https:// --url");
    }
  }
  if (flags.count("deb")) {
    r.deb = flags.at("deb");
  } else {
    DW_ASSIGN_OR_RETURN(r.deb, DefaultAgentDeb(DRIFTWATCH_AGENT_DEB_DIR));
  }
  return r;
}

std::string EnrollYaml(const PackageRequest& r) {
  std::string y =
      "# The agent enrolls with this collector on its first start, then deletes\n"
      "# the token file (docs/collector.md \"Agent packages\").\n"
      "version: 1\n"
      "collector: \"" +
      r.url + "\"\n";
  if (!r.group.empty()) y += "group: \"" + r.group + "\"\n";
  if (!r.ca_file.empty()) y += std::string("ca_file: /") + kEnrollCa + "\n";
  y += std::string("token_file: /") + kEnrollToken + "\n";
  return y;
}

// Builds the package; returns its path.
Result<std::string> Build(Host& host, const PackageRequest& r, const CollectorConfig& config,
                          const TokenLimits& limits) {
  std::string ca;
  if (!r.ca_file.empty()) {
    DW_ASSIGN_OR_RETURN(ca, host.ReadFile(r.ca_file, kMaxCaBytes));
    if (ca.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      return Status::InvalidArgument("--ca-file " + r.ca_file + ": no PEM certificate in it");
    }
  }
  ScratchDir scratch;
  DW_RETURN_IF_ERROR(scratch.Create());
  const std::string root = scratch.path() + "/pkg";
  DW_RETURN_IF_ERROR(RunTool(host, {"dpkg-deb", "-R", r.deb, root}));
  if (chmod(root.c_str(), 0755) != 0) return ErrnoStatus(root, errno);
  const std::string control_path = root + "/DEBIAN/control";
  DW_ASSIGN_OR_RETURN(std::string control, host.ReadFile(control_path, kMaxControlBytes));
  const std::string package = ControlField(control, "Package");
  std::string version = ControlField(control, "Version");
  const std::string arch = ControlField(control, "Architecture");
  if (package != "driftwatch") {
    return Status::InvalidArgument(r.deb + ": package '" + package +
                                   "', not the agent package 'driftwatch'");
  }
  if (version.empty() || arch.empty()) {
    return Status::InvalidArgument(r.deb + ": no Version or Architecture in its control file");
  }

  DW_RETURN_IF_ERROR(MakeDir(host, root + "/etc"));
  DW_RETURN_IF_ERROR(MakeDir(host, root + "/etc/driftwatch"));
  std::vector<std::pair<std::string, std::string>> added = {{kEnrollYaml, EnrollYaml(r)}};
  if (!ca.empty()) added.push_back({kEnrollCa, ca});
  DW_RETURN_IF_ERROR(WriteNewFile(root + "/" + kEnrollYaml, added[0].second, 0644));
  if (!ca.empty()) DW_RETURN_IF_ERROR(WriteNewFile(root + "/" + kEnrollCa, ca, 0644));

  // The token last: nothing is left in the store when the package cannot
  // even be prepared.
  auto store = OpenConfigStore(config);
  if (!store.ok()) return store.status();
  auto token = CreateToken(**store, Role::kEnroll, host.NowNs(), limits);
  store->reset();
  FixSqliteOwnership(config);
  if (!token.ok()) return token.status();
  const std::string token_file = *token + "\n";
  DW_RETURN_IF_ERROR(WriteNewFile(root + "/" + kEnrollToken, token_file, 0600));
  added.push_back({kEnrollToken, token_file});

  std::string conffiles, md5sums;
  for (const auto& [path, content] : added) {
    conffiles += "/" + path + "\n";
    md5sums += Md5Hex(content) + "  " + path + "\n";
  }
  DW_RETURN_IF_ERROR(AppendLines(host, root + "/DEBIAN/conffiles", conffiles, 0644));
  DW_RETURN_IF_ERROR(AppendLines(host, root + "/DEBIAN/md5sums", md5sums, 0644));
  DW_ASSIGN_OR_RETURN(
      std::string described,
      AddDescriptionLine(GrowInstalledSize(control, added),
                         "This build enrolls with the collector at " + r.url + " in group " +
                             (r.group.empty() ? "(none)" : r.group) + "."));
  DW_RETURN_IF_ERROR(host.Remove(control_path));
  DW_RETURN_IF_ERROR(WriteNewFile(control_path, described, 0644));

  if (size_t colon = version.find(':'); colon != std::string::npos) version.erase(0, colon + 1);
  const std::string out = r.out + "/driftwatch-enroll-" + (r.group.empty() ? "default" : r.group) +
                          "_" + version + "_" + arch + ".deb";
  DW_RETURN_IF_ERROR(RunTool(host, {"dpkg-deb", "--root-owner-group", "-b", root, out}));
  return out;
}

int PackageAgent(Host& host, Flags flags) {
  auto request = ReadRequest(flags);
  if (!request.ok()) return Fail(request.status());
  if (!flags.count("expires")) flags.emplace("expires", "30d");
  auto limits = ParseTokenLimits(flags, host.NowNs());
  if (!limits.ok()) return Fail(limits.status());
  auto config = LoadConfig(host, flags);
  if (!config.ok()) return Fail(config.status());
  umask(022);
  auto out = Build(host, *request, *config, *limits);
  if (!out.ok()) return Fail(out.status());
  std::cerr << "driftwatch-collector: enroll token in the package: " << DescribeTokenLimits(*limits)
            << "\n";
  std::cout << *out << "\n";
  return kExitOk;
}

}  // namespace

void AddPackageCommand(CLI::App& root, Host& host) {
  CLI::App* package = cmdline::AddGroup(root, "package", "packages for the fleet: package agent");
  auto f = std::make_shared<Flags>();
  CLI::App* agent = cmdline::AddCommand(
      *package, "agent",
      "write the agent's .deb into --out with an enrollment for this collector: installed, the "
      "agent enrolls itself (the token only inside the package, 0600)",
      [f, &host] { return PackageAgent(host, *f); });
  AddFlag(agent, f.get(), "url", "URL", "the collector's URL the agents enroll with")->required();
  AddFlag(agent, f.get(), "out", "DIR", "where the package is written (created)")->required();
  AddStoreFlags(agent, f.get());
  AddFlag(agent, f.get(), "group", "GROUP", "the group the hosts enroll into");
  AddFlag(agent, f.get(), "ca-file", "FILE", "CA certificates the agents trust (https --url)");
  AddTokenLimitFlags(agent, f.get(), "30d");
  AddFlag(agent, f.get(), "deb", "AGENT.deb",
          "the agent package to repack (default: the one installed with the collector)");
}

}  // namespace driftwatch::collector::cli
