#include "core/json_fields.h"

#include <gtest/gtest.h>

namespace driftwatch::json_fields {
namespace {

using web::json::value;

value Parse(const char* text) { return value::parse(text); }

TEST(JsonFieldsTest, GetStringNamesTheField) {
  const value v = Parse(R"({"a":"x","n":1,"z":null})");
  std::string s = "kept";
  EXPECT_TRUE(GetString(v, "missing", "", false, &s).ok());
  EXPECT_TRUE(GetString(v, "z", "", false, &s).ok());
  EXPECT_EQ(s, "kept");
  EXPECT_TRUE(GetString(v, "a", "", true, &s).ok());
  EXPECT_EQ(s, "x");
  EXPECT_EQ(GetString(v, "n", "", false, &s).message(), "n: expected a string");
  EXPECT_EQ(GetString(v, "n", "baseline", false, &s).message(), "baseline.n: expected a string");
  EXPECT_EQ(GetString(v, "missing", "b", true, &s).message(), "b.missing: missing");
}

TEST(JsonFieldsTest, GetBool) {
  const value v = Parse(R"({"t":true,"f":false,"s":"true","z":null})");
  bool b = true;
  EXPECT_TRUE(GetBool(v, "f", "", true, &b).ok());
  EXPECT_FALSE(b);
  EXPECT_TRUE(GetBool(v, "t", "", true, &b).ok());
  EXPECT_TRUE(b);
  EXPECT_TRUE(GetBool(v, "z", "", false, &b).ok());
  EXPECT_TRUE(b);
  const Status wrong = GetBool(v, "s", "", true, &b);
  EXPECT_EQ(wrong.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(wrong.message(), "s: expected a boolean");
  EXPECT_EQ(GetBool(v, "ok", "", true, &b).message(), "ok: missing");
}

TEST(JsonFieldsTest, GetOptionalTime) {
  const value v =
      Parse(R"({"t":"2026-11-01T00:00:00.000000007Z","e":"","bad":"yesterday","n":5,"z":null})");
  int64_t ns = 42;
  for (const char* absent : {"missing", "e", "z"}) {
    EXPECT_TRUE(GetOptionalTime(v, absent, "", &ns).ok()) << absent;
    EXPECT_EQ(ns, 42) << absent;
  }
  EXPECT_TRUE(GetOptionalTime(v, "t", "", &ns).ok());
  EXPECT_EQ(ns, 1793491200000000007);
  EXPECT_EQ(GetOptionalTime(v, "n", "b", &ns).message(), "b.n: expected a string");
  const Status bad = GetOptionalTime(v, "bad", "b", &ns);
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message(),
            "b.bad: expected an RFC 3339 time such as 2026-11-01T00:00:00Z, got 'yesterday'");
  EXPECT_EQ(ns, 1793491200000000007);
}

}  // namespace
}  // namespace driftwatch::json_fields
