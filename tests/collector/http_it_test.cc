// The collector's HTTP front end as a protocol (collector/server.h): what it
// answers byte for byte to requests no well-behaved client sends.
#include "tests/collector/harness.h"
#include "tests/collector/raw_http.h"

namespace driftwatch::collector_it {
namespace {

class CollectorHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(c_.Start()) << ReadAll(c_.log());
    port_ = PortOf(c_.url());
  }
  // The header lines of `response`, lower-cased names.
  static std::string Head(const std::string& response) {
    return response.substr(0, response.find("\r\n\r\n") + 2);
  }
  TempDir dir_;
  Collector c_{dir_};
  int port_ = 0;
};

TEST_F(CollectorHttpTest, PipelinedRequestsAreAnsweredInOrder) {
  const std::string read = c_.Token("read");
  std::string reqs;
  for (const char* path : {"/healthz", "/api/v1/whoami", "/api/v1/nope", "/healthz"}) {
    reqs += std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + read +
            "\r\n\r\n";
  }
  reqs += "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const std::string resp = Exchange(port_, reqs);
  std::vector<int> statuses;
  for (size_t at = resp.find("HTTP/1.1 "); at != std::string::npos;
       at = resp.find("HTTP/1.1 ", at + 1)) {
    statuses.push_back(std::atoi(resp.c_str() + at + 9));
  }
  EXPECT_EQ(statuses, (std::vector<int>{200, 200, 404, 200, 200})) << resp;
  EXPECT_NE(resp.find(R"({"role":"read"})"), std::string::npos) << resp;
}

TEST_F(CollectorHttpTest, TraceOptionsAndConnectAre405WithoutEcho) {
  for (const std::string target : {"/api/v1/drift", "/", "/index.html", "/healthz"}) {
    for (const std::string method : {"TRACE", "OPTIONS"}) {
      const std::string resp =
          Exchange(port_, method + " " + target +
                              " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer secret-to-echo\r\n"
                              "X-Probe: echo-me\r\nConnection: close\r\n\r\n");
      EXPECT_EQ(StatusOf(resp), 405) << method << " " << target << "\n" << resp;
      EXPECT_EQ(resp.find("secret-to-echo"), std::string::npos) << resp;
      EXPECT_EQ(resp.find("echo-me"), std::string::npos) << resp;
      if (target == "/api/v1/drift") {
        EXPECT_NE(resp.find("Allow: GET, HEAD, POST, DELETE\r\n"), std::string::npos) << resp;
      }
    }
  }
  const std::string connect = Exchange(port_, "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(StatusOf(connect), 405);
  EXPECT_NE(connect.find("Allow: GET, HEAD, POST, DELETE\r\n"), std::string::npos) << connect;
}

TEST_F(CollectorHttpTest, EveryMethodOnDashboardPathsCarriesTheSecurityHeaders) {
  for (const std::string method :
       {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND"}) {
    for (const std::string target : {"/", "/index.html", "/no-such-file.js"}) {
      std::string req = method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
      if (method == "POST" || method == "PUT")
        req += "Content-Length: 3\r\n\r\nabc";
      else
        req += "\r\n";
      const std::string head = Head(Exchange(port_, req));
      EXPECT_NE(head.find("Content-Security-Policy: default-src 'none'"), std::string::npos)
          << method << " " << target << "\n"
          << head;
      EXPECT_NE(head.find("X-Content-Type-Options: nosniff"), std::string::npos) << head;
      const int status = StatusOf(head);
      if (method == "GET" || method == "HEAD") {
        EXPECT_EQ(status, target == "/no-such-file.js" ? 404 : 200) << method << " " << target;
      } else {
        EXPECT_EQ(status, 405) << method << " " << target;
      }
    }
  }
}

TEST_F(CollectorHttpTest, HeadAnnouncesTheLengthOfGet) {
  const std::string get =
      Exchange(port_, "GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const std::string head =
      Exchange(port_, "HEAD /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const size_t body = get.size() - get.find("\r\n\r\n") - 4;
  ASSERT_GT(body, 100u);
  EXPECT_NE(head.find("Content-Length: " + std::to_string(body) + "\r\n"), std::string::npos)
      << head;
  EXPECT_EQ(head.size(), head.find("\r\n\r\n") + 4) << "HEAD sent a body";
}

TEST_F(CollectorHttpTest, HealthzFailsOnceTheStoreFileIsGone) {
  if (UsePostgres()) GTEST_SKIP() << "the SQLite file case";
  EXPECT_EQ(RawHttp(port_, "GET", "/healthz", "", "").status, 200);
  ASSERT_EQ(std::rename(c_.db().c_str(), (c_.db() + ".moved").c_str()), 0);
  // The probe runs every second.
  Answer a;
  EXPECT_TRUE(
      WaitFor([&] { return (a = RawHttp(port_, "GET", "/healthz", "", "")).status == 503; }, 5))
      << a.status << " " << a.body;
  EXPECT_NE(a.body.find("store: "), std::string::npos) << a.body;
}

TEST_F(CollectorHttpTest, AnswersGivenEarlyCloseTheConnection) {
  // A body announced with a bad token: 401 before any body byte, and the
  // connection ends there (the unread body is never taken as a request).
  const std::string resp =
      Exchange(port_,
               "POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer bogus\r\n"
               "Content-Length: 30\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(StatusOf(resp), 401) << resp;
  EXPECT_NE(resp.find("Connection: close"), std::string::npos) << resp;
  EXPECT_EQ(resp.find("HTTP/1.1 200"), std::string::npos) << resp;
  // Malformed request lines are 400.
  EXPECT_EQ(StatusOf(Exchange(port_, "GET\r\n\r\n")), 400);
  EXPECT_EQ(StatusOf(Exchange(port_, "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n")), 400);
}

}  // namespace
}  // namespace driftwatch::collector_it
