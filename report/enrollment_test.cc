#include "report/enrollment.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "tests/testing/fault_host.h"
#include "tests/testing/fifo.h"

namespace driftwatch::report {
namespace {

TEST(EnrollFileTest, ParsesWhatPackageAgentWrites) {
  auto e = ParseEnrollFile(R"(version: 1
collector: https://collector.example:8443
group: web
ca_file: /etc/driftwatch/enroll-ca.pem
token_file: /etc/driftwatch/enroll.token
)",
                           "enroll.yaml");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->collector, "https://collector.example:8443");
  EXPECT_EQ(e->group, "web");
  EXPECT_EQ(e->ca_file, "/etc/driftwatch/enroll-ca.pem");
  EXPECT_EQ(e->token_file, "/etc/driftwatch/enroll.token");

  auto minimal = ParseEnrollFile("collector: http://127.0.0.1:8080\ntoken_file: /t\n", "e.yaml");
  ASSERT_TRUE(minimal.ok()) << minimal.status().message();
  EXPECT_EQ(minimal->group, "");
  EXPECT_EQ(minimal->ca_file, "");
}

TEST(EnrollFileTest, ErrorsNameFileLineColumn) {
  struct Case {
    const char* yaml;
    const char* message;
  };
  const Case cases[] = {
      {"", "e.yaml: empty; needs collector and token_file"},
      {"version: 2\n",
       "e.yaml:1:10: enroll file version 2 is not supported (this build knows version 1)"},
      {"collector: http://c\ntoken_file: /t\ntoken: abc\n", "e.yaml:3:1: unknown key 'token'"},
      {"collector: c.example\n", "e.yaml:1:12: collector: expected an http(s) URL"},
      {"collector: http://c\n", "e.yaml: missing 'token_file'"},
      {"token_file: /t\n", "e.yaml: missing 'collector'"},
      {"collector: http://c\ngroup: [a]\n", "e.yaml:2:8: group: expected a scalar"},
      {"collector: [http://c\n", "e.yaml:2:1: end of sequence flow not found"},
      {"[]\n", "e.yaml:1:1: expected a mapping"},
  };
  for (const Case& c : cases) {
    auto r = ParseEnrollFile(c.yaml, "e.yaml");
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.status().message(), c.message) << c.yaml;
  }
}

