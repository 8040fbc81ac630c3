// Test helper for code that must refuse a FIFO without blocking on it.
//
// ReturnsWithin(fifo, timeout, fn) runs fn on a thread and reports whether
// it returned within the timeout. When it did not (the code under test is
// stuck opening or reading the FIFO), the FIFO is opened for writing and
// closed, which releases a reader stuck in open() or read(), so the test
// fails instead of hanging.
#ifndef DRIFTWATCH_TESTS_TESTING_FIFO_H_
#define DRIFTWATCH_TESTS_TESTING_FIFO_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <utility>

namespace driftwatch::testutil {

// mkfifo(path, 0600); true on success.
inline bool MakeFifo(const std::string& path) { return ::mkfifo(path.c_str(), 0600) == 0; }

template <typename Fn>
bool ReturnsWithin(const std::string& fifo, std::chrono::milliseconds timeout, Fn&& fn) {
  std::promise<void> done;
  std::future<void> finished = done.get_future();
  std::thread worker([&fn, &done] {
    fn();
    done.set_value();
  });
  const bool in_time = finished.wait_for(timeout) == std::future_status::ready;
  // Release a reader stuck on the FIFO: a writer that comes and goes gives it
  // EOF. Bounded: at most 100 attempts 50 ms apart.
  for (int i = 0;
       i < 100 && finished.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready;
       ++i) {
    int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) ::close(fd);
    finished.wait_for(std::chrono::milliseconds(50));
  }
  worker.join();
  return in_time;
}

}  // namespace driftwatch::testutil

#endif  // DRIFTWATCH_TESTS_TESTING_FIFO_H_
