// End to end: content kept by a baseline is diffed by `check --diff`,
// `check --format json`, `history --diff` and `driftwatch diff` exactly as
// GNU `diff -u` diffs the same two files; redacted content never shows.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/e2e/e2e_env.h"
#include "tests/testing/run.h"
#include "tests/testing/temp_tree.h"

// After gtest: cpprestsdk defines a U() macro that breaks gtest templates.
#include <cpprest/json.h>

namespace driftwatch {
namespace {

namespace tu = driftwatch::testutil;
using e2e::Bin;
using ::testing::HasSubstr;
using ::testing::Not;
using tu::Quote;
using tu::TempDir;
using tu::WriteFile;

constexpr char kMarker[] = "PLANTED-MARKER-5b1e07c3";

constexpr char kRules[] = R"(version: 1
rules:
  - path: /etc/**
    check: [content, perm, uid, gid]
    severity: high
    content: keep
  - path: /etc/**/*.key
    content: redact
  - path: /opt/**
    check: [content]
)";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Config(int changed_from) {
  std::string text;
  for (int i = 1; i <= 30; ++i) {
    std::string line = "option_" + std::to_string(i) + " = " + std::to_string(i * 7);
    if (changed_from > 0 && (i == 4 || i == 5 || i == 22)) line += " # changed";
    text += line + "\n";
  }
  return text;
}

class ContentDiffE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "root";
    WriteFile(dir_ / "rules.yaml", kRules);
    WriteFile(root_ + "/etc/app/main.conf", Config(0));
    WriteFile(root_ + "/etc/app/old.conf", "going\naway\n");
    WriteFile(root_ + "/etc/app/api.key", std::string("key = ") + kMarker + "-1\n");
    WriteFile(root_ + "/etc/app/blob.bin", std::string("\x7f"
                                                       "ELF\0\0\1\2",
                                                       8));
    WriteFile(root_ + "/opt/tool.conf", "a = 1\n");
    tu::RunResult r = Dw("baseline create --quiet");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    // The copies `diff -u` compares.
    WriteFile(dir_ / "before/main.conf", Config(0));
    WriteFile(dir_ / "before/old.conf", "going\naway\n");
    WriteFile(dir_ / "before/empty", "");
  }

  // Three lines of main.conf change (two hunks), the key, the binary file,
  // one file goes and one comes.
  void Mutate() {
    WriteFile(root_ + "/etc/app/main.conf", Config(1));
    WriteFile(root_ + "/etc/app/api.key", std::string("key = ") + kMarker + "-2 rotated\n");
    WriteFile(root_ + "/etc/app/blob.bin", std::string("\x7f"
                                                       "ELF\0\0\1\3",
                                                       8));
    std::filesystem::remove(root_ + "/etc/app/old.conf");
    WriteFile(root_ + "/etc/app/new.conf", "fresh = yes\nmore = 2\n");
    WriteFile(root_ + "/opt/tool.conf", "a = 2\n");
  }

  tu::RunResult Dw(const std::string& args) {
    return tu::Run(Quote(Bin()) + " " + args + " --db " + Quote(dir_ / "agent.db") + " --root " +
                   Quote(root_) + " --rules " + Quote(dir_ / "rules.yaml") + " 2>" +
                   Quote(dir_ / "stderr"));
  }
  // A command without --root and --rules (history).
  tu::RunResult DwDb(const std::string& args) {
    return tu::Run(Quote(Bin()) + " " + args + " --db " + Quote(dir_ / "agent.db") + " 2>" +
                   Quote(dir_ / "stderr"));
  }
  std::string Stderr() { return ReadAll(dir_ / "stderr"); }

  // What GNU diff prints for the two files with these labels.
  std::string GnuDiff(const std::string& old_label, const std::string& new_label,
                      const std::string& old_file, const std::string& new_file) {
    tu::RunResult r = tu::Run("/usr/bin/diff -u --label " + Quote(old_label) + " --label " +
                              Quote(new_label) + " " + Quote(old_file) + " " + Quote(new_file));
    EXPECT_EQ(r.exit_code, 1) << old_file << " " << new_file;
    return r.out;
  }

  web::json::value EventAt(const web::json::value& events, const std::string& path) {
    for (const auto& e : events.as_array()) {
      if (e.at("path").as_string() == path) return e;
    }
    ADD_FAILURE() << "no event at " << path;
    return web::json::value::object();
  }

  TempDir dir_;
  std::string root_;
};

// The lines of `out` after the event line starting with `head`, up to the
// next event line or the summary.
std::string BlockAfter(const std::string& out, const std::string& head) {
  size_t at = out.find("\n" + head);
  if (at == std::string::npos)
    at = out.rfind(head, 0) == 0 ? 0 : std::string::npos;
  else
    ++at;
  if (at == std::string::npos) return "<no line " + head + ">";
  size_t start = out.find('\n', at) + 1;
  size_t end = start;
  while (end < out.size()) {
    const char c = out[end];
    const bool next_event =
        (c == 'A' || c == 'M' || c == 'D') && out[end + 1] == ' ' && out[end + 2] == '/';
    if (next_event || out.compare(end, 10, "baseline '") == 0) break;
    end = out.find('\n', end) + 1;
  }
  return out.substr(start, end - start);
}

TEST_F(ContentDiffE2e, CheckDiffPrintsWhatDiffUPrints) {
  Mutate();
  const std::string main_diff = GnuDiff("/etc/app/main.conf", "/etc/app/main.conf",
                                        dir_ / "before/main.conf", root_ + "/etc/app/main.conf");
  ASSERT_THAT(main_diff, HasSubstr("@@ -19,7 +19,7 @@"));  // two hunks
  tu::RunResult r = Dw("check --diff --quiet");
  EXPECT_EQ(r.exit_code, 1) << Stderr();
  EXPECT_EQ(BlockAfter(r.out, "M /etc/app/main.conf"), main_diff) << r.out;
  EXPECT_EQ(BlockAfter(r.out, "A /etc/app/new.conf"),
            GnuDiff("/etc/app/new.conf", "/etc/app/new.conf", dir_ / "before/empty",
                    root_ + "/etc/app/new.conf"));
  EXPECT_EQ(BlockAfter(r.out, "D /etc/app/old.conf"),
            GnuDiff("/etc/app/old.conf", "/etc/app/old.conf", dir_ / "before/old.conf",
                    dir_ / "before/empty"));
  EXPECT_EQ(BlockAfter(r.out, "M /etc/app/blob.bin"),
            "Binary files /etc/app/blob.bin and /etc/app/blob.bin differ\n");
  EXPECT_EQ(BlockAfter(r.out, "M /etc/app/api.key"), "content changed (redacted)\n");
  EXPECT_EQ(BlockAfter(r.out, "M /opt/tool.conf"), "");  // no rule keeps it
  EXPECT_THAT(r.out, Not(HasSubstr(kMarker)));

  // Without --diff the lines are as before.
  tu::RunResult plain = Dw("check --quiet");
  EXPECT_THAT(plain.out, Not(HasSubstr("@@")));

  // The history keeps the diffs; --diff prints them.
  tu::RunResult h = DwDb("history --diff");
  EXPECT_EQ(h.exit_code, 0) << Stderr();
  EXPECT_THAT(h.out, HasSubstr(main_diff));
  EXPECT_THAT(h.out, HasSubstr("content changed (redacted)\n"));
  EXPECT_THAT(h.out, Not(HasSubstr(kMarker)));
  tu::RunResult hj = DwDb("history --format json");
  EXPECT_EQ(hj.exit_code, 0) << Stderr();
  EXPECT_THAT(hj.out, Not(HasSubstr(kMarker)));
  web::json::value hv = web::json::value::parse(hj.out);
  EXPECT_EQ(EventAt(hv, "/etc/app/main.conf").at("diff").as_string(), main_diff);
}

TEST_F(ContentDiffE2e, JsonEventsCarryDiffAndContentNote) {
  Mutate();
  tu::RunResult r = Dw("check --format json --quiet");
  EXPECT_EQ(r.exit_code, 1) << Stderr();
  EXPECT_THAT(r.out, Not(HasSubstr(kMarker)));
  web::json::value v = web::json::value::parse(r.out);
  const web::json::value& events = v.at("events");
  EXPECT_EQ(EventAt(events, "/etc/app/main.conf").at("diff").as_string(),
            GnuDiff("/etc/app/main.conf", "/etc/app/main.conf", dir_ / "before/main.conf",
                    root_ + "/etc/app/main.conf"));
  web::json::value key = EventAt(events, "/etc/app/api.key");
  EXPECT_EQ(key.at("content").as_string(), "redacted");
  EXPECT_FALSE(key.has_field("diff"));
  web::json::value bin = EventAt(events, "/etc/app/blob.bin");
  EXPECT_EQ(bin.at("content").as_string(), "binary");
  EXPECT_FALSE(bin.has_field("diff"));
  EXPECT_TRUE(EventAt(events, "/etc/app/new.conf").has_field("diff"));
  EXPECT_TRUE(EventAt(events, "/etc/app/old.conf").has_field("diff"));
  web::json::value tool = EventAt(events, "/opt/tool.conf");
  EXPECT_FALSE(tool.has_field("diff"));
  EXPECT_FALSE(tool.has_field("content"));
}

TEST_F(ContentDiffE2e, DiffCommandPrintsWhatDiffUPrints) {
  // Unchanged: nothing, exit 0.
  tu::RunResult same = Dw("diff /etc/app/main.conf");
  EXPECT_EQ(same.exit_code, 0) << Stderr();
  EXPECT_EQ(same.out, "");
  Mutate();
  tu::RunResult r = Dw("diff /etc/app/main.conf");
  EXPECT_EQ(r.exit_code, 1) << Stderr();
  EXPECT_EQ(r.out,
            GnuDiff("/etc/app/main.conf\tbaseline default revision 1", "/etc/app/main.conf\tnow",
                    dir_ / "before/main.conf", root_ + "/etc/app/main.conf"));
  tu::RunResult added = Dw("diff /etc/app/new.conf");
  EXPECT_EQ(added.exit_code, 1) << Stderr();
  EXPECT_EQ(added.out,
            GnuDiff("/etc/app/new.conf\tbaseline default revision 1", "/etc/app/new.conf\tnow",
                    dir_ / "before/empty", root_ + "/etc/app/new.conf"));
  tu::RunResult removed = Dw("diff /etc/app/old.conf");
  EXPECT_EQ(removed.exit_code, 1) << Stderr();
  EXPECT_EQ(removed.out,
            GnuDiff("/etc/app/old.conf\tbaseline default revision 1", "/etc/app/old.conf\tnow",
                    dir_ / "before/old.conf", dir_ / "before/empty"));
  tu::RunResult bin = Dw("diff /etc/app/blob.bin");
  EXPECT_EQ(bin.exit_code, 1) << Stderr();
  EXPECT_EQ(bin.out,
            "Binary files /etc/app/blob.bin\tbaseline default revision 1 and "
            "/etc/app/blob.bin\tnow differ\n");
}

TEST_F(ContentDiffE2e, DiffCommandSaysWhyItCannot) {
  Mutate();
  tu::RunResult key = Dw("diff /etc/app/api.key");
  EXPECT_EQ(key.exit_code, 1) << Stderr();
  EXPECT_THAT(key.out, HasSubstr("content redacted"));
  EXPECT_THAT(key.out + Stderr(), Not(HasSubstr(kMarker)));

  tu::RunResult none = Dw("diff /opt/tool.conf");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_EQ(none.out, "");
  EXPECT_THAT(Stderr(), HasSubstr("/opt/tool.conf: its content is not kept: no rule says "
                                  "`content: keep` for it"));

  tu::RunResult missing = Dw("diff /etc/app/nothing.conf");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(Stderr(), HasSubstr("/etc/app/nothing.conf: neither in baseline 'default' "
                                  "revision 1 nor under"));

  tu::RunResult dir = Dw("diff /etc/app");
  EXPECT_EQ(dir.exit_code, 2);
  EXPECT_THAT(Stderr(), HasSubstr("/etc/app is a dir in baseline 'default' revision 1"));

  tu::RunResult other = Dw("diff /etc/app/main.conf --baseline nope");
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_THAT(Stderr(), HasSubstr("no baseline named 'nope'"));
}

TEST_F(ContentDiffE2e, RedactedMarkerIsInNoStoreFile) {
  Mutate();
  ASSERT_EQ(Dw("check --diff --quiet").exit_code, 1) << Stderr();
  ASSERT_EQ(Dw("check --format json --quiet").exit_code, 1) << Stderr();
  for (const auto& f : std::filesystem::directory_iterator(dir_.path())) {
    if (!f.is_regular_file() || f.path().filename().string().rfind("agent.db", 0) != 0) continue;
    EXPECT_THAT(ReadAll(f.path().string()), Not(HasSubstr(kMarker))) << f.path();
  }
}

}  // namespace
}  // namespace driftwatch
