#include "collector/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace driftwatch::collector {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// A gate jobs wait on until the test opens it.
struct Gate {
  std::promise<void> open;
  std::shared_future<void> opened = open.get_future().share();
};

TEST(WorkerPoolTest, RunsEveryJobItAccepts) {
  WorkerPool pool(3, 100);
  std::atomic<int> ran{0};
  int accepted = 0;
  for (int i = 0; i < 50; ++i) accepted += pool.TrySubmit([&] { ran++; });
  EXPECT_EQ(accepted, 50);
  EXPECT_TRUE(pool.Stop(steady_clock::now() + std::chrono::seconds(5)));
  // Stop drops what is queued; everything accepted before ran or was dropped.
  EXPECT_LE(ran.load(), 50);
}

TEST(WorkerPoolTest, RefusesWhenThreadsAndQueueAreFull) {
  WorkerPool pool(2, 3);
  Gate gate;
  std::atomic<int> started{0};
  auto blocked = [&] {
    started++;
    gate.opened.wait();
  };
  ASSERT_TRUE(pool.TrySubmit(blocked));
  ASSERT_TRUE(pool.TrySubmit(blocked));
  while (started < 2) std::this_thread::sleep_for(milliseconds(1));
  EXPECT_EQ(pool.running(), 2u);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(pool.TrySubmit([] {})) << i;
  EXPECT_FALSE(pool.TrySubmit([] {}));  // back-pressure, never a wait
  EXPECT_EQ(pool.queued(), 3u);
  gate.open.set_value();
  EXPECT_TRUE(pool.Stop(steady_clock::now() + std::chrono::seconds(5)));
  EXPECT_FALSE(pool.TrySubmit([] {}));  // stopped
}

TEST(WorkerPoolTest, StopIsBoundedByItsDeadline) {
  auto pool = std::make_unique<WorkerPool>(1, 1);
  Gate gate;
  std::atomic<bool> started{false};
  ASSERT_TRUE(pool->TrySubmit([&] {
    started = true;
    gate.opened.wait();
  }));
  while (!started) std::this_thread::sleep_for(milliseconds(1));
  std::atomic<bool> dropped_ran{false};
  ASSERT_TRUE(pool->TrySubmit([&] { dropped_ran = true; }));
  const auto t0 = steady_clock::now();
  EXPECT_FALSE(pool->Stop(t0 + milliseconds(200)));
  const auto waited = steady_clock::now() - t0;
  EXPECT_GE(waited, milliseconds(190));
  EXPECT_LT(waited, milliseconds(2000));
  gate.open.set_value();
  EXPECT_TRUE(pool->Stop(steady_clock::now() + std::chrono::seconds(5)));
  pool.reset();
  EXPECT_FALSE(dropped_ran);  // queued jobs are dropped at Stop, not run
}

}  // namespace
}  // namespace driftwatch::collector
