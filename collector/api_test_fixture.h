// The fixture of the Api's unit tests (api_test.cc, api_commands_test.cc,
// enroll_limits_test.cc):
// an Api on a SQLite store in a temporary directory, called without sockets,
// with read, admin and enroll tokens and helpers that build reports.
#ifndef DRIFTWATCH_COLLECTOR_API_TEST_FIXTURE_H_
#define DRIFTWATCH_COLLECTOR_API_TEST_FIXTURE_H_

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cpprest/json.h>

#include <memory>
#include <string>
#include <vector>

#include "collector/api.h"
#include "collector/auth.h"
#include "collector/sqlite_store.h"
#include "core/drift_json.h"

namespace driftwatch::collector {

inline constexpr int64_t kT0 = 1793491200LL * 1000000000;  // 2026-11-01T00:00:00Z

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dw_api_test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto s = OpenSqliteStore(dir_ + "/c.db");
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s).value();
    api_ = std::make_unique<Api>(
        *store_, config_, metrics_, [this] { return now_; }, [this] { ++ingest_calls_; });
    read_ = *CreateToken(*store_, Role::kRead, now_);
    admin_ = *CreateToken(*store_, Role::kAdmin, now_);
    enroll_ = *CreateToken(*store_, Role::kEnroll, now_);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  HttpResponse Call(const std::string& method, const std::string& target, const std::string& token,
                    const std::string& body = "") {
    HttpRequest r;
    r.method = method;
    size_t q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) {
      std::string qs = target.substr(q + 1);
      size_t i = 0;
      while (i <= qs.size()) {
        size_t amp = qs.find('&', i);
        if (amp == std::string::npos) amp = qs.size();
        std::string kv = qs.substr(i, amp - i);
        size_t eq = kv.find('=');
        r.query.emplace_back(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
        i = amp + 1;
      }
    }
    if (!token.empty()) r.authorization = "Bearer " + token;
    r.body = body;
    return api_->Handle(r);
  }

  std::string Enroll(const std::string& host, const std::string& group) {
    web::json::value b = web::json::value::object();
    b["host"] = web::json::value(host);
    b["group"] = web::json::value(group);
    HttpResponse r = Call("POST", "/api/v1/enroll", enroll_, b.serialize());
    EXPECT_EQ(r.status, 201) << r.body;
    return web::json::value::parse(r.body).at("token").as_string();
  }

  static DriftEvent Event(const std::string& path, DriftKind kind, Severity sev) {
    DriftEvent e;
    e.path = path;
    e.kind = kind;
    e.severity = sev;
    e.rule = "/etc/** (host.yaml:3)";
    Entry n;
    n.mask = kAttrType | kAttrPerm;
    n.mode = 0600;
    if (kind != DriftKind::kRemoved) e.new_entry = n;
    if (kind == DriftKind::kModified) {
      n.mode = 0644;
      e.old_entry = n;
      e.changed = kAttrPerm;
    }
    return e;
  }

  static std::string Report(const std::string& id, const std::string& host,
                            const std::vector<DriftEvent>& events, int64_t finished) {
    CheckResult r;
    r.target = host;
    r.baseline = "default";
    r.baseline_revision = 1;
    r.started_ns = finished - 1000;
    r.finished_ns = finished;
    r.subtrees = {{"/etc", HashBytes(host)}};
    r.events = events;
    web::json::value v = CheckResultToJson(r);
    v["format"] = web::json::value::number(1);
    v["report_id"] = web::json::value(id);
    v["host_id"] = web::json::value(host);
    v["agent_version"] = web::json::value("test");
    v["sent"] = web::json::value(FormatRfc3339Nanos(finished));
    return v.serialize();
  }

  std::string dir_;
  LiveConfig config_;
  Metrics metrics_;
  int64_t now_ = kT0;
  int ingest_calls_ = 0;
  std::unique_ptr<FleetStore> store_;
  std::unique_ptr<Api> api_;
  std::string read_, admin_, enroll_;
};

inline constexpr const char* kId1 = "11111111-1111-4111-8111-111111111111";
inline constexpr const char* kId2 = "22222222-2222-4222-8222-222222222222";

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_API_TEST_FIXTURE_H_
