#include "container/proc_stat.h"

#include <charconv>
#include <string>

#include "container/state.h"

namespace driftwatch::container {

std::optional<uint64_t> ProcStatField(std::string_view text, int field) {
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  size_t close_paren = text.rfind(')');
  if (field < 3 || close_paren == std::string_view::npos || close_paren + 2 > text.size())
    return std::nullopt;
  std::string_view rest = text.substr(close_paren + 2);  // starts at field 3 (state)
  int at = 3;
  size_t i = 0;
  while (at < field && i < rest.size()) {
    if (rest[i] == ' ') ++at;
    ++i;
  }
  if (at != field || i >= rest.size()) return std::nullopt;
  std::string_view value = rest.substr(i, rest.find_first_of(" \n", i) - i);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || p != value.data() + value.size()) return std::nullopt;
  return v;
}

uint64_t ProcessStartTicks(Host& host, pid_t pid) {
  if (pid <= 0) return 0;
  auto text = ReadSmallFile(host, "/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!text.ok()) return 0;
  return ProcStatField(*text, 22).value_or(0);
}

bool IsKernelThread(Host& host, pid_t pid) {
  auto text = ReadSmallFile(host, "/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!text.ok()) return false;
  constexpr uint64_t kPfKthread = 0x00200000;  // include/linux/sched.h
  return (ProcStatField(*text, 9).value_or(0) & kPfKthread) != 0;
}

bool ProcessMatches(Host& host, pid_t pid, uint64_t start_ticks) {
  return pid > 0 && start_ticks != 0 && ProcessStartTicks(host, pid) == start_ticks;
}

}  // namespace driftwatch::container
