// Runs the real driftwatch binary for the reliability tests (hostile trees,
// store faults): every run is bounded by `timeout`, and stdout, stderr, the
// exit code and the wall time are kept for whole-outcome assertions.
//
// The binary comes from $DRIFTWATCH_BIN and the source tree from
// $DRIFTWATCH_SOURCE_DIR, both set by meson's test().
#ifndef DRIFTWATCH_TESTS_HOSTILE_AGENT_RUNNER_H_
#define DRIFTWATCH_TESTS_HOSTILE_AGENT_RUNNER_H_

#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "tests/testing/run.h"

namespace driftwatch::testutil {

inline std::string DriftwatchBin() {
  const char* b = std::getenv("DRIFTWATCH_BIN");
  return b ? b : "driftwatch";
}

inline std::string SourceDir() {
  const char* s = std::getenv("DRIFTWATCH_SOURCE_DIR");
  return s ? s : ".";
}

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct AgentRun {
  int exit_code = -1;  // 124: killed by the timeout (a hang)
  std::string out;
  std::string err;
  double seconds = 0;
};

// Runs `prefix driftwatch args` through /bin/sh with a time limit. `prefix`
// may wrap the binary (e.g. setpriv); stderr goes through `scratch` (a file
// path the caller owns).
inline AgentRun RunAgent(const std::string& args, const std::string& scratch, int timeout_s = 60,
                         const std::string& prefix = "") {
  const auto start = std::chrono::steady_clock::now();
  RunResult r = Run("timeout -k 5 " + std::to_string(timeout_s) + " " + prefix + " " +
                    Quote(DriftwatchBin()) + " " + args + " 2>" + Quote(scratch));
  AgentRun a;
  a.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  a.exit_code = r.exit_code;
  a.out = std::move(r.out);
  a.err = ReadText(scratch);
  return a;
}

// Moves this process into a private mount namespace (mounts made by the test
// then never reach the host's namespace and die with the process). Root only;
// returns false when it could not (the caller then relies on its TearDown).
inline bool EnterPrivateMountNamespace() {
  char self[64] = {}, init[64] = {};
  if (::readlink("/proc/self/ns/mnt", self, sizeof self - 1) > 0 &&
      ::readlink("/proc/1/ns/mnt", init, sizeof init - 1) > 0 && std::string(self) != init) {
    return true;  // already in a namespace of our own
  }
  if (::unshare(CLONE_NEWNS) != 0) return false;
  return ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
}

}  // namespace driftwatch::testutil

#endif  // DRIFTWATCH_TESTS_HOSTILE_AGENT_RUNNER_H_
