// ProgressLine: a one-line scan progress display for terminals.
//
// Shows entries seen, files/s, MB/s and, when the size of the previous scan
// is known, the share done and the time left. Redraws in place with "\r";
// Done() clears the line. Callers only create one when stderr is a TTY.
//
// Thread-safety: Update may be called from any thread but not concurrently
// (the scanner serializes its progress callback).
#ifndef DRIFTWATCH_AGENT_PROGRESS_H_
#define DRIFTWATCH_AGENT_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <cstdio>

#include "agent/scanner.h"

namespace driftwatch::agent {

class ProgressLine {
 public:
  explicit ProgressLine(FILE* out, uint64_t expected_entries = 0)
      : out_(out), expected_(expected_entries), start_(std::chrono::steady_clock::now()) {}
  void Update(const ScanProgress& p);
  void Done();

 private:
  FILE* out_;
  uint64_t expected_;
  std::chrono::steady_clock::time_point start_;
  bool drawn_ = false;
};

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_PROGRESS_H_
