// MemoryStatCache: the scanner's stat cache (agent/scanner.h) in memory, as
// the agent store keeps it: rows by directory. stores() counts the
// directories written, so that a test can assert what a scan refreshed.
//
// Thread-safety: thread-safe (one mutex), as the scanner's workers need.
#ifndef DRIFTWATCH_TESTS_TESTING_MEMORY_STAT_CACHE_H_
#define DRIFTWATCH_TESTS_TESTING_MEMORY_STAT_CACHE_H_

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "agent/scanner.h"

namespace driftwatch::testutil {

class MemoryStatCache final : public agent::StatCache {
 public:
  Result<std::vector<agent::CachedStat>> LoadDir(const std::string& dir) override {
    std::lock_guard<std::mutex> lock(mu_);
    return dirs_[dir];
  }
  Status StoreDir(const std::string& dir, std::vector<agent::CachedStat> rows) override {
    std::lock_guard<std::mutex> lock(mu_);
    dirs_[dir] = std::move(rows);
    ++stores_;
    return Status::Ok();
  }
  int stores() {
    std::lock_guard<std::mutex> lock(mu_);
    return stores_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::vector<agent::CachedStat>> dirs_;  // guarded by mu_
  int stores_ = 0;                                              // guarded by mu_
};

}  // namespace driftwatch::testutil

#endif  // DRIFTWATCH_TESTS_TESTING_MEMORY_STAT_CACHE_H_
