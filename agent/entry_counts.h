// Entries counted by type, from the scan's worker threads at once: what a
// scan saw (scan_walk.h) and what a journal-driven scan set aside from its
// base (incremental.h).
#ifndef DRIFTWATCH_AGENT_ENTRY_COUNTS_H_
#define DRIFTWATCH_AGENT_ENTRY_COUNTS_H_

#include <atomic>
#include <cstdint>

#include "core/entry.h"

namespace driftwatch::agent {

struct EntryCounts {
  std::atomic<uint64_t> files{0}, dirs{0}, others{0};  // others: symlinks, fifos, devices...

  void Add(EntryType type) {
    switch (type) {
      case EntryType::kFile:
        ++files;
        break;
      case EntryType::kDir:
        ++dirs;
        break;
      default:
        ++others;
        break;
    }
  }
  uint64_t Total() const { return files + dirs + others; }
};

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_ENTRY_COUNTS_H_
