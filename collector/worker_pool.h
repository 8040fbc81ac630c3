// WorkerPool: a fixed number of threads running jobs from a bounded queue.
//
// The collector's HTTP front end (server.h) reads and writes on its I/O
// threads and hands every piece of API work (which may wait on the store)
// to this pool, so that no I/O thread ever blocks on a store. TrySubmit()
// never blocks: when every thread is busy and the queue holds `max_queued`
// jobs it returns false, and the caller answers 503 with Retry-After
// (back-pressure instead of an unbounded backlog).
//
// Stop() refuses new jobs, drops the queued ones (each is destroyed without
// running), and waits until `deadline` for running jobs to finish; it returns
// false when some are still running then. Their threads are then detached:
// the caller must keep alive whatever those jobs use (the server leaks its
// state in that case; the process is about to exit).
//
// `nice` (0 = unchanged) lowers the threads' CPU priority by that many
// steps (Linux nice values are per thread), so that the threads serving
// sockets keep being scheduled when this pool saturates the CPU.
//
// Thread-safety: every method may be called from any thread.
#ifndef DRIFTWATCH_COLLECTOR_WORKER_POOL_H_
#define DRIFTWATCH_COLLECTOR_WORKER_POOL_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace driftwatch::collector {

class WorkerPool {
 public:
  WorkerPool(int threads, size_t max_queued, int nice = 0);
  ~WorkerPool();  // Stop() with a deadline of now, then joins or detaches
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `job`; false when the pool is saturated or stopped (job is not
  // kept). Jobs must not throw.
  bool TrySubmit(std::function<void()> job);

  bool Stop(std::chrono::steady_clock::time_point deadline);

  // Changes the queue bound for the jobs submitted from now on (queued ones
  // stay).
  void SetMaxQueued(size_t max_queued);

  // Jobs queued and not started, and jobs running (for /metrics).
  size_t queued() const;
  size_t running() const;

 private:
  void Run(int nice);

  mutable std::mutex mu_;  // guards the fields below
  size_t max_queued_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<std::function<void()>> queue_;
  size_t running_ = 0;
  bool stopped_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_WORKER_POOL_H_
