#include "core/base64.h"

#include <gtest/gtest.h>

namespace driftwatch {
namespace {

TEST(Base64Test, RoundTripsAndIsStrict) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("\xff\xfe"), "//4=");
  for (const std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto back = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(back.ok()) << s;
    EXPECT_EQ(*back, s);
  }
  EXPECT_FALSE(Base64Decode("Zg=").ok());   // length
  EXPECT_FALSE(Base64Decode("Zh==").ok());  // bits under the padding
  EXPECT_FALSE(Base64Decode("Zm9=").ok());  // bits under the padding
  EXPECT_FALSE(Base64Decode("Z===").ok());  // too much padding
  EXPECT_FALSE(Base64Decode("Zg==Zg==").ok());
  EXPECT_FALSE(Base64Decode("Zm 9").ok());
  EXPECT_FALSE(Base64Decode("Zm9v\n").ok());
  // apk checksums (packages/apk.cc) use the whole alphabet.
  auto all = Base64Decode("+/+/");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, "\xfb\xff\xbf");
  EXPECT_EQ(Base64Decode("Zg=a").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace driftwatch
