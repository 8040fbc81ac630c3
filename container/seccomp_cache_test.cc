#include "container/seccomp_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/testing/mem_host.h"

namespace driftwatch::container {
namespace {

using testutil::MemHost;

constexpr char kState[] = "/state";

std::string FreshProgram(const std::vector<std::string>& allowed) {
  auto rules = SeccompRules(allowed);
  EXPECT_TRUE(rules.ok());
  auto built = SeccompFilter::Build(*rules);
  EXPECT_TRUE(built.ok()) << built.status().ToString();
  return std::string(built->program());
}

std::string CachePath(const std::vector<std::string>& allowed) {
  return std::string(kState) + "/seccomp/" + SeccompCacheName(*SeccompRules(allowed));
}

TEST(SeccompCacheTest, NameFollowsTheRules) {
  const std::string all = SeccompCacheName(*SeccompRules({}));
  EXPECT_EQ(all, SeccompCacheName(*SeccompRules({})));
  EXPECT_EQ(all.size(), 32u + 4u);
  EXPECT_NE(all, SeccompCacheName(*SeccompRules({"keyring"})));
  EXPECT_NE(SeccompCacheName(*SeccompRules({"keyring"})), SeccompCacheName(*SeccompRules({"bpf"})));
  std::vector<SeccompRule> changed = *SeccompRules({});
  changed[0].err += 1;
  EXPECT_NE(all, SeccompCacheName(changed));
}

TEST(SeccompCacheTest, BuildsOnceAndReadsTheKeptProgram) {
  MemHost host;
  StateDir state(host, kState);
  const std::string fresh = FreshProgram({});
  ASSERT_FALSE(fresh.empty());

  auto first = CachedContainerSeccomp(state, "default", {});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->program(), fresh);
  auto file = host.Contents(CachePath({}));
  ASSERT_TRUE(file.has_value());
  EXPECT_EQ(file->substr(0, fresh.size()), fresh);
  EXPECT_EQ(file->substr(fresh.size()), HashBytes(fresh).Bytes());
  EXPECT_EQ(host.Mode(std::string(kState) + "/seccomp"), 0700u);
  EXPECT_EQ(host.Mode(CachePath({})), 0600u);

  host.ClearLog();
  auto second = CachedContainerSeccomp(state, "default", {});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->program(), fresh);
  EXPECT_TRUE(host.log().empty()) << host.log()[0];  // read, nothing written
}

TEST(SeccompCacheTest, EachSetOfGroupsHasItsOwnProgram) {
  MemHost host;
  StateDir state(host, kState);
  auto relaxed = CachedContainerSeccomp(state, "default", {"keyring"});
  ASSERT_TRUE(relaxed.ok());
  EXPECT_EQ(relaxed->program(), FreshProgram({"keyring"}));
  auto strict = CachedContainerSeccomp(state, "default", {});
  ASSERT_TRUE(strict.ok());
  EXPECT_EQ(strict->program(), FreshProgram({}));
  EXPECT_NE(relaxed->program(), strict->program());
}

TEST(SeccompCacheTest, DamagedFilesAreRebuilt) {
  const std::string fresh = FreshProgram({});
  const std::string good = fresh + HashBytes(fresh).Bytes();
  std::string flipped = good;
  flipped[10] = static_cast<char>(flipped[10] ^ 1);
  const std::vector<std::string> damaged = {
      "",                                                              // empty
      good.substr(0, good.size() - 1),                                 // cut short
      flipped,                                                         // a bit changed
      good.substr(0, 8) + HashBytes(good.substr(0, 8)).Bytes() + "x",  // digest misplaced
      std::string(8, 'a') + HashBytes("").Bytes(),                     // digest of other bytes
  };
  for (const std::string& bytes : damaged) {
    MemHost host;
    StateDir state(host, kState);
    host.PutDir(std::string(kState) + "/seccomp", 0700);
    host.PutFile(CachePath({}), bytes, 0600);
    auto f = CachedContainerSeccomp(state, "default", {});
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_EQ(f->program(), fresh);
    EXPECT_EQ(host.Contents(CachePath({})), good);
  }
}

TEST(SeccompCacheTest, UnconfinedNeedsNoProgram) {
  MemHost host;
  StateDir state(host, kState);
  auto f = CachedContainerSeccomp(state, "unconfined", {});
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->empty());
  EXPECT_FALSE(host.Exists(std::string(kState) + "/seccomp"));
  EXPECT_EQ(CachedContainerSeccomp(state, "unconfined", {"keyring"}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CachedContainerSeccomp(state, "default", {"nope"}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(SeccompCacheTest, ProgramsThatCannotBeBpfAreRefused) {
  EXPECT_EQ(SeccompFilter::FromProgram("").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(SeccompFilter::FromProgram("1234567").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(SeccompFilter::FromProgram(std::string(4097 * 8, '\0')).status().code(),
            StatusCode::kCorruption);
  auto ok = SeccompFilter::FromProgram(std::string(16, '\0'));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->program().size(), 16u);
}

}  // namespace
}  // namespace driftwatch::container
