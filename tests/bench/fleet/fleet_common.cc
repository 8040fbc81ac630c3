#include "tests/bench/fleet/fleet_common.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "tests/testing/run.h"

namespace driftwatch::fleetbench {
namespace {

bool ParseInt(const std::string& s, int64_t lo, int64_t hi, int64_t* out) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0 || v < lo || v > hi) return false;
  *out = v;
  return true;
}

volatile sig_atomic_t g_stop = 0;

void OnStop(int) { g_stop = 1; }

}  // namespace

bool Stopping() { return g_stop != 0; }

void InstallStopHandler() {
  struct sigaction sa {};
  sa.sa_handler = OnStop;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool ParseOptions(int argc, char** argv, Options* o, std::string* error) {
  // --quick first, so that explicit flags after it override its defaults
  // whatever their order on the command line.
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--quick") {
      o->quick = true;
      o->hosts = 10000;
      o->seconds = 30;
      o->history_events = 10000000;
      o->history_hosts = 10000;
    }
  }
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") continue;
    if (a == "--no-sqlite") {
      o->sqlite = false;
      continue;
    }
    if (a == "--no-pg") {
      o->pg = false;
      continue;
    }
    if (i + 1 >= argc) {
      *error = "missing value after " + a;
      return false;
    }
    const std::string v = argv[++i];
    int64_t n = 0;
    if (a == "--hosts" && ParseInt(v, 1, 10000000, &n)) {
      o->hosts = static_cast<int>(n);
    } else if (a == "--seconds" && ParseInt(v, 1, 7200, &n)) {
      o->seconds = static_cast<double>(n);
    } else if (a == "--workers" && ParseInt(v, 1, 512, &n)) {
      o->workers = static_cast<int>(n);
    } else if (a == "--pg-collectors" && ParseInt(v, 1, 8, &n)) {
      o->pg_collectors = static_cast<int>(n);
    } else if (a == "--history-events" && ParseInt(v, 0, 1000000000, &n)) {
      o->history_events = n;
    } else if (a == "--history-hosts" && ParseInt(v, 1, 10000000, &n)) {
      o->history_hosts = static_cast<int>(n);
    } else if (a == "--history-days" && ParseInt(v, 1, 3650, &n)) {
      o->history_days = static_cast<int>(n);
    } else if (a == "--pg-data") {
      // Created by initdb and removed at the end: never an existing one.
      if (v.empty() || v[0] != '/' || access(v.c_str(), F_OK) == 0) {
        *error = "--pg-data takes an absolute path that does not exist yet";
        return false;
      }
      o->pg_data = v;
    } else if (a == "--collector") {
      o->collector_bin = v;
    } else if (a == "--rates") {
      o->rates.clear();
      size_t start = 0;
      while (start <= v.size()) {
        size_t comma = v.find(',', start);
        if (comma == std::string::npos) comma = v.size();
        if (!ParseInt(v.substr(start, comma - start), 1, 100000, &n)) {
          *error = "--rates takes comma-separated reports/s, e.g. 333,1000";
          return false;
        }
        o->rates.push_back(static_cast<int>(n));
        start = comma + 1;
      }
    } else {
      *error = "unknown option or bad value: " + a + " " + v;
      return false;
    }
  }
  if (o->collector_bin.empty()) {
    const char* env = std::getenv("DW_COLLECTOR_BIN");
    o->collector_bin = env ? env : "";
  }
  if (o->collector_bin.empty() || access(o->collector_bin.c_str(), X_OK) != 0) {
    *error = "no driftwatch-collector binary: pass --collector PATH or set DW_COLLECTOR_BIN";
    return false;
  }
  return true;
}

double Samples::Ms(double p) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (us_.empty()) return 0;
  std::vector<int64_t> v = us_;
  const size_t k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]) / 1000.0;
}

bool Collector::Start(const std::string& bin, const std::vector<std::string>& store_args,
                      const std::string& log) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return false;
  std::vector<std::string> argv = {bin, "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), store_args.begin(), store_args.end());
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out[1], 1);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) dup2(fd, 2);
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  if (pid_ < 0) {
    close(out[0]);
    return false;
  }
  // The collector prints its URL as the first line of stdout when it listens.
  char ch;
  pollfd p{out[0], POLLIN, 0};
  while (poll(&p, 1, 10000) > 0 && read(out[0], &ch, 1) == 1 && ch != '\n') url_.push_back(ch);
  close(out[0]);
  if (url_.rfind("http", 0) != 0) {
    Stop();
    return false;
  }
  return true;
}

void Collector::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int64_t Collector::RssKib() const {
  if (pid_ <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6);
  }
  return 0;
}

double Collector::CpuSeconds() const {
  if (pid_ <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) start past ')';
  // utime and stime are the 12th and 13th of them.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 1; i <= 13 && rest >> field; ++i) {
    if (i >= 12) ticks += std::atof(field.c_str());
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int64_t FileBytes(const std::string& glob) {
  const auto r = testutil::Run("du -cb " + glob + " 2>/dev/null | tail -1 | cut -f1");
  return std::atoll(r.out.c_str());
}

void PrintResult(const std::string& key, double value, const std::string& unit) {
  std::printf("RESULT %s %.6g %s\n", key.c_str(), value, unit.c_str());
  std::fflush(stdout);
}

}  // namespace driftwatch::fleetbench
