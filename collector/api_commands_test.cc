// The Api's agent commands: baseline and accept, handed out once and
// acknowledged (api_test_fixture.h).
#include <gtest/gtest.h>

#include <cpprest/json.h>

#include "collector/api_test_fixture.h"

namespace driftwatch::collector {
namespace {

using web::json::value;

TEST_F(ApiTest, CommandsAreHandedOutOnceAndAcknowledged) {
  std::string a = Enroll("a", "web");
  std::string b = Enroll("b", "db");
  EXPECT_EQ(Call("POST", "/api/v1/hosts/zz/commands", admin_, R"({"command":"baseline"})").status,
            404);
  EXPECT_EQ(Call("POST", "/api/v1/hosts/a/commands", admin_, R"({"command":"reboot"})").status,
            400);
  HttpResponse r = Call("POST", "/api/v1/hosts/a/commands", admin_, R"({"command":"check-now"})");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, R"({"command":"check-now","host":"a","id":1})");
  r = Call("POST", "/api/v1/fleet/baseline", admin_, R"({"group":"web"})");
  EXPECT_EQ(r.body, R"({"commands":[2],"group":"web","queued":1})");
  r = Call("POST", "/api/v1/fleet/baseline", admin_, "");
  EXPECT_EQ(r.body, R"({"commands":[3,4],"group":"","queued":2})");

  now_ = kT0 + 7;
  r = Call("GET", "/api/v1/agents/commands", a);
  value v = value::parse(r.body);
  ASSERT_EQ(v["commands"].size(), 3u);
  EXPECT_EQ(v["commands"][0]["command"].as_string(), "check-now");
  EXPECT_EQ(v["commands"][1]["command"].as_string(), "baseline");
  EXPECT_EQ(Call("GET", "/api/v1/agents/commands", a).body, R"({"commands":[]})");
  EXPECT_EQ(Call("GET", "/api/v1/agents/commands", read_).status, 403);
  // b cannot acknowledge a's command.
  EXPECT_EQ(Call("POST", "/api/v1/agents/commands/2/ack", b, R"({"ok":true})").status, 404);
  r = Call("POST", "/api/v1/agents/commands/2/ack", a,
           R"({"ok":true,"detail":"baseline default revision 2","baseline":{"name":"default",)"
           R"("revision":2,"created":"2026-11-01T00:00:00.000000006Z"}})");
  EXPECT_EQ(r.body, R"({"acknowledged":true,"id":2})");
  v = value::parse(Call("GET", "/api/v1/hosts/a", read_).body);
  EXPECT_EQ(v["baseline"].serialize(), R"({"age_seconds":0,"name":"default","revision":2,)"
                                       R"("since":"2026-11-01T00:00:00.000000006Z"})");
  EXPECT_EQ(v["commands"][1].serialize(),
            R"({"acknowledged":"2026-11-01T00:00:00.000000007Z","command":"baseline",)"
            R"("created":"2026-11-01T00:00:00.000000000Z","detail":"baseline default revision 2",)"
            R"("handed_out":"2026-11-01T00:00:00.000000007Z","host":"a","id":2,"ok":true})");
  EXPECT_EQ(v["last_seen"].as_string(), "2026-11-01T00:00:00.000000007Z");
}

// An agent acknowledges a command once, after it was handed out: an early
// or a repeated ack is a 409 conflict and changes nothing.

TEST_F(ApiTest, CommandAckBeforeHandOutOrTwiceIsAConflict) {
  std::string a = Enroll("a", "web");
  ASSERT_EQ(Call("POST", "/api/v1/hosts/a/commands", admin_, R"({"command":"baseline"})").status,
            201);
  const std::string forged =
      R"({"ok":true,"detail":"forged","baseline":{"name":"evil","revision":9}})";
  HttpResponse r = Call("POST", "/api/v1/agents/commands/1/ack", a, forged);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body, R"({"detail":"command 1 has not been handed out yet; poll )"
                    R"(/api/v1/agents/commands first","error":"conflict"})");
  value v = value::parse(Call("GET", "/api/v1/hosts/a", read_).body);
  EXPECT_EQ(v["baseline"]["name"].as_string(), "") << v.serialize();
  EXPECT_EQ(v["baseline"]["revision"].as_integer(), 0);
  EXPECT_EQ(v["commands"][0]["acknowledged"].serialize(), "null");
  EXPECT_EQ(v["commands"][0]["handed_out"].serialize(), "null");

  now_ = kT0 + 3;
  v = value::parse(Call("GET", "/api/v1/agents/commands", a).body);
  ASSERT_EQ(v["commands"].size(), 1u) << v.serialize();
  now_ = kT0 + 4;
  r = Call("POST", "/api/v1/agents/commands/1/ack", a,
           R"({"ok":true,"detail":"baseline default revision 2",)"
           R"("baseline":{"name":"default","revision":2}})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"acknowledged":true,"id":1})");
  now_ = kT0 + 5;
  r = Call("POST", "/api/v1/agents/commands/1/ack", a, forged);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body, R"({"detail":"command 1 was acknowledged already; an acknowledgement is )"
                    R"(accepted once","error":"conflict"})");
  EXPECT_EQ(Call("POST", "/api/v1/agents/commands/2/ack", a, forged).status, 404);

  v = value::parse(Call("GET", "/api/v1/hosts/a", read_).body);
  EXPECT_EQ(v["baseline"]["name"].as_string(), "default") << v.serialize();
  EXPECT_EQ(v["baseline"]["revision"].as_integer(), 2);
  EXPECT_EQ(v["commands"][0]["detail"].as_string(), "baseline default revision 2");
  EXPECT_EQ(v["commands"][0]["acknowledged"].as_string(), "2026-11-01T00:00:00.000000004Z");
}

