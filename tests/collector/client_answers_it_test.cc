// The agent's client against a collector that answers 200 with bodies of
// the wrong shape: each is refused with the field it got wrong, never an
// exception or a half-read command.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "report/client.h"
#include "tests/collector/scripted_collector.h"

namespace driftwatch::collector_it {
namespace {

using report::AgentCommand;
using report::CollectorClient;

std::string Describe(const Result<std::vector<AgentCommand>>& r) {
  if (!r.ok()) return r.status().message();
  std::string s;
  for (const AgentCommand& c : *r) {
    s += std::to_string(c.id) + " " + c.kind;
    for (const std::string& p : c.paths) s += " " + p;
    s += ";";
  }
  return s;
}

TEST(ClientAnswersTest, PollCommandsNamesTheFieldOfABadAnswer) {
  struct Case {
    std::string body;
    std::string want;
  };
  const std::vector<Case> cases = {
      {R"({"commands":[{"id":7,"command":"accept","paths":["/etc/a","/etc/b"]},)"
       R"({"id":8,"command":"check-now"}]})",
       "7 accept /etc/a /etc/b;8 check-now;"},
      {R"({"commands":[]})", ""},
      {R"([1,2])", "poll commands: unexpected answer: not a JSON object"},
      {R"({})", "poll commands: unexpected answer: commands: expected an array"},
      {R"({"commands":{"id":1}})", "poll commands: unexpected answer: commands: expected an array"},
      {R"({"commands":[3]})", "poll commands: unexpected answer: commands[0]: expected an object"},
      {R"({"commands":[{"id":"7","command":"baseline"}]})",
       "poll commands: unexpected answer: commands[0].id: expected an integer"},
      {R"({"commands":[{"id":1,"command":"baseline"},{"id":2}]})",
       "poll commands: unexpected answer: commands[1].command: missing"},
      {R"({"commands":[{"id":1,"command":"accept","paths":["/etc/a",3]}]})",
       "poll commands: unexpected answer: commands[0].paths: expected an array of strings"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.body);
    ScriptedCollector collector([&](const ScriptedRequest&) { return HttpAnswer(200, k.body); });
    ASSERT_TRUE(collector.ok());
    CollectorClient client(collector.url(), "agent-token", "", 2000);
    EXPECT_EQ(Describe(client.PollCommands()), k.want);
  }
}

TEST(ClientAnswersTest, EnrollNeedsAHostIdAndAToken) {
  struct Case {
    std::string body;
    std::string want;
  };
  const std::vector<Case> cases = {
      {R"({"host_id":"h-1","token":"t-1"})", "h-1 t-1 web"},
      {R"({"host_id":"h-1","token":"t-1","group":"db"})", "h-1 t-1 db"},
      {R"({"host_id":"h-1"})", "enroll: unexpected answer: token: missing"},
      {R"({"host_id":5,"token":"t"})", "enroll: unexpected answer: host_id: expected a string"},
      {R"("h-1")", "enroll: unexpected answer: not a JSON object"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.body);
    ScriptedCollector collector([&](const ScriptedRequest&) { return HttpAnswer(201, k.body); });
    ASSERT_TRUE(collector.ok());
    CollectorClient client(collector.url(), "enroll-token", "", 2000);
    auto r = client.Enroll("web-1", "web");
    EXPECT_EQ(r.ok() ? r->host_id + " " + r->token + " " + r->group : r.status().message(), k.want);
  }
}

TEST(ClientAnswersTest, AnUnreadableBodyOfAnAcceptedReportAsksForNothing) {
  for (const std::string body : {"", "not json", "[]", R"({"packages_needed":"yes"})"}) {
    SCOPED_TRACE(body);
    ScriptedCollector collector([&](const ScriptedRequest&) { return HttpAnswer(200, body); });
    ASSERT_TRUE(collector.ok());
    CollectorClient client(collector.url(), "agent-token", "", 2000);
    bool needed = true;
    EXPECT_TRUE(client.SendReport("{}", &needed).ok());
    EXPECT_FALSE(needed);
  }
  ScriptedCollector asks(
      [](const ScriptedRequest&) { return HttpAnswer(200, R"({"packages_needed":true})"); });
  CollectorClient client(asks.url(), "agent-token", "", 2000);
  bool needed = false;
  EXPECT_TRUE(client.SendReport("{}", &needed).ok());
  EXPECT_TRUE(needed);
}

}  // namespace
}  // namespace driftwatch::collector_it
