// Enroll token limits on both FleetStore backends (store.h EnrollHost):
// uses taken in the enrolling transaction, expiry, and racing enrollments.
#include <atomic>
#include <thread>
#include <vector>

#include "tests/pg/both_stores.h"

namespace driftwatch::collector {
namespace {

class StoreTokensTest : public BothStoresTest {};

INSTANTIATE_TEST_SUITE_P(Stores, StoreTokensTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

TEST_P(StoreTokensTest, EnrollmentTakesOneUseUntilNoneOrExpired) {
  ASSERT_TRUE(store_->AddToken("twice", Role::kEnroll, "", 1, TokenLimits{2, 100}).ok());
  auto info = store_->LookupToken("twice");
  ASSERT_TRUE(info.ok() && info->has_value());
  EXPECT_EQ((*info)->limits.uses_left, 2);
  EXPECT_EQ((*info)->limits.expires_ns, 100);

  ASSERT_TRUE(store_->EnrollHost("a", "", "1", "sha-a", 10, "twice").ok());
  // Already enrolled: refused, and the use is not taken.
  EXPECT_EQ(store_->EnrollHost("a", "", "1", "sha-a2", 11, "twice").code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ((*store_->LookupToken("twice"))->limits.uses_left, 1);
  ASSERT_TRUE(store_->EnrollHost("b", "", "1", "sha-b", 12, "twice").ok());
  EXPECT_EQ((*store_->LookupToken("twice"))->limits.uses_left, 0);
  Status used_up = store_->EnrollHost("c", "", "1", "sha-c", 13, "twice");
  EXPECT_EQ(used_up.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(used_up.message(), "the enroll token has no enrollments left");
  EXPECT_EQ(store_->GetHost("c").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(store_->LookupToken("sha-c")->has_value());

  ASSERT_TRUE(store_->AddToken("until100", Role::kEnroll, "", 1, TokenLimits{-1, 100}).ok());
  ASSERT_TRUE(store_->EnrollHost("d", "", "1", "sha-d", 99, "until100").ok());
  EXPECT_EQ((*store_->LookupToken("until100"))->limits.uses_left, -1);
  Status expired = store_->EnrollHost("e", "", "1", "sha-e", 100, "until100");
  EXPECT_EQ(expired.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(expired.message().rfind("the enroll token expired at 1970-01-01T00:00:00", 0), 0u)
      << expired.message();
  EXPECT_EQ(store_->EnrollHost("e", "", "1", "sha-e", 100, "nope").code(),
            StatusCode::kPermissionDenied);
  // An agent's token enrolls nothing.
  EXPECT_EQ(store_->EnrollHost("e", "", "1", "sha-e", 50, "sha-a").code(),
            StatusCode::kPermissionDenied);
}

TEST_P(StoreTokensTest, RacingEnrollmentsForTheLastUseLetExactlyOneThrough) {
  for (int round = 0; round < 10; ++round) {
    const std::string token = "once" + std::to_string(round);
    ASSERT_TRUE(store_->AddToken(token, Role::kEnroll, "", 1, TokenLimits{1, 0}).ok());
    std::atomic<int> ok{0}, denied{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        const std::string host = "h" + std::to_string(round) + "-" + std::to_string(t);
        Status s = store_->EnrollHost(host, "", "1", "sha-" + host, 5, token);
        if (s.ok()) ++ok;
        if (s.code() == StatusCode::kPermissionDenied) ++denied;
      });
    }
    for (std::thread& th : threads) th.join();
    EXPECT_EQ(ok.load(), 1) << GetParam() << " round " << round;
    EXPECT_EQ(denied.load(), 3) << GetParam() << " round " << round;
  }
  auto hosts = store_->ListHosts();
  ASSERT_TRUE(hosts.ok());
  EXPECT_EQ(hosts->size(), 10u);
}

}  // namespace
}  // namespace driftwatch::collector
