// Enroll token limits through the API (docs/api.md "Enrollment"): uses,
// expiry, the 401 answers that name why, and racing enrollments.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cpprest/json.h>
#include <atomic>
#include <thread>
#include <vector>

#include "collector/api.h"
#include "collector/auth.h"
#include "collector/sqlite_store.h"

namespace driftwatch::collector {
namespace {

constexpr int64_t kT0 = 1793491200LL * 1000000000;  // 2026-11-01T00:00:00Z
constexpr int64_t kHour = 3600LL * 1000000000;

class EnrollLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dw_enroll_test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto s = OpenSqliteStore(dir_ + "/c.db");
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s).value();
    api_ = std::make_unique<Api>(
        *store_, config_, metrics_, [this] { return now_.load(); }, nullptr);
    read_ = *CreateToken(*store_, Role::kRead, now_);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  HttpResponse Enroll(const std::string& token, const std::string& host) {
    HttpRequest r;
    r.method = "POST";
    r.path = "/api/v1/enroll";
    r.authorization = "Bearer " + token;
    r.body = R"({"host":")" + host + R"("})";
    return api_->Handle(r);
  }

  std::string dir_;
  std::unique_ptr<FleetStore> store_;
  LiveConfig config_;
  Metrics metrics_;
  std::atomic<int64_t> now_{kT0};
  std::unique_ptr<Api> api_;
  std::string read_;
};

// An enroll token enrolls as often as its uses allow and until it expires;
// then 401 names the reason, before the body is read (Admit) and after.
TEST_F(EnrollLimitsTest, UsesAndExpiry) {
  auto twice = CreateToken(*store_, Role::kEnroll, now_, TokenLimits{2, now_ + kHour});
  ASSERT_TRUE(twice.ok()) << twice.status().message();
  EXPECT_EQ(Enroll(*twice, "a").status, 201);
  EXPECT_EQ(Enroll(*twice, "a").status, 409);  // a failed enrollment takes no use
  EXPECT_EQ(Enroll(*twice, "b").status, 201);
  HttpResponse r = Enroll(*twice, "c");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"detail":"this enroll token has no enrollments left; create a new one",)"
                    R"("error":"token_used_up"})");
  HttpRequest head;
  head.method = "POST";
  head.path = "/api/v1/enroll";
  head.authorization = "Bearer " + *twice;
  std::optional<HttpResponse> refused = api_->Admit(head);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(refused->body, r.body);

  auto hour = CreateToken(*store_, Role::kEnroll, now_, TokenLimits{-1, now_ + kHour});
  ASSERT_TRUE(hour.ok());
  EXPECT_EQ(Enroll(*hour, "d").status, 201);
  now_ += kHour;
  r = Enroll(*hour, "e");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"detail":"this enroll token has expired; create a new one",)"
                    R"("error":"token_expired"})");
  // An unlimited token (as before limits existed) keeps working.
  auto plain = CreateToken(*store_, Role::kEnroll, now_);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(Enroll(*plain, "e").status, 201);
  // Only enroll tokens take limits, and only limits that allow something.
  EXPECT_FALSE(CreateToken(*store_, Role::kRead, now_, TokenLimits{1, 0}).ok());
  EXPECT_FALSE(CreateToken(*store_, Role::kEnroll, now_, TokenLimits{0, 0}).ok());
  EXPECT_FALSE(CreateToken(*store_, Role::kEnroll, now_, TokenLimits{-1, now_}).ok());
}

// Two enrollments racing for the last use of a token: exactly one wins.
TEST_F(EnrollLimitsTest, RacingEnrollmentsTakeOneUseEach) {
  for (int round = 0; round < 20; ++round) {
    auto once = CreateToken(*store_, Role::kEnroll, now_, TokenLimits{1, 0});
    ASSERT_TRUE(once.ok());
    std::atomic<int> created{0}, used_up{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        HttpResponse r = Enroll(*once, "r" + std::to_string(round) + "-" + std::to_string(t));
        if (r.status == 201) ++created;
        if (r.status == 401 && r.body.find("token_used_up") != std::string::npos) ++used_up;
      });
    }
    for (std::thread& th : threads) th.join();
    EXPECT_EQ(created.load(), 1) << "round " << round;
    EXPECT_EQ(used_up.load(), 1) << "round " << round;
  }
}

}  // namespace
}  // namespace driftwatch::collector
