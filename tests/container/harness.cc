#include "tests/container/harness.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli/cli_args.h"
#include "container/image_store.h"
#include "container/layer_fs.h"
#include "container/upper_diff.h"
#include "core/hash.h"
#include "core/host.h"
#include "tests/testing/walk_tree.h"

namespace driftwatch::container::testing {
namespace {

std::string Slurp(int fd) {
  std::string out;
  char buf[8192];
  lseek(fd, 0, SEEK_SET);
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

void MkdirP(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') mkdir(dir.substr(0, i).c_str(), 0755);
  }
}

std::string Parent(const std::string& p) {
  size_t s = p.rfind('/');
  return s == 0 ? "/" : p.substr(0, s);
}

}  // namespace

CliResult RunCli(const std::vector<std::string>& args) {
  char out_tmpl[] = "/tmp/dwcli-out-XXXXXX";
  char err_tmpl[] = "/tmp/dwcli-err-XXXXXX";
  int out_fd = mkstemp(out_tmpl);
  int err_fd = mkstemp(err_tmpl);
  unlink(out_tmpl);
  unlink(err_tmpl);
  std::cout.flush();
  std::cerr.flush();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, 0);
    // `containers ...` as given, anything else is a `container` verb.
    std::vector<std::string> line = args;
    if (line.empty() || line[0] != "containers") line.insert(line.begin(), "container");
    int code = cli::MakeProgram()->Run(line, std::cout, std::cerr);
    std::cout.flush();
    std::cerr.flush();
    _exit(code);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = Slurp(out_fd);
  r.err = Slurp(err_fd);
  close(out_fd);
  close(err_fd);
  return r;
}

void WriteFile(const std::string& path, const std::string& content, mode_t mode) {
  MkdirP(Parent(path));
  FILE* f = fopen(path.c_str(), "w");
  fwrite(content.data(), 1, content.size(), f);
  fclose(f);
  chmod(path.c_str(), mode);
}

bool BuildBusyboxImage(const std::string& dir) {
  if (access("/bin/busybox", X_OK) != 0) return false;
  MkdirP(dir + "/bin");
  auto run = RunProgram({"/bin/cp", "/bin/busybox", dir + "/bin/busybox"});
  if (!run.ok() || run->first != 0) return false;
  for (const char* applet :
       {"sh",     "ls",       "cat",   "echo", "mkdir", "rm",       "rmdir", "mv",
        "chmod",  "chown",    "sleep", "true", "false", "touch",    "test",  "ln",
        "grep",   "hostname", "id",    "env",  "cp",    "readlink", "wc",    "head",
        "printf", "tr",       "find",  "stat", "seq",   "sort",     "mount"}) {
    symlink("busybox", (dir + "/bin/" + applet).c_str());
  }
  WriteFile(dir + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  WriteFile(dir + "/etc/group", "root:x:0:\n");
  WriteFile(dir + "/etc/hosts", "127.0.0.1 localhost\n");
  WriteFile(dir + "/usr/share/a", "a\n");
  WriteFile(dir + "/usr/share/b/c", "c\n");
  WriteFile(dir + "/opt/app/run", "#!/bin/sh\necho app\n", 0755);
  WriteFile(dir + "/opt/app/lib/x.so", "elf\n");
  WriteFile(dir + "/srv/www/index.html", "<h1>hi</h1>\n");
  symlink("/usr/share/a", (dir + "/etc/motd.link").c_str());
  symlink("/etc", (dir + "/evil").c_str());
  MkdirP(dir + "/tmp");
  MkdirP(dir + "/root");
  chmod((dir + "/tmp").c_str(), 01777);
  for (const char* d : {"", "/bin", "/etc", "/usr", "/usr/share", "/usr/share/b", "/opt",
                        "/opt/app", "/opt/app/lib", "/srv", "/srv/www", "/root"}) {
    chmod((dir + d).c_str(), 0755);
  }
  return true;
}

std::string H(const std::string& content) { return Hasher::Of(HashAlgo::kXxh128, content).Hex(); }

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

std::vector<DriftEvent> NaiveDiff(const std::map<std::string, Entry>& image,
                                  const std::map<std::string, Entry>& merged) {
  std::vector<DriftEvent> events;
  for (const auto& [path, m] : merged) {
    auto it = image.find(path);
    if (it == image.end()) {
      DriftEvent e;
      e.path = path;
      e.kind = DriftKind::kAdded;
      e.new_entry = m;
      events.push_back(e);
      continue;
    }
    uint32_t changed = ChangedAttrs(it->second, m);
    if (changed != 0) {
      DriftEvent e;
      e.path = path;
      e.kind = DriftKind::kModified;
      e.changed = changed;
      e.old_entry = it->second;
      e.new_entry = m;
      events.push_back(e);
    }
  }
  for (const auto& [path, img] : image) {
    if (merged.count(path)) continue;
    std::string parent = Parent(path);
    auto p = merged.find(parent);
    bool parent_is_dir = parent == "/" || (p != merged.end() && p->second.type == EntryType::kDir);
    if (!parent_is_dir) continue;
    DriftEvent e;
    e.path = path;
    e.kind = DriftKind::kRemoved;
    e.old_entry = img;
    events.push_back(e);
  }
  std::sort(events.begin(), events.end(),
            [](const DriftEvent& a, const DriftEvent& b) { return a.path < b.path; });
  return events;
}

std::map<std::string, Entry> Listing(const std::string& dir,
                                     const std::vector<std::string>& excluded) {
  int fd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return {};
  auto listing = testutil::WalkTree(fd, excluded);
  close(fd);
  if (!listing.ok()) {
    std::cerr << "walk " << dir << ": " << listing.status().ToString() << "\n";
    return {};
  }
  return std::move(listing).value();
}

std::string DriftwatchBinary() {
  const char* bin = getenv("DRIFTWATCH_BIN");
  return bin != nullptr && access(bin, X_OK) == 0 ? bin : "";
}

std::string ProbeDir(const std::string& tmp) {
  std::string probe;
  if (const char* p = getenv("DRIFTWATCH_PROBE")) probe = p;
  if (probe.empty()) {
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) probe = Parent(std::string(self, static_cast<size_t>(n))) + "/dwprobe";
  }
  if (access(probe.c_str(), X_OK) != 0) return "";
  const std::string dir = tmp + "/probe";
  MkdirP(dir);
  auto cp = RunProgram({"/bin/cp", probe, dir + "/dwprobe"});
  if (!cp.ok() || cp->first != 0) return "";
  return dir;
}

