// LineWriter: hands log lines to a sink on a thread of its own, so that a
// slow sink (journald stalled, a full disk under log_file) never blocks the
// collector's I/O and worker threads, which log every answer they give.
//
// Push never blocks: a line that does not fit the bound (kMaxQueuedBytes of
// lines waiting) is dropped and counted, and the sink gets one line saying
// how many were dropped where they would have been. Lines reach
// the sink in the order they were pushed, one at a time. The destructor
// writes what is queued, then joins the thread.
//
// Thread-safety: Push may be called from any thread.
#ifndef DRIFTWATCH_COLLECTOR_LOG_WRITER_H_
#define DRIFTWATCH_COLLECTOR_LOG_WRITER_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace driftwatch::collector {

class LineWriter {
 public:
  static constexpr size_t kMaxQueuedBytes = 4 << 20;
  using Sink = std::function<void(std::string_view line)>;
  // `dropped_line(n)` is the line written in place of n dropped ones.
  LineWriter(Sink sink, std::function<std::string(int64_t n)> dropped_line,
             size_t max_queued_bytes = kMaxQueuedBytes);
  ~LineWriter();
  LineWriter(const LineWriter&) = delete;
  LineWriter& operator=(const LineWriter&) = delete;

  void Push(std::string line);
  // Lines dropped since the start.
  int64_t dropped() const;

 private:
  void Run();

  const Sink sink_;
  const std::function<std::string(int64_t)> dropped_line_;
  const size_t max_queued_bytes_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  struct Queued {
    int64_t dropped_before = 0;  // lines dropped just before this one
    std::string line;
  };
  std::deque<Queued> queue_;    // guarded by mu_
  size_t queued_bytes_ = 0;     // guarded by mu_
  int64_t dropped_unsaid_ = 0;  // guarded by mu_: dropped since the last line queued
  int64_t dropped_total_ = 0;   // guarded by mu_
  bool stop_ = false;           // guarded by mu_
  std::thread thread_;          // last: starts once the fields exist
};

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_LOG_WRITER_H_