TEST_F(ApiTest, AcceptQueuesACommandWithThePaths) {
  std::string a = Enroll("a", "web");
  std::string b = Enroll("b", "web");
  HttpResponse r = Call("POST", "/api/v1/reports", a,
                        Report(kId1, "a",
                               {Event("/etc/x[1]", DriftKind::kAdded, Severity::kHigh),
                                Event("container:web:/etc/y", DriftKind::kAdded, Severity::kLow)},
                               kT0));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(Call("POST", "/api/v1/reports", b,
                 Report(kId2, "b", {Event("/etc/z", DriftKind::kAdded, Severity::kHigh)}, kT0))
                .status,
            200);
  EXPECT_EQ(Call("POST", "/api/v1/hosts/a/accept", read_, R"({"paths":["/etc/x"]})").status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/hosts/a/accept", admin_, "{}").body,
            R"({"detail":"paths or events: one is required","error":"bad_request"})");
  EXPECT_EQ(Call("POST", "/api/v1/hosts/a/accept", admin_, R"({"paths":"/etc/x"})").status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/hosts/a/accept", admin_, R"({"paths":["etc/x"]})").status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/hosts/a/accept", admin_, R"({"events":[2]})").body,
            R"({"detail":"events[0]: 'container:web:/etc/y' is not an absolute host path; )"
            R"(container and package drift cannot be accepted into the host baseline",)"
            R"("error":"bad_request"})");
  EXPECT_EQ(Call("POST", "/api/v1/hosts/a/accept", admin_, R"({"events":[3]})").body,
            R"({"detail":"events[0]: no event 3 of host 'a'","error":"not_found"})");
  EXPECT_EQ(Call("POST", "/api/v1/hosts/zz/accept", admin_, R"({"paths":["/etc/x"]})").status, 404);
  r = Call("POST", "/api/v1/hosts/a/accept", admin_,
           R"({"paths":["/etc/new\\n","/etc/x[1]"],"events":[1]})");
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.body,
            R"({"command":"accept","host":"a","id":1,"paths":["/etc/new\\n","/etc/x[1]"]})");

  now_ = kT0 + 5;
  r = Call("GET", "/api/v1/agents/commands", a);
  EXPECT_EQ(r.body, R"({"commands":[{"acknowledged":null,"command":"accept",)"
                    R"("created":"2026-11-01T00:00:00.000000000Z",)"
                    R"("handed_out":"2026-11-01T00:00:00.000000005Z","host":"a","id":1,)"
                    R"("paths":["/etc/new\\n","/etc/x[1]"]}]})");
  r = Call(
      "POST", "/api/v1/agents/commands/1/ack", a,
      R"({"ok":true,"detail":"accepted 2 path(s) into baseline default revision 2",)"
      R"("baseline":{"name":"default","revision":2,"created":"2026-11-01T00:00:00.000000004Z",)"
      R"("root":")" +
          HashBytes("r2").Hex() + R"("}})");
  EXPECT_EQ(r.status, 200) << r.body;
  value v = value::parse(Call("GET", "/api/v1/hosts/a/baselines", read_).body);
  ASSERT_EQ(v["baselines"].size(), 2u) << v.serialize();
  EXPECT_EQ(v["baselines"][0].serialize(),
            R"({"current":true,"first_seen":"2026-11-01T00:00:00.000000005Z",)"
            R"("last_seen":"2026-11-01T00:00:00.000000005Z","name":"default","revision":2,)"
            R"("root":")" +
                HashBytes("r2").Hex() + R"(","since":"2026-11-01T00:00:00.000000004Z"})");
}