CliResult RunUnderTerminal(const std::string& script, const std::vector<std::string>& args,
                           int timeout_s) {
  std::string command = "/bin/bash " + script;
  for (const std::string& a : args) {
    std::string quoted = "'";
    for (char c : a) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    command += " " + quoted + "'";
  }
  int in[2];
  if (pipe2(in, O_CLOEXEC) != 0) return {};
  char out_tmpl[] = "/tmp/dwtty-out-XXXXXX";
  int out_fd = mkstemp(out_tmpl);
  unlink(out_tmpl);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out_fd, 1);
    dup2(out_fd, 2);
    const std::string t = std::to_string(timeout_s);
    execl("/usr/bin/timeout", "timeout", t.c_str(), "/usr/bin/script", "-qec", command.c_str(),
          "/dev/null", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  close(in[1]);  // held open until the end: script sends EOF on the terminal otherwise
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = Slurp(out_fd);
  close(out_fd);
  return r;
}

std::string MakeTempDir() {
  char tmpl[] = "/tmp/dw-ctr-test-XXXXXX";
  char* d = mkdtemp(tmpl);
  return d == nullptr ? std::string() : std::string(d);
}

void RemoveAll(const std::string& path) { RemoveTree(path).IgnoreError(); }

Result<std::pair<int, std::string>> RunProgram(const std::vector<std::string>& argv) {
  DW_ASSIGN_OR_RETURN(SpawnResult r, DefaultHost().Spawn(SpawnRequest{argv, "", false}));
  return std::make_pair(r.exit_code, r.err);
}

Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  return container::ReadSmallFile(DefaultHost(), path, max_bytes);
}

pid_t StartForeign(const std::string& script) {
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
    int null_fd = open("/dev/null", O_RDWR);
    dup2(null_fd, 0);
    dup2(null_fd, 1);
    execl("/usr/bin/unshare", "unshare", "--mount", "--pid", "--fork", "--kill-child", "/bin/sh",
          "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

}  // namespace driftwatch::container::testing
