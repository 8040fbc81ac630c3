// Realtime reports through the Api (docs/api.md "POST /reports"): additive
// to the host's history, strict about actors, and the actor filters of
// /drift and /paths/history.
#include <cpprest/json.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "collector/api_test_fixture.h"

namespace driftwatch::collector {
namespace {

using web::json::value;

constexpr const char* kId3 = "33333333-3333-4333-8333-333333333333";

Actor Vim() {
  Actor a;
  a.pid = 4242;
  a.exe = "/usr/bin/vim";
  a.uid = 1000;
  a.login = "alice";
  return a;
}

class ApiRealtimeTest : public ApiTest {
 protected:
  // A realtime report of `events` (docs/wire.md "source").
  static std::string Realtime(const std::string& id, const std::string& host,
                              const std::vector<DriftEvent>& events, int64_t finished) {
    value v = value::parse(Report(id, host, events, finished));
    v["source"] = value("realtime");
    v["root"] = value(std::string(32, 'f'));
    v["subtrees"] = value::object();
    return v.serialize();
  }
  std::vector<std::string> Paths(const std::string& query) {
    HttpResponse r = Call("GET", "/api/v1/drift" + query, read_);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> out;
    if (r.status != 200) return out;
    const value page = value::parse(r.body);
    for (const value& e : page.at("events").as_array()) {
      out.push_back(e.at("path").as_string());
    }
    return out;
  }
};

TEST_F(ApiRealtimeTest, RealtimeReportKeepsTheHostsLastCheck) {
  const std::string agent = Enroll("web-1", "web");
  ASSERT_EQ(Call("POST", "/api/v1/reports", agent,
                 Report(kId1, "web-1", {Event("/etc/a", DriftKind::kAdded, Severity::kLow)}, kT0))
                .status,
            200);
  const value before = value::parse(Call("GET", "/api/v1/hosts/web-1", read_).body);
  DriftEvent e = Event("/etc/passwd", DriftKind::kModified, Severity::kHigh);
  e.time_ns = kT0 + 5;
  e.actor = Vim();
  now_ = kT0 + 100;
  HttpResponse r = Call("POST", "/api/v1/reports", agent, Realtime(kId2, "web-1", {e}, kT0 + 10));
  ASSERT_EQ(r.status, 200) << r.body;
  const value after = value::parse(Call("GET", "/api/v1/hosts/web-1", read_).body);
  EXPECT_EQ(after.at("root").as_string(), before.at("root").as_string());
  EXPECT_EQ(after.at("subtrees").serialize(), before.at("subtrees").serialize());
  EXPECT_EQ(after.at("last_report").serialize(), before.at("last_report").serialize());
  EXPECT_EQ(after.at("last_seen").as_string(), FormatRfc3339Nanos(kT0 + 100));
  // The event is in the history with its actor and time, as sent.
  HttpResponse page = Call("GET", "/api/v1/drift?actor_exe=/usr/bin/vim", read_);
  ASSERT_EQ(page.status, 200) << page.body;
  const value ev = value::parse(page.body).at("events").at(0);
  EXPECT_EQ(ev.at("actor").serialize(), ActorToJson(Vim()).serialize());
  EXPECT_EQ(ev.at("time").as_string(), FormatRfc3339Nanos(kT0 + 5));
  EXPECT_EQ(ev.at("detected").as_string(), FormatRfc3339Nanos(kT0 + 10));
}

TEST_F(ApiRealtimeTest, AnOversizedActorIsRefusedAndNothingIsStored) {
  const std::string agent = Enroll("web-1", "web");
  DriftEvent e = Event("/etc/passwd", DriftKind::kModified, Severity::kHigh);
  Actor big = Vim();
  big.cmdline = std::string(kMaxActorCmdline + 1, 'x');
  e.actor = big;
  HttpResponse r = Call("POST", "/api/v1/reports", agent, Realtime(kId1, "web-1", {e}, kT0));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"detail":"events[0].actor.cmdline: 1025 bytes; expected at most 1024",)"
                    R"("error":"invalid_report"})");
  EXPECT_EQ(Paths(""), std::vector<std::string>{});
  EXPECT_EQ(store_->Counts()->reports, 0);
}

TEST_F(ApiRealtimeTest, ActorFiltersSelectAndBadValuesAreRefused) {
  const std::string agent = Enroll("web-1", "web");
  DriftEvent vim = Event("/etc/vim", DriftKind::kModified, Severity::kLow);
  vim.actor = Vim();
  DriftEvent undone = Event("/etc/undone", DriftKind::kModified, Severity::kLow);
  Actor sed;
  sed.pid = 7;
  sed.exe = "/usr/bin/sed";
  sed.uid = 0;
  undone.actor = sed;
  undone.transient = true;
  ASSERT_EQ(
      Call("POST", "/api/v1/reports", agent,
           Report(kId1, "web-1", {Event("/etc/check", DriftKind::kAdded, Severity::kLow)}, kT0))
          .status,
      200);
  ASSERT_EQ(Call("POST", "/api/v1/reports", agent, Realtime(kId2, "web-1", {vim, undone}, kT0 + 1))
                .status,
            200);
  using V = std::vector<std::string>;
  EXPECT_EQ(Paths("?actor_exe=/usr/bin/vim"), V{"/etc/vim"});
  EXPECT_EQ(Paths("?actor_uid=0"), V{"/etc/undone"});
  EXPECT_EQ(Paths("?transient=true"), V{"/etc/undone"});
  EXPECT_EQ(Paths("?transient=false&order=asc"), (V{"/etc/check", "/etc/vim"}));
  EXPECT_EQ(Paths("?actor_uid=1000&transient=true"), V{});
  HttpResponse h = Call("GET", "/api/v1/paths/history?path=/etc/vim&actor_uid=1000", read_);
  ASSERT_EQ(h.status, 200) << h.body;
  EXPECT_EQ(value::parse(h.body).at("events").size(), 1u);
  h = Call("GET", "/api/v1/paths/history?path=/etc/vim&actor_uid=0", read_);
  EXPECT_EQ(value::parse(h.body).at("events").size(), 0u);
  EXPECT_EQ(Call("GET", "/api/v1/drift?actor_uid=alice", read_).body,
            R"({"detail":"actor_uid: expected a user id from 0 to 4294967295, got 'alice'",)"
            R"("error":"bad_request"})");
  EXPECT_EQ(Call("GET", "/api/v1/drift?actor_uid=4294967296", read_).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/drift?transient=yes", read_).body,
            R"({"detail":"transient: expected true or false, got 'yes'","error":"bad_request"})");
  EXPECT_EQ(Call("GET", "/api/v1/paths/history?path=/etc/vim&transient=1", read_).status, 400);
}

}  // namespace
}  // namespace driftwatch::collector
