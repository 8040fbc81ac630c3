#include "collector/worker_pool.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace driftwatch::collector {

WorkerPool::WorkerPool(int threads, size_t max_queued, int nice) : max_queued_(max_queued) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this, nice] { Run(nice); });
}

WorkerPool::~WorkerPool() {
  const bool idle = Stop(std::chrono::steady_clock::now());
  for (std::thread& t : threads_) {
    if (idle) {
      t.join();
    } else {
      t.detach();
    }
  }
}

bool WorkerPool::TrySubmit(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return false;
    // Idle threads take queued jobs at once, so the queue only grows when
    // every thread is busy.
    const size_t idle = threads_.size() - std::min(running_, threads_.size());
    if (queue_.size() >= max_queued_ + idle) return false;
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

bool WorkerPool::Stop(std::chrono::steady_clock::time_point deadline) {
  std::deque<std::function<void()>> dropped;
  std::unique_lock<std::mutex> lock(mu_);
  stopped_ = true;
  dropped.swap(queue_);
  wake_.notify_all();
  const bool idle = idle_.wait_until(lock, deadline, [this] { return running_ == 0; });
  lock.unlock();
  dropped.clear();  // outside the lock: a job's captures may take other locks
  return idle;
}

void WorkerPool::SetMaxQueued(size_t max_queued) {
  std::lock_guard<std::mutex> lock(mu_);
  max_queued_ = max_queued;
}

size_t WorkerPool::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

size_t WorkerPool::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

void WorkerPool::Run(int nice) {
  if (nice != 0) {
    const id_t tid = static_cast<id_t>(gettid());
    errno = 0;
    const int now = getpriority(PRIO_PROCESS, tid);
    // Best effort: a failure leaves the thread at its priority.
    if (errno == 0) (void)setpriority(PRIO_PROCESS, tid, std::min(now + nice, 19));
  }
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return stopped_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopped
    std::function<void()> job = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    lock.unlock();
    job();
    job = nullptr;  // release captures before reporting idle
    lock.lock();
    --running_;
    if (running_ == 0) idle_.notify_all();
  }
}

}  // namespace driftwatch::collector
