#include "collector/process_metrics.h"

#include <gtest/gtest.h>

#include "core/host.h"

namespace driftwatch::collector {
namespace {

// A real line of /proc/PID/stat, with a command name holding ") (".
constexpr const char* kStat =
    "4242 (dw ) (x) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 130 0 0 20 0 9 0 "
    "1500 123456789 2048 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";

TEST(ParseProcStatTest, Fields) {
  auto s = ParseProcStat(kStat);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->utime_ticks, 250);
  EXPECT_EQ(s->stime_ticks, 130);
  EXPECT_EQ(s->start_ticks, 1500);
  EXPECT_EQ(s->vsize_bytes, 123456789);
  EXPECT_EQ(s->rss_pages, 2048);
}

TEST(ParseProcStatTest, RefusesWhatIsNotAStatLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "/proc stat: expected 'PID (COMMAND) STATE ...'"},
      {"12 (a) S 1 2 3", "/proc stat: expected at least 24 fields, found 6"},
      {"1 (a) S 1 1 1 0 -1 0 0 0 0 0 x 1 0 0 20 0 1 0 5 6 7",
       "/proc stat: field 14: expected a number, not 'x'"},
  };
  for (const auto& [text, want] : cases) {
    EXPECT_EQ(ParseProcStat(text).status().message(), want) << text;
  }
}

TEST(ParseProcTest, BootTimeAndMaxOpenFiles) {
  EXPECT_EQ(*ParseBootTime("cpu  1 2 3\nintr 5\nbtime 1764900000\nprocesses 9\n"), 1764900000);
  EXPECT_FALSE(ParseBootTime("cpu 1\n").ok());
  const std::string limits =
      "Limit                     Soft Limit           Hard Limit           Units     \n"
      "Max cpu time              unlimited            unlimited            seconds   \n"
      "Max open files            1024                 524288               files     \n";
  EXPECT_EQ(**ParseMaxOpenFiles(limits), 1024);
  EXPECT_FALSE(
      ParseMaxOpenFiles("Max open files            unlimited   unlimited  files\n")->has_value());
  EXPECT_EQ(ParseMaxOpenFiles("Max cpu time 1 1 s\n").status().message(),
            "/proc limits: no 'Max open files' line");
}

TEST(ProcessFiguresTest, ComputedAndRendered) {
  auto s = ParseProcStat(kStat);
  ASSERT_TRUE(s.ok());
  const ProcessFigures f = ComputeProcessFigures(*s, 1764900000, 100, 4096, 12, 1024);
  EXPECT_DOUBLE_EQ(f.cpu_seconds, 3.8);
  EXPECT_EQ(f.resident_bytes, 2048 * 4096);
  EXPECT_DOUBLE_EQ(f.start_time_seconds, 1764900015.0);
  MetricsText t;
  RenderProcessMetrics(f, &t);
  EXPECT_EQ(t.Take(),
            "# HELP process_cpu_seconds_total Total user and system CPU time in seconds.\n"
            "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 3.8\n"
            "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
            "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 8388608\n"
            "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
            "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes 123456789\n"
            "# HELP process_open_fds Number of open file descriptors.\n"
            "# TYPE process_open_fds gauge\nprocess_open_fds 12\n"
            "# HELP process_max_fds Maximum number of open file descriptors.\n"
            "# TYPE process_max_fds gauge\nprocess_max_fds 1024\n"
            "# HELP process_start_time_seconds Start time of the process since the epoch in "
            "seconds.\n# TYPE process_start_time_seconds gauge\n"
            "process_start_time_seconds 1764900015\n");
}

TEST(ProcessFiguresTest, ReadsThisProcess) {
  auto f = ReadProcessFigures(DefaultHost());
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_GT(f->resident_bytes, 0);
  EXPECT_GT(f->virtual_bytes, f->resident_bytes);
  EXPECT_GE(f->open_fds, 3);
  EXPECT_GT(f->start_time_seconds, 1.6e9);
}

}  // namespace
}  // namespace driftwatch::collector
