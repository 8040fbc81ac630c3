// Shared pieces of the fleet benchmark (tests/bench/fleet, docs/benchmarks.md):
// its options, collector processes started and stopped around a run,
// latency samples and the figures a run prints. Not a test: nothing here
// passes or fails; the benchmark exits non-zero only when a setup could not
// run at all.
//
// Thread-safety: Samples is thread-safe; the rest is used from one thread.
#ifndef DRIFTWATCH_TESTS_BENCH_FLEET_FLEET_COMMON_H_
#define DRIFTWATCH_TESTS_BENCH_FLEET_FLEET_COMMON_H_

#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace driftwatch::fleetbench {

struct Options {
  bool quick = false;
  int hosts = 100000;                    // enrolled hosts (the fleet)
  std::vector<int> rates = {333, 1000};  // reports/s: 100,000 hosts every 5 min, and 3x
  double seconds = 300;                  // per rate and setup
  int workers = 64;                      // concurrent senders (one connection each at a time)
  bool sqlite = true;                    // one collector on SQLite
  bool pg = true;                        // three collectors on one PostgreSQL database
  int pg_collectors = 3;
  int64_t history_events = 100000000;  // 0 = no history part
  int history_hosts = 100000;
  int history_days = 90;
  std::string collector_bin;
  // The PostgreSQL cluster's data directory (a new directory the postgres
  // user can create, e.g. on a larger disk); "" = inside the cluster's
  // temporary directory under /tmp.
  std::string pg_data;
  std::string work_dir;  // /var/tmp/driftwatch-fleet-XXXXXX, removed at the end
};

// Parses argv (see kUsage in fleet_main.cc); false with *error on bad input.
bool ParseOptions(int argc, char** argv, Options* o, std::string* error);

// A latency sample set in microseconds.
class Samples {
 public:
  void Add(int64_t us) {
    std::lock_guard<std::mutex> lock(mu_);
    us_.push_back(us);
  }
  void Merge(const std::vector<int64_t>& v) {
    std::lock_guard<std::mutex> lock(mu_);
    us_.insert(us_.end(), v.begin(), v.end());
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return us_.size();
  }
  // The p-quantile (0..1) in milliseconds; 0 without samples.
  double Ms(double p) const;

 private:
  mutable std::mutex mu_;  // guards us_
  std::vector<int64_t> us_;
};

// One driftwatch-collector process listening on 127.0.0.1:<free port>.
class Collector {
 public:
  Collector() = default;
  ~Collector() { Stop(); }
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Starts `bin --listen 127.0.0.1:0 <store_args>` with stderr to `log`
  // and waits (10 s at most) for the URL it prints; false when it did not
  // come up.
  bool Start(const std::string& bin, const std::vector<std::string>& store_args,
             const std::string& log);
  // SIGTERM, then SIGKILL after 10 s; waits for the process.
  void Stop();
  // Resident set size now (VmRSS), in KiB; 0 when not running.
  int64_t RssKib() const;
  // User + system CPU time the process used so far, in seconds; 0 when not
  // running.
  double CpuSeconds() const;
  const std::string& url() const { return url_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::string url_;
};

// Bytes of the files named by a shell glob (du -cb), 0 when none.
int64_t FileBytes(const std::string& glob);

// Set by SIGINT/SIGTERM (InstallStopHandler): loops stop early, and
// everything started is torn down on the normal path.
bool Stopping();
void InstallStopHandler();

// Prints one machine-readable line: "RESULT <key> <value> <unit>".
void PrintResult(const std::string& key, double value, const std::string& unit);

}  // namespace driftwatch::fleetbench

#endif  // DRIFTWATCH_TESTS_BENCH_FLEET_FLEET_COMMON_H_
