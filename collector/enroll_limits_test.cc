// Enroll token limits through the API (docs/api.md "Enrollment"): uses,
// expiry, the 401 answers that name why, and racing enrollments.
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include "collector/api_test_fixture.h"

namespace driftwatch::collector {
namespace {

constexpr int64_t kHour = 3600LL * 1000000000;

// The Api fixture, with an enrollment whose whole answer is kept.
class EnrollLimitsTest : public ApiTest {
 protected:
  HttpResponse EnrollWith(const std::string& token, const std::string& host) {
    return Call("POST", "/api/v1/enroll", token, R"({"host":")" + host + R"("})");
  }
};

// An enroll token enrolls as often as its uses allow and until it expires;
// then 401 names the reason, before the body is read (Admit) and after.
TEST_F(EnrollLimitsTest, UsesAndExpiry) {
  auto twice = CreateToken(*store_, Role::kEnroll, now_, TokenLimits{2, now_ + kHour});
  ASSERT_TRUE(twice.ok()) << twice.status().message();
  EXPECT_EQ(EnrollWith(*twice, "a").status, 201);
  EXPECT_EQ(EnrollWith(*twice, "a").status, 409);  // a failed enrollment takes no use
  EXPECT_EQ(EnrollWith(*twice, "b").status, 201);
  HttpResponse r = EnrollWith(*twice, "c");
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
  EXPECT_EQ(EnrollWith(*hour, "d").status, 201);
  now_ += kHour;
  r = EnrollWith(*hour, "e");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"detail":"this enroll token has expired; create a new one",)"
                    R"("error":"token_expired"})");
  // An unlimited token (as before limits existed) keeps working.
  auto plain = CreateToken(*store_, Role::kEnroll, now_);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(EnrollWith(*plain, "e").status, 201);
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
        HttpResponse r = EnrollWith(*once, "r" + std::to_string(round) + "-" + std::to_string(t));
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
