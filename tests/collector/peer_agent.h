// One real agent over a test root for the fleet-trees tests
// (peer_it_test.cc, peer_group_it_test.cc): rules over /etc with the host's
// name host-specific, its own store and log, and /etc/passwd and
// /etc/ssh/sshd_config to start from; each test adds its own files.
#ifndef DRIFTWATCH_TESTS_COLLECTOR_PEER_AGENT_H_
#define DRIFTWATCH_TESTS_COLLECTOR_PEER_AGENT_H_

#include <sys/stat.h>

#include <string>

#include "tests/collector/harness.h"

namespace driftwatch::collector_it {

inline constexpr const char* kPeerRules =
    "version: 1\n"
    "rules:\n"
    "  - path: /etc/**\n"
    "    check: content\n"
    "    severity: high\n"
    "  - path: /etc/hostname\n"
    "    peer: ignore\n";

struct PeerAgent {
  PeerAgent(const TempDir& dir, const std::string& name)
      : root(dir / (name + "-root")),
        rules(dir / (name + "-rules.yaml")),
        db(dir / (name + ".db")),
        log(dir / (name + ".log")),
        name(name) {
    testutil::Run("mkdir -p " + Q(root + "/etc/ssh"));
    WriteFile(rules, kPeerRules);
    Write("/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
    Write("/etc/ssh/sshd_config", "PermitRootLogin no\n");
  }
  // Writes `content` at `path` under the root (mode 0644), making its
  // directory.
  void Write(const std::string& path, const std::string& content) const {
    testutil::Run("mkdir -p " + Q((root + path).substr(0, (root + path).rfind('/'))));
    WriteFile(root + path, content);
    chmod((root + path).c_str(), 0644);
  }
  testutil::RunResult Dw(const std::string& args) const {
    return testutil::Run(Q(AgentBin()) + " " + args + " --db " + Q(db) + " 2>>" + Q(log));
  }
  testutil::RunResult Scan(const std::string& cmd) const {
    return Dw(cmd + " --root " + Q(root) + " --rules " + Q(rules) + " --quiet");
  }
  // `check --report --format json`: its tree_sync object (null when absent).
  web::json::value CheckReport(int want_exit = 0) const {
    auto r = Scan("check --report --format json");
    EXPECT_EQ(r.exit_code, want_exit) << r.out << ReadAll(log);
    web::json::value v = web::json::value::parse(r.out);
    return v.has_field("tree_sync") ? v.at("tree_sync") : web::json::value::null();
  }
  std::string root, rules, db, log, name;
};

}  // namespace driftwatch::collector_it

#endif  // DRIFTWATCH_TESTS_COLLECTOR_PEER_AGENT_H_
