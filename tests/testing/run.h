// Runs a command line through /bin/sh and captures its stdout and exit code.
#ifndef DRIFTWATCH_TESTS_TESTING_RUN_H_
#define DRIFTWATCH_TESTS_TESTING_RUN_H_

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace driftwatch::testutil {

struct RunResult {
  int exit_code = -1;
  std::string out;
};

inline RunResult Run(const std::string& command) {
  RunResult r;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Single-quotes a string for /bin/sh.
inline std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''"; else out.push_back(c);
  }
  return out + "'";
}

}  // namespace driftwatch::testutil

#endif  // DRIFTWATCH_TESTS_TESTING_RUN_H_