// Accept paths follow the agent's rules for its globs (core/normal_path.h):
// anything it would refuse is a 400 naming the field and the reason, and no
// command is queued.

TEST_F(ApiTest, AcceptRefusesPathsTheAgentWouldRefuse) {
  std::string a = Enroll("a", "web");
  auto refused = [&](const std::string& path_json) {
    return Call("POST", "/api/v1/hosts/a/accept", admin_,
                R"({"paths":["/etc/ok",)" + path_json + "]}");
  };
  const std::pair<std::string, std::string> cases[] = {
      {R"("/etc/../shadow")",
       R"(paths[1]: '/etc/../shadow': '.' and '..' components are not allowed)"},
      {R"("/..")", R"(paths[1]: '/..': '.' and '..' components are not allowed)"},
      {R"("/etc/./passwd")",
       R"(paths[1]: '/etc/./passwd': '.' and '..' components are not allowed)"},
      {R"("/etc//passwd")", R"(paths[1]: '/etc//passwd': empty path component)"},
      {R"("/etc/")", R"(paths[1]: '/etc/': empty path component)"},
      {R"("/etc/a\\x00b")", R"(paths[1]: '/etc/a\x00b': contains a NUL byte)"},
      {R"("")", R"(paths[1]: '' is not an absolute host path; container and package drift )"
                R"(cannot be accepted into the host baseline)"},
      {R"("etc/passwd")", R"(paths[1]: 'etc/passwd' is not an absolute host path; container )"
                          R"(and package drift cannot be accepted into the host baseline)"},
  };
  for (const auto& [path, detail] : cases) {
    HttpResponse r = refused(path);
    EXPECT_EQ(r.status, 400) << path;
    EXPECT_EQ(value::parse(r.body)["detail"].as_string(), detail) << path;
  }
  const std::string long_path = "/" + std::string(5000, 'a');
  HttpResponse r = refused("\"" + long_path + "\"");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(value::parse(r.body)["detail"].as_string(),
            "paths[1]: '" + long_path.substr(0, 256) + "...': longer than 4096 bytes");
  std::string deep;
  for (int i = 0; i < 129; ++i) deep += "/d";
  r = refused("\"" + deep + "\"");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(value::parse(r.body)["detail"].as_string(),
            "paths[1]: '" + deep.substr(0, 256) + "...': more than 128 components");
  value v = value::parse(Call("GET", "/api/v1/hosts/a", read_).body);
  EXPECT_EQ(v["commands"].size(), 0u) << v.serialize();

  // The same rule holds for the paths of events the agent itself reported.
  ASSERT_EQ(
      Call("POST", "/api/v1/reports", a,
           Report(kId1, "a", {Event("/etc/../evil", DriftKind::kAdded, Severity::kHigh)}, kT0))
          .status,
      200);
  r = Call("POST", "/api/v1/hosts/a/accept", admin_, R"({"events":[1]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(value::parse(r.body)["detail"].as_string(),
            "events[0]: '/etc/../evil': '.' and '..' components are not allowed");

  r = Call("POST", "/api/v1/hosts/a/accept", admin_, R"({"paths":["/","/etc/...","/etc/x[1]"]})");
  EXPECT_EQ(r.status, 201) << r.body;
}

}  // namespace
}  // namespace driftwatch::collector
