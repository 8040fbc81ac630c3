#include "collector/log_writer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

namespace driftwatch::collector {
namespace {

// A sink that blocks until opened, as a stalled journald does, and records
// every line it is given.
class GatedSink {
 public:
  void Write(std::string_view line) {
    std::unique_lock<std::mutex> lock(mu_);
    ++entered_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
    lines_.emplace_back(line);
    cv_.notify_all();
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // Waits (at most 10 s) until the sink was entered `n` times, or holds `n` lines.
  bool WaitEntered(size_t n) {
    return Wait([&] { return entered_ >= n; });
  }
  bool WaitLines(size_t n) {
    return Wait([&] { return lines_.size() >= n; });
  }
  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

 private:
  template <typename Pred>
  bool Wait(Pred pred) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), pred);
  }
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  size_t entered_ = 0;
  std::vector<std::string> lines_;
};

std::string Dropped(int64_t n) { return "dropped " + std::to_string(n) + "\n"; }

TEST(LineWriterTest, APushNeverWaitsForTheSinkAndDropsAreSaidWhereTheyHappened) {
  GatedSink sink;
  int64_t dropped = 0;
  {
    // Room for three 4-byte lines while the sink holds a fourth.
    LineWriter writer([&](std::string_view l) { sink.Write(l); }, Dropped, 12);
    writer.Push("a00\n");
    ASSERT_TRUE(sink.WaitEntered(1));  // the writer is stuck in the sink with a00
    const auto start = std::chrono::steady_clock::now();
    for (const char* l : {"b01\n", "b02\n", "b03\n", "c00\n", "c01\n", "c02\n"}) writer.Push(l);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1))
        << "Push waited for the blocked sink";
    EXPECT_EQ(writer.dropped(), 3);
    sink.Open();
    ASSERT_TRUE(sink.WaitLines(4));
    writer.Push("d00\n");  // the first line queued after the drops carries their count
    writer.Push("e00\n");
    dropped = writer.dropped();
  }  // the destructor writes what is queued
  EXPECT_EQ(dropped, 3);
  EXPECT_EQ(sink.lines(), (std::vector<std::string>{"a00\n", "b01\n", "b02\n", "b03\n",
                                                    "dropped 3\n", "d00\n", "e00\n"}));
}

TEST(LineWriterTest, DropsNotFollowedByALineAreSaidAtTheEnd) {
  GatedSink sink;
  {
    LineWriter writer([&](std::string_view l) { sink.Write(l); }, Dropped, 4);
    writer.Push("a00\n");
    ASSERT_TRUE(sink.WaitEntered(1));
    writer.Push("b01\n");
    writer.Push("c00\n");
    sink.Open();
  }
  EXPECT_EQ(sink.lines(), (std::vector<std::string>{"a00\n", "b01\n", "dropped 1\n"}));
}

TEST(LineWriterTest, WritesEverythingInOrderWhenTheSinkKeepsUp) {
  std::vector<std::string> lines;
  {
    LineWriter writer([&](std::string_view l) { lines.emplace_back(l); }, Dropped);
    for (int i = 0; i < 1000; ++i) writer.Push(std::to_string(i) + "\n");
  }
  ASSERT_EQ(lines.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(lines[i], std::to_string(i) + "\n");
}

}  // namespace
}  // namespace driftwatch::collector
