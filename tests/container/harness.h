// Test support for the container integration tests: a busybox-static image
// built in a temp dir, the CLI run in a child process with its output
// captured, a naive image-vs-merged comparison, and cleanup that leaves no
// container, mount or cgroup behind.
#ifndef DRIFTWATCH_TESTS_CONTAINER_HARNESS_H_
#define DRIFTWATCH_TESTS_CONTAINER_HARNESS_H_

#include <sys/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/drift.h"
#include "core/entry.h"
#include "core/status.h"

namespace driftwatch::container::testing {

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs `driftwatch container ARGS...` (or `containers` when args[0] is
// "containers") in a forked child, so that clone/fork/exit of the launcher
// never touch the test process.
CliResult RunCli(const std::vector<std::string>& args);

// Writes a file (creating parents) with a mode.
void WriteFile(const std::string& path, const std::string& content, mode_t mode = 0644);

// Builds the test image at `dir`: /bin/busybox (from the busybox-static
// package) and a symlink per applet, plus fixed files under /etc, /usr/share,
// /opt/app and /srv. Returns false if busybox is missing.
bool BuildBusyboxImage(const std::string& dir);

// XXH3-128 of a string as "xxh128:<hex>".
std::string H(const std::string& content);

// "A /p", "C /p perm,hash xxh128:..", "D /p" (the CLI's text form).
std::vector<std::string> Lines(const std::string& text);

// Naive drift: walk both trees completely and compare every path (type,
// perm, uid, gid, size, symlink target, device, content hash). Rules as in
// container/upper_diff.h.
std::vector<DriftEvent> NaiveDiff(const std::map<std::string, Entry>& image,
                                  const std::map<std::string, Entry>& merged);

// The listing of the tree under `dir` (a path or /proc/PID/root).
std::map<std::string, Entry> Listing(const std::string& dir,
                                     const std::vector<std::string>& excluded);

// The driftwatch executable ($DRIFTWATCH_BIN), "" when unknown.
std::string DriftwatchBinary();

// A directory holding dwprobe (tests/container/probe.cc), to be mounted
// read-only into containers; copied under `tmp`. "" when the probe is missing
// ($DRIFTWATCH_PROBE, else dwprobe beside the test binary).
std::string ProbeDir(const std::string& tmp);

// Runs `bash SCRIPT ARGS...` under util-linux `script`, so that it has a
// pseudo-terminal as its controlling terminal, as an operator's shell does.
// The terminal's input stays open (and empty) while it runs; bounded by
// `timeout_s`. Returns the exit code and what appeared on the terminal.
CliResult RunUnderTerminal(const std::string& script, const std::vector<std::string>& args,
                           int timeout_s = 30);

// A fresh temp dir under /tmp; removed by RemoveAll.
std::string MakeTempDir();
void RemoveAll(const std::string& path);

// Runs argv[0] (absolute path) through the POSIX host, stdin and stdout on
// /dev/null; its exit code and what it wrote to stderr.
Result<std::pair<int, std::string>> RunProgram(const std::vector<std::string>& argv);
// A whole file of at most max_bytes, through the POSIX host, without
// following a symlink at `path`.
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes);

// Starts `script` under `unshare --mount --pid --fork --kill-child`, as
// another runtime would start a container, in a child that dies with the
// test process; stdin and stdout on /dev/null. The caller kills it.
pid_t StartForeign(const std::string& script);

}  // namespace driftwatch::container::testing

#endif  // DRIFTWATCH_TESTS_CONTAINER_HARNESS_H_
