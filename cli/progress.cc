#include "cli/progress.h"

namespace driftwatch::cli {

void ProgressLine::Start(uint64_t expected) {
  expected_ = expected;
  start_ = std::chrono::steady_clock::now();
}

void ProgressLine::Update(const agent::ScanProgress& p) {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (secs <= 0) return;
  double files_per_s = static_cast<double>(p.entries) / secs;
  double mb_per_s = static_cast<double>(p.bytes_hashed) / secs / 1e6;
  if (expected_ > 0 && p.entries <= expected_) {
    double share = static_cast<double>(p.entries) / static_cast<double>(expected_);
    double left = files_per_s > 0 ? static_cast<double>(expected_ - p.entries) / files_per_s : 0;
    std::fprintf(
        out_, "\r\033[K  scanning: %llu entries (%.0f%%), %.0f entries/s, %.1f MB/s, ~%.0f s left",
        static_cast<unsigned long long>(p.entries), share * 100, files_per_s, mb_per_s, left);
  } else {
    std::fprintf(out_, "\r\033[K  scanning: %llu entries, %.0f entries/s, %.1f MB/s",
                 static_cast<unsigned long long>(p.entries), files_per_s, mb_per_s);
  }
  std::fflush(out_);
  drawn_ = true;
}

void ProgressLine::Done() {
  if (drawn_) std::fprintf(out_, "\r\033[K");
  std::fflush(out_);
  drawn_ = false;
}

}  // namespace driftwatch::cli
