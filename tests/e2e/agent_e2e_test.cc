// End to end: the driftwatch binary baselines a tree, the test applies one
// mutation, and `check --format json` must report exactly the expected events.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <set>

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
using e2e::Rules;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using tu::Quote;
using tu::TempDir;
using tu::WriteFile;

class AgentE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "root";
    WriteFile(root_ + "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
    WriteFile(root_ + "/etc/hosts", "127.0.0.1 localhost\n");
    WriteFile(root_ + "/etc/app/main.conf", "port = 80\n");
    WriteFile(root_ + "/etc/app/conf.d/a.conf", "a\n");
    WriteFile(root_ + "/etc/app/conf.d/b.conf", "b\n");
    WriteFile(root_ + "/etc/cache/state", "1\n");
    WriteFile(root_ + "/var/log/app.log", "line 1\nline 2\n");
    std::filesystem::create_symlink("main.conf", root_ + "/etc/app/current");
    ASSERT_EQ(Dw("baseline create").exit_code, 0);
  }

  tu::RunResult Dw(const std::string& args) {
    return tu::Run(Quote(Bin()) + " " + args + " --root " + Quote(root_) + " --rules " +
                   Quote(Rules()) + " --db " + Quote(dir_ / "agent.db") + " 2>/dev/null");
  }

  // "kind path [attr,attr]" for every event of a JSON check.
  std::vector<std::string> Check(int* exit_code = nullptr) {
    tu::RunResult r = Dw("check --format json --quiet");
    if (exit_code) *exit_code = r.exit_code;
    std::vector<std::string> out;
    web::json::value v = web::json::value::parse(r.out);
    for (const auto& e : v.at("events").as_array()) {
      std::string line = e.at("kind").as_string() + " " + e.at("path").as_string();
      if (e.has_field("attributes") && e.at("attributes").size() > 0) {
        line += " [";
        for (size_t i = 0; i < e.at("attributes").size(); ++i) {
          line += (i ? "," : "") + e.at("attributes").at(i).as_string();
        }
        line += "]";
      }
      out.push_back(line);
    }
    return out;
  }

  std::string P(const std::string& rel) { return root_ + rel; }

  TempDir dir_;
  std::string root_;
};

TEST_F(AgentE2e, UnchangedTreeHasNoDriftTwiceInARow) {
  int rc = -1;
  EXPECT_THAT(Check(&rc), IsEmpty());
  EXPECT_EQ(rc, 0);
  EXPECT_THAT(Check(&rc), IsEmpty());
  EXPECT_EQ(rc, 0);
}

TEST_F(AgentE2e, ContentChange) {
  WriteFile(P("/etc/hosts"), "127.0.0.1 localhost evil\n");
  int rc = -1;
  EXPECT_THAT(Check(&rc), ElementsAre("modified /etc/hosts [size,hash]"));
  EXPECT_EQ(rc, 1);
}

TEST_F(AgentE2e, SameSizeChangeWithMtimeRestored) {
  struct stat st;
  ASSERT_EQ(::stat(P("/etc/hosts").c_str(), &st), 0);
  WriteFile(P("/etc/hosts"), "127.0.0.2 localhost\n");
  tu::SetMtime(P("/etc/hosts"), st.st_mtim.tv_sec);
  EXPECT_THAT(Check(), ElementsAre("modified /etc/hosts [hash]"));
}

TEST_F(AgentE2e, Chmod) {
  ASSERT_EQ(::chmod(P("/etc/passwd").c_str(), 0600), 0);
  EXPECT_THAT(Check(), ElementsAre("modified /etc/passwd [perm]"));
}

TEST_F(AgentE2e, Chown) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: chown";
  ASSERT_EQ(::lchown(P("/etc/passwd").c_str(), 1, 2), 0);
  EXPECT_THAT(Check(), ElementsAre("modified /etc/passwd [uid,gid]"));
}

TEST_F(AgentE2e, SymlinkRetarget) {
  std::filesystem::remove(P("/etc/app/current"));
  std::filesystem::create_symlink("conf.d/a.conf", P("/etc/app/current"));
  EXPECT_THAT(Check(), ElementsAre("modified /etc/app/current [link]"));
}

