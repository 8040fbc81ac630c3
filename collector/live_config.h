// LiveConfig: the collector's configuration while it runs, replaced whole on
// a reload (SIGHUP, docs/collector.md "Reloading").
//
// Readers take a snapshot with Get() and use that one for a whole unit of
// work (an API request, a connection's request, one pass of the alert
// dispatcher), so that they never see half of an old and half of a new
// configuration. A snapshot stays valid for as long as its holder keeps it,
// after a Set() too.
//
// Thread-safety: Get() and Set() from any thread.
#ifndef DRIFTWATCH_COLLECTOR_LIVE_CONFIG_H_
#define DRIFTWATCH_COLLECTOR_LIVE_CONFIG_H_

#include <memory>
#include <mutex>
#include <utility>

#include "collector/config.h"

namespace driftwatch::collector {

class LiveConfig {
 public:
  explicit LiveConfig(CollectorConfig initial = {})
      : current_(std::make_shared<const CollectorConfig>(std::move(initial))) {}
  LiveConfig(const LiveConfig&) = delete;
  LiveConfig& operator=(const LiveConfig&) = delete;

  std::shared_ptr<const CollectorConfig> Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }
  void Set(CollectorConfig next) {
    auto p = std::make_shared<const CollectorConfig>(std::move(next));
    std::lock_guard<std::mutex> lock(mu_);
    current_.swap(p);
    // The old snapshot is released after the lock (by p), possibly last.
  }

 private:
  mutable std::mutex mu_;                           // guards current_
  std::shared_ptr<const CollectorConfig> current_;  // never null
};

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_LIVE_CONFIG_H_
