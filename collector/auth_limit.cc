#include "collector/auth_limit.h"

#include <algorithm>

namespace driftwatch::collector {

AuthFailureLimiter::AuthFailureLimiter(int burst, int64_t refill_ns, size_t max_clients)
    : burst_(std::max(burst, 1)),
      refill_ns_(std::max<int64_t>(refill_ns, 1)),
      max_clients_(std::max<size_t>(max_clients, 1)) {}

// attempts counts whole attempts; time since last_ns that did not yet make a
// whole attempt is kept by advancing last_ns only by the whole refills used.
void AuthFailureLimiter::Refill(Bucket& b, int64_t now_ns) const {
  if (now_ns <= b.last_ns) {
    b.last_ns = std::min(b.last_ns, now_ns);  // the clock went back: restart from now
    return;
  }
  const int64_t whole = (now_ns - b.last_ns) / refill_ns_;
  if (whole <= 0) return;
  if (b.attempts + whole >= burst_) {
    b.attempts = burst_;
    b.last_ns = now_ns;
  } else {
    b.attempts += whole;
    b.last_ns += whole * refill_ns_;
  }
}

int64_t AuthFailureLimiter::WaitNs(const std::string& client, int64_t now_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(client);
  if (it == buckets_.end()) return 0;
  Refill(it->second, now_ns);
  if (it->second.attempts > 0) return 0;
  return std::max<int64_t>(1, it->second.last_ns + refill_ns_ - now_ns);
}

void AuthFailureLimiter::Failed(const std::string& client, int64_t now_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(client);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_clients_) {
      // Forget clients whose bucket has refilled; failing that, the one whose
      // bucket was touched longest ago.
      for (auto b = buckets_.begin(); b != buckets_.end();) {
        Refill(b->second, now_ns);
        b = b->second.attempts >= burst_ ? buckets_.erase(b) : std::next(b);
      }
      if (buckets_.size() >= max_clients_) {
        auto oldest = std::min_element(buckets_.begin(), buckets_.end(), [](auto& a, auto& b) {
          return a.second.last_ns < b.second.last_ns;
        });
        buckets_.erase(oldest);
      }
    }
    it = buckets_.emplace(client, Bucket{burst_, now_ns}).first;
  }
  Refill(it->second, now_ns);
  if (it->second.attempts == burst_) it->second.last_ns = now_ns;  // refill starts now
  it->second.attempts = std::max<int64_t>(it->second.attempts - 1, 0);
}

size_t AuthFailureLimiter::tracked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buckets_.size();
}

}  // namespace driftwatch::collector