TEST_F(AgentE2e, FileAddedAndRemoved) {
  WriteFile(P("/etc/app/new.conf"), "x\n");
  std::filesystem::remove(P("/etc/hosts"));
  EXPECT_THAT(Check(), ElementsAre("added /etc/app/new.conf", "removed /etc/hosts"));
}

TEST_F(AgentE2e, DirectoryRemovedWithContents) {
  std::filesystem::remove_all(P("/etc/app/conf.d"));
  EXPECT_THAT(Check(), ElementsAre("removed /etc/app/conf.d", "removed /etc/app/conf.d/a.conf",
                                   "removed /etc/app/conf.d/b.conf"));
}

TEST_F(AgentE2e, Rename) {
  std::filesystem::rename(P("/etc/app/main.conf"), P("/etc/app/moved.conf"));
  EXPECT_THAT(Check(), ElementsAre("removed /etc/app/main.conf", "added /etc/app/moved.conf"));
}

TEST_F(AgentE2e, HardLinkAdded) {
  ASSERT_EQ(::link(P("/etc/passwd").c_str(), P("/etc/passwd.bak").c_str()), 0);
  EXPECT_THAT(Check(), ElementsAre("added /etc/passwd.bak"));
}

TEST_F(AgentE2e, ExtendedAttributeSet) {
  tu::RunResult r = tu::Run("setfattr -n user.owner -v alice " + Quote(P("/etc/hosts")) + " 2>&1");
  if (r.exit_code != 0) GTEST_SKIP() << "filesystem without user xattrs: " << r.out;
  EXPECT_THAT(Check(), ElementsAre("modified /etc/hosts [xattrs]"));
}

TEST_F(AgentE2e, GrowingLogMayOnlyGrow) {
  tu::AppendFile(P("/var/log/app.log"), "line 3\n");
  int rc = -1;
  EXPECT_THAT(Check(&rc), IsEmpty());
  EXPECT_EQ(rc, 0);
  WriteFile(P("/var/log/app.log"), "line 1\n");  // truncated
  EXPECT_THAT(Check(&rc), ElementsAre("modified /var/log/app.log [size,hash]"));
  EXPECT_EQ(rc, 1);
}

TEST_F(AgentE2e, RewrittenPrefixOfGrowingLogIsDrift) {
  WriteFile(P("/var/log/app.log"), "LINE 1\nline 2\nline 3\n");  // grew, but history rewritten
  EXPECT_THAT(Check(), ElementsAre("modified /var/log/app.log [size,hash]"));
}

// Low drift (the log rule) is printed with any --min-severity; it makes
// check exit 1 only when the minimum is low or info (the default).
TEST_F(AgentE2e, MinSeverityDecidesTheExitStatusNotTheOutput) {
  WriteFile(P("/var/log/app.log"), "LINE 1\nline 2\nline 3\n");
  int rc = -1;
  EXPECT_THAT(Check(&rc), ElementsAre("modified /var/log/app.log [size,hash]"));
  EXPECT_EQ(rc, 1);
  tu::RunResult medium = Dw("check --quiet --min-severity medium");
  EXPECT_EQ(medium.exit_code, 0);
  EXPECT_THAT(medium.out, ::testing::HasSubstr("/var/log/app.log"));
  EXPECT_EQ(Dw("check --quiet --min-severity low").exit_code, 1);
  WriteFile(P("/etc/hosts"), "changed\n");  // high
  EXPECT_EQ(Dw("check --quiet --min-severity medium").exit_code, 1);
  EXPECT_EQ(Dw("check --quiet --min-severity urgent").exit_code, 2);
}

TEST_F(AgentE2e, IgnoredPathChangeIsNotDrift) {
  WriteFile(P("/etc/cache/state"), "2\n");
  WriteFile(P("/etc/cache/other"), "new\n");
  EXPECT_THAT(Check(), IsEmpty());
}

