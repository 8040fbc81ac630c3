// Failed-authentication limit (docs/api.md, "Authentication"): a token
// bucket per client address. Each address may fail authentication `burst`
// times in a row; after that it regains one attempt every `refill_ns`, and
// every request from it is answered 429 (without looking at its token) until
// it has one. Requests that authenticate never use up attempts.
//
// Tokens are 256-bit random values compared as SHA-256 digests in the store,
// so guessing is hopeless anyway; the limit keeps a client that sends wrong
// tokens in a loop (a misconfigured agent, a scanner) from costing a store
// lookup per request. Memory is bounded by `max_clients`: full buckets are
// forgotten first, and when every tracked client is still limited the oldest
// one is dropped.
//
// Thread-safety: all methods may be called concurrently.
#ifndef DRIFTWATCH_COLLECTOR_AUTH_LIMIT_H_
#define DRIFTWATCH_COLLECTOR_AUTH_LIMIT_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace driftwatch::collector {

class AuthFailureLimiter {
 public:
  explicit AuthFailureLimiter(int burst = 20, int64_t refill_ns = 1000000000,
                              size_t max_clients = 10000);

  // 0 when `client` may try to authenticate now, else the nanoseconds until
  // it may (at least 1).
  int64_t WaitNs(const std::string& client, int64_t now_ns);
  // Records one failed authentication of `client`.
  void Failed(const std::string& client, int64_t now_ns);
  size_t tracked() const;

 private:
  struct Bucket {
    int64_t attempts;  // whole attempts left, 0..burst
    int64_t last_ns;
  };
  void Refill(Bucket& b, int64_t now_ns) const;

  const int burst_;
  const int64_t refill_ns_;
  const size_t max_clients_;
  mutable std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_AUTH_LIMIT_H_