TEST(EnrollFileTest, MissingFileIsNotFound) {
  auto r = LoadEnrollFile(DefaultHost(), "/nonexistent-driftwatch-dir/enroll.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST(TokenTest, FirstLineWithoutTrailingBlanks) {
  const std::pair<const char*, const char*> cases[] = {
      {"dwe_abc\n", "dwe_abc"},
      {"dwe_abc", "dwe_abc"},
      {"dwe_abc \t\r\nsecond line\n", "dwe_abc"},
  };
  for (const auto& [text, token] : cases) {
    auto t = TokenFromText(text, "f");
    ASSERT_TRUE(t.ok()) << text;
    EXPECT_EQ(*t, token);
  }
  for (const char* empty : {"", "\n", "  \nsecret\n"}) {
    auto t = TokenFromText(empty, "/etc/driftwatch/enroll.token");
    ASSERT_FALSE(t.ok()) << empty;
    EXPECT_EQ(t.status().message(), "/etc/driftwatch/enroll.token: no token");
  }
}

TEST(TokenTest, TokenFileIsARegularFileOfAtMost4KiB) {
  // A directory or device is refused without reading it.
  for (const char* path : {"/", "/dev/zero"}) {
    auto t = ReadTokenFile(DefaultHost(), path);
    ASSERT_FALSE(t.ok()) << path;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument) << path;
  }
  auto missing = ReadTokenFile(DefaultHost(), "/nonexistent-driftwatch-dir/enroll.token");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST(TokenTest, TokenFileOthersMayReadIsRefused) {
  char dir[] = "/tmp/dw-token-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/enroll.token";
  ASSERT_TRUE(DefaultHost().WriteFileAtomic(path, "dwe_secret\n", 0644).ok());
  auto open = ReadTokenFile(DefaultHost(), path);
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(open.status().message(), path +
                                         ": mode 0644 lets other users read the token; refusing "
                                         "to use it. Fix: chmod 600 " +
                                         path);
  EXPECT_EQ(open.status().message().find("dwe_secret"), std::string::npos);
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  auto ok = ReadTokenFile(DefaultHost(), path);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(*ok, "dwe_secret");
  unlink(path.c_str());
  rmdir(dir);
}

// A file of `mode` holding `text`, made beside `path` and renamed over it.
void PutToken(const std::string& path, const std::string& text, mode_t mode) {
  ASSERT_TRUE(DefaultHost().WriteFileAtomic(path, text, mode).ok()) << path;
}

TEST(TokenTest, ModeCheckedIsTheModeOfTheFileRead) {
  char dir[] = "/tmp/dw-token-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/enroll.token";
  const std::string spare = std::string(dir) + "/spare";
  // Another file renamed over the token file once it is being read, at
  // whichever step comes after the open (a stat by path or the read).
  auto swap_in = [&](testutil::FaultHost& host) {
    for (auto op : {testutil::FaultHost::Op::kStat, testutil::FaultHost::Op::kRead}) {
      host.BeforeOnce(op, "enroll.token", [&] { rename(spare.c_str(), path.c_str()); });
    }
  };

  // Open to others when opened: refused, though a private file is in its
  // place by the time a stat by path would look.
  PutToken(path, "dwe_open\n", 0644);
  PutToken(spare, "dwe_private\n", 0600);
  testutil::FaultHost open_first(DefaultHost());
  swap_in(open_first);
  auto refused = ReadTokenFile(open_first, path);
  ASSERT_FALSE(refused.ok()) << *refused;
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.status().message(), path +
                                            ": mode 0644 lets other users read the token; "
                                            "refusing to use it. Fix: chmod 600 " +
                                            path);

  // Private when opened: the token read is that file's, not the one renamed
  // over it afterwards.
  unlink(spare.c_str());
  PutToken(path, "dwe_private\n", 0600);
  PutToken(spare, "dwe_open\n", 0644);
  testutil::FaultHost private_first(DefaultHost());
  swap_in(private_first);
  auto read = ReadTokenFile(private_first, path);
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(*read, "dwe_private");

  unlink(path.c_str());
  unlink(spare.c_str());
  rmdir(dir);
}

TEST(TokenTest, FifoAndOversizedFileAreRefused) {
  char dir[] = "/tmp/dw-token-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string fifo = std::string(dir) + "/fifo.token";
  ASSERT_TRUE(testutil::MakeFifo(fifo));
  Result<std::string> t = std::string();
  ASSERT_TRUE(testutil::ReturnsWithin(fifo, std::chrono::seconds(5),
                                      [&] { t = ReadTokenFile(DefaultHost(), fifo); }));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(t.status().message(), "token file: " + fifo + ": not a regular file (a FIFO)");

  const std::string big = std::string(dir) + "/big.token";
  PutToken(big, std::string(kMaxTokenFileBytes + 1, 'a'), 0600);
  auto large = ReadTokenFile(DefaultHost(), big);
  ASSERT_FALSE(large.ok());
  EXPECT_EQ(large.status().code(), StatusCode::kResourceExhausted);
  PutToken(big, "dwe_" + std::string(kMaxTokenFileBytes - 5, 'a') + "\n", 0600);
  auto largest = ReadTokenFile(DefaultHost(), big);
  ASSERT_TRUE(largest.ok()) << largest.status().message();
  EXPECT_EQ(largest->size(), kMaxTokenFileBytes - 1);

  unlink(fifo.c_str());
  unlink(big.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace driftwatch::report