TEST_F(AgentE2e, AcceptOnePathLeavesTheRest) {
  WriteFile(P("/etc/hosts"), "changed\n");
  ASSERT_EQ(::chmod(P("/etc/passwd").c_str(), 0600), 0);
  WriteFile(P("/etc/app/new.conf"), "x\n");
  EXPECT_THAT(Check(), ElementsAre("added /etc/app/new.conf", "modified /etc/hosts [size,hash]",
                                   "modified /etc/passwd [perm]"));
  ASSERT_EQ(Dw("baseline accept default --path /etc/hosts --reason 'new resolver'").exit_code, 0);
  EXPECT_THAT(Check(), ElementsAre("added /etc/app/new.conf", "modified /etc/passwd [perm]"));
  tu::RunResult shown = tu::Run(Quote(Bin()) + " baseline show default --format json --db " +
                                Quote(dir_ / "agent.db"));
  web::json::value revs = web::json::value::parse(shown.out);
  ASSERT_EQ(revs.size(), 2u);
  EXPECT_EQ(revs.at(1).at("revision").as_integer(), 2);
  EXPECT_EQ(revs.at(1).at("reason").as_string(), "new resolver");
}

// A package database in the tree: dpkg's status file and file lists.
void WriteDpkg(const std::string& root, const std::string& version) {
  WriteFile(
      root + "/var/lib/dpkg/status",
      "Package: tool\nStatus: install ok installed\nArchitecture: amd64\nVersion: " + version +
          "\n\nPackage: gone\nStatus: install ok installed\n"
          "Architecture: all\nVersion: 2\n\n");
  WriteFile(root + "/var/lib/dpkg/info/tool.list", "/usr\n/usr/bin\n/usr/bin/tool\n");
}

TEST_F(AgentE2e, PackageChangesAndUpgradeAttribution) {
  WriteDpkg(root_, "1.0");
  WriteFile(P("/usr/bin/tool"), "v1");
  WriteFile(P("/usr/bin/local-script"), "#!/bin/sh\n");
  ASSERT_EQ(Dw("baseline create").exit_code, 0);
  WriteDpkg(root_, "1.1");  // tool upgraded, nothing else
  WriteFile(P("/usr/bin/tool"), "v1.1");
  WriteFile(P("/usr/bin/local-script"), "#!/bin/sh\nrm -rf /\n");
  tu::RunResult r = Dw("check --format json --quiet");
  EXPECT_EQ(r.exit_code, 1);
  web::json::value v = web::json::value::parse(r.out);
  std::vector<std::string> got;
  for (const auto& e : v.at("events").as_array()) {
    std::string line = e.at("kind").as_string() + " " + e.at("path").as_string() + " " +
                       e.at("severity").as_string();
    if (e.has_field("cause")) {
      line += " " + e.at("cause").as_string() + " " + e.at("package").as_string() + " " +
              e.at("from").as_string() + "->" + e.at("to").as_string();
    }
    got.push_back(line);
  }
  EXPECT_THAT(got, ElementsAre("modified /usr/bin/local-script high",
                               "modified /usr/bin/tool low package-upgrade tool 1.0->1.1",
                               "package-changed pkg:dpkg/tool:amd64 low"));
}

TEST_F(AgentE2e, ResultsIdenticalForOneAndFourJobs) {
  WriteFile(P("/etc/hosts"), "changed\n");
  tu::RunResult one = Dw("scan --format json --jobs 1");
  tu::RunResult four = Dw("scan --format json --jobs 4");
  ASSERT_EQ(one.exit_code, 0);
  EXPECT_EQ(web::json::value::parse(one.out).at("root").as_string(),
            web::json::value::parse(four.out).at("root").as_string());
}

// `scan` trusts the agent store's stat cache as a check does: a settled
// file whose stat tuple is unchanged is not read again, `--full` reads every
// file, and a file rewritten with the same size and its mtime put back
// (touch -d) is read again, since its ctime moved.
TEST_F(AgentE2e, ScanUsesTheStatCacheUnlessFull) {
  // Let every file leave the racy window (2 s) of the scan that reads it.
  ::usleep(2'100'000);
  auto scan = [&](const std::string& flags) {
    tu::RunResult r = Dw("scan --format json --quiet" + flags);
    EXPECT_EQ(r.exit_code, 0);
    web::json::value v = web::json::value::parse(r.out);
    EXPECT_EQ(v.at("warnings").size(), 0u) << r.out;
    return std::make_pair(v.at("root").as_string(),
                          v.at("stats").at("files_hashed").as_number().to_uint64());
  };
  const auto [root, hashed] = scan("");
  ASSERT_GT(hashed, 0u);
  EXPECT_EQ(scan(""), std::make_pair(root, uint64_t{0}));
  EXPECT_EQ(scan(" --full"), std::make_pair(root, hashed));
  EXPECT_EQ(scan(""), std::make_pair(root, uint64_t{0}));

  const std::string hosts = root_ + "/etc/hosts";
  const auto mtime = std::filesystem::last_write_time(hosts);
  WriteFile(hosts, "127.0.0.1 localhosT\n");  // same size
  std::filesystem::last_write_time(hosts, mtime);
  const auto [changed_root, rehashed] = scan("");
  EXPECT_EQ(rehashed, 1u);
  EXPECT_NE(changed_root, root);
}

