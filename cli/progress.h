// ProgressLine: a one-line scan progress display for terminals.
//
// Shows entries seen, files/s, MB/s and, when the size of the previous scan
// is known, the share done and the time left. Redraws in place with "\r";
// Done() clears the line. Callers only create one when stderr is a TTY.
//
// Thread-safety: Update may be called from any thread but not concurrently
// (the scanner serializes its progress callback).
#ifndef DRIFTWATCH_CLI_PROGRESS_H_
#define DRIFTWATCH_CLI_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <cstdio>

#include "agent/scanner.h"

namespace driftwatch::cli {

class ProgressLine : public agent::ScanProgressSink {
 public:
  explicit ProgressLine(FILE* out) : out_(out) {}
  void Start(uint64_t expected) override;
  void Update(const agent::ScanProgress& p) override;
  void Done() override;

 private:
  FILE* out_;
  uint64_t expected_ = 0;
  std::chrono::steady_clock::time_point start_;
  bool drawn_ = false;
};

}  // namespace driftwatch::cli

#endif  // DRIFTWATCH_CLI_PROGRESS_H_
