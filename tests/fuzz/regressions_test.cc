// Replays every fuzz input kept in the source tree through the same target
// functions the fuzzers run: the seed corpora (tests/fuzz/corpus/<target>/)
// and the inputs that once crashed or broke a property
// (tests/fuzz/regressions/<target>/). Each must come back with every property
// holding; a crash fails the whole binary, which is the point.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "collector/api_json.h"
#include "core/drift_json.h"
#include "tests/fuzz/targets.h"

namespace driftwatch::fuzz {
namespace {

namespace fs = std::filesystem;

std::string FuzzDir() { return DW_FUZZ_DIR; }

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Regular files directly in dir, sorted; none when dir does not exist.
std::vector<fs::path> FilesIn(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file()) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class FuzzInputs : public ::testing::TestWithParam<Target> {};

TEST_P(FuzzInputs, SeedCorpusExistsAndPasses) {
  const Target& t = GetParam();
  std::vector<fs::path> files = FilesIn(fs::path(FuzzDir()) / "corpus" / t.name);
  ASSERT_GE(files.size(), 2u) << "seed corpus of " << t.name << " is missing";
  for (const fs::path& f : files) {
    EXPECT_EQ(t.run(ReadAll(f)), "") << f;
  }
}

TEST_P(FuzzInputs, RegressionInputsPass) {
  const Target& t = GetParam();
  for (const fs::path& f : FilesIn(fs::path(FuzzDir()) / "regressions" / t.name)) {
    EXPECT_EQ(t.run(ReadAll(f)), "") << f;
  }
}

TEST_P(FuzzInputs, EmptyAndTinyInputsPass) {
  const Target& t = GetParam();
  for (std::string_view in : {std::string_view(""), std::string_view("\n"),
                              std::string_view("\0", 1), std::string_view("\xff\xff\xff\xff")}) {
    EXPECT_EQ(t.run(in), "") << "input of " << in.size() << " bytes";
  }
}

INSTANTIATE_TEST_SUITE_P(AllTargets, FuzzInputs, ::testing::ValuesIn(AllTargets()),
                         [](const ::testing::TestParamInfo<Target>& info) {
                           return std::string(info.param.name);
                         });

// Every regression directory belongs to a known target (a typo would make
// its inputs silently unused).
TEST(FuzzLayout, RegressionDirectoriesNameKnownTargets) {
  std::vector<std::string> names;
  for (const Target& t : AllTargets()) names.push_back(t.name);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(FuzzDir()) / "regressions", ec)) {
    EXPECT_NE(std::find(names.begin(), names.end(), e.path().filename().string()), names.end())
        << e.path();
  }
}

// Found by the report_json fuzzer: times outside the int64 nanosecond range
// (before 1677-09-21, after 2262-04-11) overflowed in ParseRfc3339.
TEST(FuzzRegressions, TimesOutsideTheNanosecondRangeAreRefused) {
  for (const char* t : {"4052-01-01T00:00:00.5+01:00", "9999-12-31T23:59:59Z",
                        "1000-01-01T00:00:00Z", "1677-09-21T00:00:00Z"}) {
    auto r = ParseRfc3339(t);
    EXPECT_FALSE(r.ok()) << t;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << t;
  }
  auto last = ParseRfc3339("2262-04-11T23:47:15Z");
  ASSERT_TRUE(last.ok()) << last.status().message();
  EXPECT_EQ(*last, 9223372035000000000);
  auto first = ParseRfc3339("1677-09-21T00:12:45Z");
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(*first, -9223372035000000000);
}

// Found by the api_query fuzzer: a cursor of 16 hex digits overflowed int64
// while it was decoded (undefined behaviour) before the sign check. Cursors
// now carry a detection time too; both numbers are checked.
TEST(FuzzRegressions, CursorsBeyondInt64AreRefused) {
  for (const char* c :
       {"c2.dn.0000000000000000.cac3c3a3c3ac33c3", "c2.dn.0000000000000000.8000000000000000",
        "c2.ap.ffffffffffffffff.ffffffffffffffff", "c2.dn.000000000000000.1",
        "c2.dn.00000000000000000.1", "c2.xn.0000000000000000.1", "c2.dn.0000000000000000.",
        "c2.dn.000000000000000g.1", "c1.7fffffffffffffff"}) {
    auto r = collector::DecodeCursor(c);
    EXPECT_FALSE(r.ok()) << c;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c;
  }
  auto max = collector::DecodeCursor("c2.ap.ffffffffffffffff.7fffffffffffffff");
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->key.id, INT64_MAX);
  EXPECT_EQ(max->key.detected_ns, INT64_MAX);
  EXPECT_FALSE(max->newest_first);
  EXPECT_TRUE(max->before);
  for (const collector::EventCursor& c :
       {collector::EventCursor{true, false, {12345, 678}},
        collector::EventCursor{false, true, {-9223372035000000000, 1}},
        collector::EventCursor{true, true, {INT64_MIN, INT64_MAX}}}) {
    auto back = collector::DecodeCursor(collector::EncodeCursor(c));
    ASSERT_TRUE(back.ok()) << collector::EncodeCursor(c);
    EXPECT_EQ(back->newest_first, c.newest_first);
    EXPECT_EQ(back->before, c.before);
    EXPECT_EQ(back->key.detected_ns, c.key.detected_ns);
    EXPECT_EQ(back->key.id, c.key.id);
  }
}

}  // namespace
}  // namespace driftwatch::fuzz