TEST_F(AgentE2e, HistoryFiltersByPath) {
  WriteFile(P("/etc/hosts"), "changed\n");
  ASSERT_EQ(::chmod(P("/etc/passwd").c_str(), 0600), 0);
  Check();
  tu::RunResult h = tu::Run(Quote(Bin()) + " history --format json --path '/etc/pass*' --db " +
                            Quote(dir_ / "agent.db"));
  ASSERT_EQ(h.exit_code, 0);
  web::json::value v = web::json::value::parse(h.out);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v.at(0).at("path").as_string(), "/etc/passwd");
}

TEST_F(AgentE2e, MalformedRulesNameFileLineAndColumn) {
  WriteFile(dir_ / "bad.yaml", "version: 1\nrules:\n  - path: /etc/**\n    chekc: content\n");
  tu::RunResult r = tu::Run(Quote(Bin()) + " rules check " + Quote(dir_ / "bad.yaml") + " 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, ::testing::StartsWith(dir_ / "bad.yaml:4:5: "));
}

// check and baseline accept take the root and rules of the baseline when
// not given; a rule file that is gone is said.
TEST_F(AgentE2e, CheckAndAcceptDefaultToTheBaselinesRootAndRules) {
  const std::string db = " --db " + Quote(dir_ / "agent.db") + " 2>&1";
  tu::RunResult clean = tu::Run(Quote(Bin()) + " check --quiet" + db);
  EXPECT_EQ(clean.exit_code, 0) << clean.out;
  WriteFile(P("/etc/hosts"), "changed\n");
  tu::RunResult drift = tu::Run(Quote(Bin()) + " check --quiet" + db);
  EXPECT_EQ(drift.exit_code, 1) << drift.out;
  EXPECT_THAT(drift.out, ::testing::HasSubstr("/etc/hosts"));
  tu::RunResult accept =
      tu::Run(Quote(Bin()) + " baseline accept default --reason 'new hosts'" + db);
  EXPECT_EQ(accept.exit_code, 0) << accept.out;
  EXPECT_EQ(tu::Run(Quote(Bin()) + " check --quiet" + db).exit_code, 0);

  WriteFile(dir_ / "rules-copy.yaml", tu::Run("cat " + Quote(Rules())).out);
  ASSERT_EQ(tu::Run(Quote(Bin()) + " baseline create --name copy --root " + Quote(root_) +
                    " --rules " + Quote(dir_ / "rules-copy.yaml") + db)
                .exit_code,
            0);
  std::filesystem::remove(dir_ / "rules-copy.yaml");
  tu::RunResult gone = tu::Run(Quote(Bin()) + " check --baseline copy" + db);
  EXPECT_EQ(gone.exit_code, 2);
  EXPECT_THAT(gone.out, ::testing::HasSubstr("the rule file " + (dir_ / "rules-copy.yaml") +
                                             " recorded with baseline 'copy' rev 1 is gone; "
                                             "pass --rules FILE"));
  EXPECT_EQ(tu::Run(Quote(Bin()) + " check --quiet --baseline copy --rules " + Quote(Rules()) + db)
                .exit_code,
            0);
}

TEST_F(AgentE2e, CheckWithoutBaselineIsAnError) {
  tu::RunResult r =
      tu::Run(Quote(Bin()) + " check --baseline nope --root " + Quote(root_) + " --rules " +
              Quote(Rules()) + " --db " + Quote(dir_ / "agent.db") + " 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, ::testing::HasSubstr("no baseline named 'nope'"));
}

}  // namespace
}  // namespace driftwatch
