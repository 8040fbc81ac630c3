#include "collector/log_writer.h"

#include <utility>

namespace driftwatch::collector {

LineWriter::LineWriter(Sink sink, std::function<std::string(int64_t n)> dropped_line,
                       size_t max_queued_bytes)
    : sink_(std::move(sink)),
      dropped_line_(std::move(dropped_line)),
      max_queued_bytes_(max_queued_bytes),
      thread_([this] { Run(); }) {}

LineWriter::~LineWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void LineWriter::Push(std::string line) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queued_bytes_ + line.size() > max_queued_bytes_) {
      ++dropped_unsaid_;
      ++dropped_total_;
      return;
    }
    queued_bytes_ += line.size();
    queue_.push_back({std::exchange(dropped_unsaid_, 0), std::move(line)});
  }
  wake_.notify_one();
}

int64_t LineWriter::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_total_;
}

void LineWriter::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) {  // stopping, and everything queued is written
      if (dropped_unsaid_ > 0) sink_(dropped_line_(std::exchange(dropped_unsaid_, 0)));
      return;
    }
    Queued next = std::move(queue_.front());
    queue_.pop_front();
    queued_bytes_ -= next.line.size();
    lock.unlock();
    if (next.dropped_before > 0) sink_(dropped_line_(next.dropped_before));
    sink_(next.line);
    lock.lock();
  }
}

}  // namespace driftwatch::collector
