#include "collector/web_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <string>

#include "tests/testing/fault_host.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::collector {
namespace {

using testutil::FaultHost;

using testutil::TempDir;
using testutil::WriteFile;

// A web root `dir/web` with a few assets, and a secret next to it that must
// never be served.
class WebFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "web";
    WriteFile(root_ + "/index.html", "<!doctype html><title>dw</title>");
    WriteFile(root_ + "/js/app.js", "export const x = 1;\n");
    WriteFile(root_ + "/css/site.css", "body{}");
    WriteFile(root_ + "/.env", "TOKEN=1");
    WriteFile(root_ + "/notes.md", "# notes");
    WriteFile(dir_ / "secret.txt", "top secret");
    WriteFile(dir_ / "outside/evil.js", "alert(1)");
  }

  WebResponse Get(const std::string& path, const std::string& method = "GET") {
    return ServeWebFile(DefaultHost(), root_, method, path);
  }

  TempDir dir_;
  std::string root_;
};

std::map<std::string, std::string> HeaderMap(const WebResponse& r) {
  return {r.headers.begin(), r.headers.end()};
}

const std::map<std::string, std::string> kSecurityHeaders = {
    {"Content-Security-Policy",
     "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
     "form-action 'self'; frame-ancestors 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
    {"X-Frame-Options", "DENY"},
    {"Cache-Control", "no-cache"},
};

TEST_F(WebFilesTest, RootServesIndexWithSecurityHeaders) {
  WebResponse r = Get("/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(r.body, "<!doctype html><title>dw</title>");
  EXPECT_EQ(HeaderMap(r), kSecurityHeaders);
  EXPECT_EQ(Get("/index.html").body, r.body);
}

TEST_F(WebFilesTest, ServesNestedAssetsWithTheirTypes) {
  WebResponse js = Get("/js/app.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(js.body, "export const x = 1;\n");
  WebResponse css = Get("/css/site.css");
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(css.content_type, "text/css; charset=utf-8");
  EXPECT_EQ(css.body, "body{}");
}

TEST_F(WebFilesTest, HeadHasHeadersAndNoBody) {
  WebResponse r = Get("/js/app.js", "HEAD");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(HeaderMap(r), kSecurityHeaders);
}

TEST_F(WebFilesTest, OtherMethodsAre405WithHeaders) {
  for (const char* m : {"POST", "PUT", "DELETE", "OPTIONS"}) {
    WebResponse r = Get("/index.html", m);
    EXPECT_EQ(r.status, 405) << m;
    EXPECT_EQ(r.body, std::string("method ") + m + " not allowed on the dashboard\n");
    EXPECT_EQ(HeaderMap(r), kSecurityHeaders) << m;
  }
}

TEST_F(WebFilesTest, TraversalIsRefused) {
  // The server percent-decodes, so "%2e%2e" arrives as ".."; the raw form is
  // a plain (missing) name. Absolute paths are looked up below the root.
  for (const char* p :
       {"/../secret.txt", "/js/../../secret.txt", "/js/../index.html", "/./index.html",
        "/%2e%2e/secret.txt", "/..", "/../outside/evil.js", "//secret.txt", "///etc/passwd",
        "/etc/passwd", "/js/", "/js//app.js", "/..\\secret.txt", "\\..\\secret.txt", "secret.txt",
        "", "/.env", "/js/.", "/js/.."}) {
    WebResponse r = Get(p);
    EXPECT_EQ(r.status, 404) << p;
    EXPECT_EQ(r.body, "not found\n") << p;
    EXPECT_EQ(HeaderMap(r), kSecurityHeaders) << p;
  }
  EXPECT_EQ(Get(std::string("/index.html\0/../../secret.txt", 30)).status, 404);
  EXPECT_EQ(Get("/" + std::string(kMaxWebPathBytes, 'a') + ".js").status, 404);
}

TEST_F(WebFilesTest, SymlinksAreNeverFollowed) {
  ASSERT_EQ(symlink((dir_ / "secret.txt").c_str(), (root_ + "/secret.txt").c_str()), 0);
  ASSERT_EQ(symlink((dir_ / "outside").c_str(), (root_ + "/lib").c_str()), 0);
  ASSERT_EQ(symlink("../secret.txt", (root_ + "/rel.txt").c_str()), 0);
  // Even a link that stays inside the root is refused: no link is followed.
  ASSERT_EQ(symlink("index.html", (root_ + "/home.html").c_str()), 0);
  for (const char* p : {"/secret.txt", "/lib/evil.js", "/rel.txt", "/home.html"}) {
    EXPECT_EQ(Get(p).status, 404) << p;
  }
}

TEST_F(WebFilesTest, OnlyKnownTypesAndRegularFiles) {
  EXPECT_EQ(Get("/notes.md").status, 404);
  EXPECT_EQ(Get("/js").status, 404);
  ASSERT_EQ(mkfifo((root_ + "/pipe.js").c_str(), 0644), 0);
  EXPECT_EQ(Get("/pipe.js").status, 404);  // returns at once, not blocked on the FIFO
  ASSERT_EQ(mkdir((root_ + "/dir.js").c_str(), 0755), 0);
  EXPECT_EQ(Get("/dir.js").status, 404);
}

TEST_F(WebFilesTest, FilesOverTheCapAreRefused) {
  WriteFile(root_ + "/big.js", std::string(kMaxWebFileBytes + 1, 'x'));
  EXPECT_EQ(Get("/big.js").status, 404);
  WriteFile(root_ + "/edge.js", std::string(kMaxWebFileBytes, 'x'));
  WebResponse r = Get("/edge.js");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), kMaxWebFileBytes);
}

TEST_F(WebFilesTest, MissingRootIs404ForEveryPath) {
  for (const std::string& root : {dir_ / "nope", std::string()}) {
    for (const char* p : {"/", "/js/app.js"}) {
      WebResponse r = ServeWebFile(DefaultHost(), root, "GET", p);
      EXPECT_EQ(r.status, 404) << root << p;
      EXPECT_EQ(HeaderMap(r), kSecurityHeaders);
    }
  }
}

TEST_F(WebFilesTest, ReadErrorIs500AndOpenErrorIs404) {
  FaultHost host(DefaultHost());
  host.FailOn(FaultHost::Op::kRead, "app.js", EIO);
  host.FailOn(FaultHost::Op::kOpen, "site.css", EACCES);
  WebResponse r = ServeWebFile(host, root_, "GET", "/js/app.js");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "cannot read dashboard file\n");
  EXPECT_EQ(ServeWebFile(host, root_, "GET", "/css/site.css").status, 404);
  EXPECT_EQ(ServeWebFile(host, root_, "GET", "/index.html").status, 200);
  EXPECT_EQ(host.fired().size(), 2u);
}

TEST(WebContentTypeTest, ByExtension) {
  const std::map<std::string, std::string> cases = {
      {"index.html", "text/html; charset=utf-8"},
      {"/js/app.js", "text/javascript; charset=utf-8"},
      {"m.mjs", "text/javascript; charset=utf-8"},
      {"a/b.css", "text/css; charset=utf-8"},
      {"logo.svg", "image/svg+xml"},
      {"shot.png", "image/png"},
      {"favicon.ico", "image/x-icon"},
      {"manifest.json", "application/json"},
      {"robots.txt", "text/plain; charset=utf-8"},
      {"f.woff2", "font/woff2"},
      {"README.md", ""},
      {"Makefile", ""},
      {".html", ""},
      {"dir.js/file", ""},
      {"x.HTML", ""},
  };
  for (const auto& [path, type] : cases) EXPECT_EQ(WebContentType(path), type) << path;
}

}  // namespace
}  // namespace driftwatch::collector
