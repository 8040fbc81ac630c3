#include "collector/log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace driftwatch::collector {
namespace {

// 2026-12-05T01:02:03.456Z
constexpr int64_t kT = 1796432523LL * 1000000000LL + 456000000LL;

TEST(FormatLogLineTest, TextAndJson) {
  struct Case {
    LogFormat format;
    LogLevel level;
    std::string msg;
    std::vector<LogField> fields;
    std::string want;
  };
  const std::vector<Case> cases = {
      {LogFormat::kText,
       LogLevel::kInfo,
       "access",
       {{"client", "127.0.0.1"}, {"status", int64_t{200}}, {"duration_ms", 1.5}},
       "2026-12-05T01:02:03.456Z info access client=127.0.0.1 status=200 duration_ms=1.500\n"},
      {LogFormat::kJson,
       LogLevel::kInfo,
       "access",
       {{"client", "127.0.0.1"}, {"status", int64_t{200}}, {"duration_ms", 1.5}},
       R"({"time":"2026-12-05T01:02:03.456Z","level":"info","msg":"access","client":"127.0.0.1",)"
       R"("status":200,"duration_ms":1.500})"
       "\n"},
      // Spaces, quotes, '=' and newlines are quoted and escaped: one line.
      {LogFormat::kText,
       LogLevel::kWarn,
       "reloaded /etc/c.yaml",
       {{"path", "/a b\"c=d\nx"}, {"empty", ""}},
       "2026-12-05T01:02:03.456Z warn \"reloaded /etc/c.yaml\" path=\"/a b\\\"c=d\\nx\" "
       "empty=\"\"\n"},
      {LogFormat::kJson,
       LogLevel::kError,
       "a\"b\\c",
       {{"path", "/x\ny\x01"}},
       R"({"time":"2026-12-05T01:02:03.456Z","level":"error","msg":"a\"b\\c","path":"/x\ny\u0001"})"
       "\n"},
      // Valid UTF-8 is kept; other bytes are escaped (JSON stays valid UTF-8).
      {LogFormat::kText,
       LogLevel::kDebug,
       "m",
       {{"p", "/caf\xc3\xa9"}, {"q", "/\xff"}},
       "2026-12-05T01:02:03.456Z debug m p=\"/caf\xc3\xa9\" q=\"/\\xff\"\n"},
      {LogFormat::kJson,
       LogLevel::kDebug,
       "m",
       {{"p", "/caf\xc3\xa9"}, {"q", "/\xff"}},
       "{\"time\":\"2026-12-05T01:02:03.456Z\",\"level\":\"debug\",\"msg\":\"m\",\"p\":\"/caf"
       "\xc3\xa9\",\"q\":\"/\\u00ff\"}\n"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FormatLogLine(c.format, kT, c.level, c.msg, c.fields), c.want) << c.want;
  }
}

TEST(FormatLogLineTest, ParsesNamesAndSaysWhatItExpects) {
  EXPECT_EQ(*ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(*ParseLogLevel("warn"), LogLevel::kWarn);
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(ParseLogLevel("verbose").status().message(),
            "log level 'verbose': expected debug, info, warn or error");
  EXPECT_EQ(ParseLogFormat("xml").status().message(), "log format 'xml': expected text or json");
}

TEST(LoggerTest, FiltersByLevelAndFollowsConfigure) {
  std::vector<std::string> lines;
  Logger log([&](std::string_view l) { lines.emplace_back(l); }, [] { return kT; });
  log.Log(LogLevel::kDebug, "hidden");
  log.Log(LogLevel::kInfo, "shown");
  log.Configure(LogFormat::kJson, LogLevel::kWarn);
  log.Log(LogLevel::kInfo, "hidden");
  log.Log(LogLevel::kError, "bad", {{"why", "disk"}});
  EXPECT_EQ(lines,
            (std::vector<std::string>{
                "2026-12-05T01:02:03.456Z info shown\n",
                R"({"time":"2026-12-05T01:02:03.456Z","level":"error","msg":"bad","why":"disk"})"
                "\n"}));
}

}  // namespace
}  // namespace driftwatch::collector
