// The fleet's trees end to end: real agents (`driftwatch check --report`
// over test roots) and a real collector. Identical hosts share every tree
// object; a changed file costs exactly the objects on its path; an
// unchanged host sends nothing but its root (docs/wire.md "Trees").
#include <sstream>

#include "tests/collector/peer_agent.h"

namespace driftwatch::collector_it {
namespace {

// One agent over a test root: /etc with a few directories.
struct Agent : PeerAgent {
  Agent(const TempDir& dir, const std::string& name) : PeerAgent(dir, name) {
    Write("/etc/app/app.conf", "port = 80\n");
    Write("/etc/app/conf.d/limits.conf", "max = 10\n");
  }
};

// A gauge of the collector's /metrics; -1 when absent.
int64_t Gauge(Collector& c, const std::string& token, const std::string& name) {
  Answer m = c.Get("/metrics", token);
  std::istringstream in(m.body);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + " ", 0) == 0) return std::stoll(line.substr(name.size() + 1));
  }
  return -1;
}

class PeerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(c.Start()) << ReadAll(c.log());
    read = c.Token("read");
    enroll = c.Token("enroll");
  }
  void Enroll(const Agent& a, const std::string& group = "web") {
    auto r = a.Scan("baseline create");
    ASSERT_EQ(r.exit_code, 0) << r.out << ReadAll(a.log);
    r = a.Dw("enroll --collector " + Q(c.url()) + " --token " + Q(enroll) + " --name " + a.name +
             " --group " + group);
    ASSERT_EQ(r.exit_code, 0) << r.out << ReadAll(a.log);
  }
  TempDir dir;
  Collector c{dir};
  std::string read, enroll;
};

// Directories of Agent's tree: /, /etc, /etc/app, /etc/app/conf.d, /etc/ssh.
constexpr int64_t kTreeObjects = 5;

TEST_F(PeerTest, IdenticalHostsStoreEachObjectOnce) {
  Agent a(dir, "web-1"), b(dir, "web-2");
  Enroll(a);
  Enroll(b);
  value first = a.CheckReport();
  ASSERT_TRUE(first.is_object()) << ReadAll(a.log);
  EXPECT_EQ(first.at("offered").as_integer(), kTreeObjects);
  EXPECT_EQ(first.at("sent_objects").as_integer(), kTreeObjects);
  EXPECT_FALSE(first.at("full").as_bool());
  EXPECT_EQ(Gauge(c, read, "driftwatch_collector_tree_objects"), kTreeObjects);

  // The second host offers the same objects and sends none of them.
  value second = b.CheckReport();
  ASSERT_TRUE(second.is_object()) << ReadAll(b.log);
  EXPECT_EQ(second.at("offered").as_integer(), kTreeObjects);
  EXPECT_EQ(second.at("sent_objects").as_integer(), 0);
  EXPECT_EQ(Gauge(c, read, "driftwatch_collector_tree_objects"), kTreeObjects);
}

TEST_F(PeerTest, ChangedFileUploadsExactlyTheObjectsOnItsPath) {
  Agent a(dir, "web-1");
  Enroll(a);
  value first = a.CheckReport();
  ASSERT_TRUE(first.is_object()) << ReadAll(a.log);
  ASSERT_EQ(first.at("sent_objects").as_integer(), kTreeObjects);
  const int64_t bytes_before = Gauge(c, read, "driftwatch_collector_tree_bytes");

  // Unchanged: nothing offered, one request (the root).
  value same = a.CheckReport();
  ASSERT_TRUE(same.is_object());
  EXPECT_EQ(same.at("offered").as_integer(), 0);
  EXPECT_EQ(same.at("sent_objects").as_integer(), 0);
  EXPECT_EQ(same.at("rounds").as_integer(), 1);

  // One file four levels down: /, /etc, /etc/app and /etc/app/conf.d.
  a.Write("/etc/app/conf.d/limits.conf", "max = 20\n");
  value changed = a.CheckReport(1);
  ASSERT_TRUE(changed.is_object()) << ReadAll(a.log);
  EXPECT_EQ(changed.at("offered").as_integer(), 4);
  EXPECT_EQ(changed.at("sent_objects").as_integer(), 4);
  EXPECT_EQ(changed.at("rounds").as_integer(), 3);
  EXPECT_FALSE(changed.at("full").as_bool());
  EXPECT_EQ(Gauge(c, read, "driftwatch_collector_tree_objects"), kTreeObjects + 4);
  EXPECT_GT(Gauge(c, read, "driftwatch_collector_tree_bytes"), bytes_before);

  // A file beside /etc/ssh's: /, /etc and /etc/ssh.
  a.Write("/etc/ssh/sshd_config", "PermitRootLogin yes\n");
  value ssh = a.CheckReport(1);
  ASSERT_TRUE(ssh.is_object());
  EXPECT_EQ(ssh.at("sent_objects").as_integer(), 3);
  EXPECT_EQ(Gauge(c, read, "driftwatch_collector_tree_objects"), kTreeObjects + 4 + 3);
}

TEST_F(PeerTest, NotEnrolledOrCollectorDownSendsNoTree) {
  Agent a(dir, "web-1");
  auto r = a.Scan("baseline create");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  // Not enrolled: the report waits in the outbox, nothing to sync.
  EXPECT_TRUE(a.CheckReport().is_null());

  Enroll(a);
  c.Stop();
  // The collector is gone: the check still succeeds and its report is
  // queued; a collector that did not take the report is not asked to take
  // the tree (that would cost the agent a second timeout).
  value down = a.CheckReport();
  EXPECT_TRUE(down.is_null()) << down.serialize();
  EXPECT_EQ(ReadAll(a.log).find("tree sync"), std::string::npos) << ReadAll(a.log);
  // Back on its port: the queued reports are delivered and the whole tree
  // goes.
  const std::string url = c.url();
  ASSERT_TRUE(c.Start(std::stoi(url.substr(url.rfind(':') + 1)))) << ReadAll(c.log());
  value back = a.CheckReport();
  ASSERT_TRUE(back.is_object()) << ReadAll(a.log);
  EXPECT_EQ(back.at("sent_objects").as_integer(), kTreeObjects);
  value host = c.Get("/api/v1/hosts/web-1", read).json();
  EXPECT_EQ(host.at("reports").as_integer(), 3) << host.serialize();
}

}  // namespace
}  // namespace driftwatch::collector_it
