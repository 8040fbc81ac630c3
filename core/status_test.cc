#include "core/status.h"

#include <cerrno>

#include <gtest/gtest.h>

namespace driftwatch {
namespace {

Result<int> Half(int v) {
  if (v % 2 != 0) return Status::InvalidArgument("odd: " + std::to_string(v));
  return v / 2;
}

Status Chain(int v, int* out) {
  DW_ASSIGN_OR_RETURN(int h, Half(v));
  DW_ASSIGN_OR_RETURN(*out, Half(h));
  return Status::Ok();
}

TEST(StatusTest, ErrnoMapsCodesAndNamesContext) {
  struct Case { int err; StatusCode code; };
  const Case cases[] = {{ENOENT, StatusCode::kNotFound},   {EACCES, StatusCode::kPermissionDenied},
                        {ENOSPC, StatusCode::kResourceExhausted}, {EIO, StatusCode::kIoError},
                        {ECONNREFUSED, StatusCode::kUnavailable}};
  for (const Case& c : cases) {
    Status s = ErrnoStatus("/etc/x", c.err);
    EXPECT_EQ(s.code(), c.code) << c.err;
    EXPECT_EQ(s.message().rfind("/etc/x: ", 0), 0u) << s.message();
  }
}

TEST(StatusTest, ResultPropagates) {
  int out = 0;
  EXPECT_TRUE(Chain(8, &out).ok());
  EXPECT_EQ(out, 2);
  Status s = Chain(6, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "odd: 3");
  EXPECT_EQ(s.WithContext("rules.yaml").message(), "rules.yaml: odd: 3");
}

}  // namespace
}  // namespace driftwatch
