// End to end: the driftwatch binary baselines a tree whose rules keep
// content, the test applies one mutation of the agent-core mutation set,
// `driftwatch restore` puts it back, and a fresh check must be clean with
// the baseline's Merkle root. Also: a planted symlink parent, dry runs,
// content that was not kept, --remove-added and the history entry.
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
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
using tu::Quote;
using tu::TempDir;
using tu::WriteFile;

constexpr const char* kRules = R"(version: 1
rules:
  - path: /etc/**
    check: content
    severity: high
    content: keep
  - path: /etc/nokeep.conf
    check: content
    severity: high
    content: none
)";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A POSIX ACL in the kernel's xattr format (version 2, then tag, perm, id):
// user::rw-, user:1234:r--, group::r--, mask::r--, other::---.
std::string AclXattr() {
  std::string out;
  auto put32 = [&out](uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
  auto entry = [&](uint16_t tag, uint16_t perm, uint32_t id) {
    out.append(reinterpret_cast<const char*>(&tag), 2);
    out.append(reinterpret_cast<const char*>(&perm), 2);
    put32(id);
  };
  put32(2);
  entry(0x01, 6, UINT32_MAX);
  entry(0x02, 4, 1234);
  entry(0x04, 4, UINT32_MAX);
  entry(0x10, 4, UINT32_MAX);
  entry(0x20, 0, UINT32_MAX);
  return out;
}

class RestoreE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "restore tests need root (chown, ACLs, owners)";
    root_ = dir_ / "root";
    WriteFile(dir_ / "rules.yaml", kRules);
    WriteFile(root_ + "/etc/hosts", "127.0.0.1 localhost\n");
    WriteFile(root_ + "/etc/app/main.conf", "port = 80\nworkers = 4\n");
    ASSERT_EQ(::chmod(P("/etc/app/main.conf").c_str(), 0640), 0);
    ASSERT_EQ(::lchown(P("/etc/app/main.conf").c_str(), 0, 4), 0);
    ASSERT_EQ(::lsetxattr(P("/etc/hosts").c_str(), "user.origin", "base", 4, 0), 0);
    WriteFile(root_ + "/etc/app/conf.d/a.conf", "a\n");
    WriteFile(root_ + "/etc/app/conf.d/b.conf", "b\n");
    WriteFile(root_ + "/etc/app/conf.d/deeper/c.conf", "c\n");
    ASSERT_EQ(::chmod(P("/etc/app/conf.d/deeper").c_str(), 0750), 0);
    WriteFile(root_ + "/etc/nokeep.conf", "not kept\n");
    std::filesystem::create_symlink("main.conf", root_ + "/etc/app/current");
    ASSERT_EQ(Dw("baseline create").exit_code, 0);
    baseline_root_ = CheckJson(nullptr).at("baseline_root").as_string();
  }

  tu::RunResult Dw(const std::string& args) {
    return tu::Run(Quote(Bin()) + " " + args + " --root " + Quote(root_) + " --rules " +
                   Quote(dir_ / "rules.yaml") + " --db " + Quote(dir_ / "agent.db") + " 2>&1");
  }

  web::json::value CheckJson(int* exit_code) {
    tu::RunResult r = tu::Run(Quote(Bin()) + " check --format json --quiet --db " +
                              Quote(dir_ / "agent.db") + " 2>/dev/null");
    if (exit_code) *exit_code = r.exit_code;
    return web::json::value::parse(r.out);
  }

  // A fresh check is clean and its Merkle root is the baseline's.
  void ExpectClean() {
    int rc = -1;
    web::json::value v = CheckJson(&rc);
    EXPECT_EQ(rc, 0) << v.serialize();
    EXPECT_EQ(v.at("events").size(), 0u) << v.at("events").serialize();
    EXPECT_EQ(v.at("root").as_string(), baseline_root_);
    EXPECT_EQ(v.at("baseline_root").as_string(), baseline_root_);
  }

  void MutateRestoreCheck(const std::string& name, const std::function<void()>& mutate) {
    SCOPED_TRACE(name);
    mutate();
    int rc = -1;
    CheckJson(&rc);
    ASSERT_EQ(rc, 1) << "the mutation is drift";
    tu::RunResult r = Dw("restore --all --reason " + Quote("undo " + name));
    EXPECT_EQ(r.exit_code, 0) << r.out;
    ExpectClean();
  }

  std::string P(const std::string& rel) { return root_ + rel; }

  TempDir dir_;
  std::string root_;
  std::string baseline_root_;
};

TEST_F(RestoreE2e, Content) {
  MutateRestoreCheck("content", [&] { WriteFile(P("/etc/app/main.conf"), "port = 8080\n"); });
  EXPECT_EQ(ReadAll(P("/etc/app/main.conf")), "port = 80\nworkers = 4\n");
}

TEST_F(RestoreE2e, Chmod) {
  MutateRestoreCheck("chmod",
                     [&] { ASSERT_EQ(::chmod(P("/etc/app/main.conf").c_str(), 0666), 0); });
}

TEST_F(RestoreE2e, Chown) {
  MutateRestoreCheck("chown",
                     [&] { ASSERT_EQ(::lchown(P("/etc/app/main.conf").c_str(), 1234, 1234), 0); });
}

TEST_F(RestoreE2e, UserXattrAddedAndChanged) {
  MutateRestoreCheck("xattr", [&] {
    ASSERT_EQ(::lsetxattr(P("/etc/app/main.conf").c_str(), "user.planted", "x", 1, 0), 0);
    ASSERT_EQ(::lsetxattr(P("/etc/hosts").c_str(), "user.origin", "evil", 4, 0), 0);
  });
}

TEST_F(RestoreE2e, PosixAcl) {
  MutateRestoreCheck("acl", [&] {
    const std::string acl = AclXattr();
    ASSERT_EQ(::lsetxattr(P("/etc/app/main.conf").c_str(), "system.posix_acl_access", acl.data(),
                          acl.size(), 0),
              0)
        << std::strerror(errno);
  });
}

TEST_F(RestoreE2e, SymlinkRetarget) {
  MutateRestoreCheck("symlink", [&] {
    std::filesystem::remove(P("/etc/app/current"));
    std::filesystem::create_symlink("/etc/shadow", P("/etc/app/current"));
  });
  EXPECT_EQ(std::filesystem::read_symlink(P("/etc/app/current")), "main.conf");
}

TEST_F(RestoreE2e, RemovedFileWithItsXattr) {
  MutateRestoreCheck("remove", [&] { std::filesystem::remove(P("/etc/hosts")); });
  EXPECT_EQ(ReadAll(P("/etc/hosts")), "127.0.0.1 localhost\n");
}

TEST_F(RestoreE2e, RemovedDirectoryWithContents) {
  MutateRestoreCheck("remove dir", [&] { std::filesystem::remove_all(P("/etc/app/conf.d")); });
  EXPECT_EQ(ReadAll(P("/etc/app/conf.d/deeper/c.conf")), "c\n");
}

TEST_F(RestoreE2e, RefusesASymlinkedParentPointingOutOfTheRoot) {
  const std::string outside = dir_ / "outside";
  std::filesystem::create_directories(outside);
  WriteFile(outside + "/main.conf", "outside\n");
  std::filesystem::remove_all(P("/etc/app"));
  std::filesystem::create_symlink(outside, P("/etc/app"));
  for (const std::string& args : {std::string("/etc/app/main.conf"), std::string("--all")}) {
    tu::RunResult r = Dw("restore " + args + " --reason test");
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_THAT(r.out, HasSubstr("refused"));
    EXPECT_EQ(ReadAll(outside + "/main.conf"), "outside\n");
    size_t entries = 0;
    for (const auto& e : std::filesystem::directory_iterator(outside)) {
      (void)e;
      ++entries;
    }
    EXPECT_EQ(entries, 1u) << "nothing was written outside the root";
  }
  EXPECT_THAT(Dw("restore /etc/app/main.conf --reason test").out,
              HasSubstr("/etc/app is a symlink now (to " + outside + ")"));
}

TEST_F(RestoreE2e, DryRunChangesNothing) {
  WriteFile(P("/etc/app/main.conf"), "changed\n");
  std::filesystem::remove(P("/etc/hosts"));
  tu::RunResult r = Dw("restore --all --dry-run --reason try");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("dry run: would write"));
  EXPECT_EQ(ReadAll(P("/etc/app/main.conf")), "changed\n");
  EXPECT_FALSE(std::filesystem::exists(P("/etc/hosts")));
  int rc = -1;
  CheckJson(&rc);
  EXPECT_EQ(rc, 1);
  EXPECT_THAT(Dw("history").out, ::testing::Not(HasSubstr("restore by")));
}

TEST_F(RestoreE2e, ContentNotKeptIsRefused) {
  WriteFile(P("/etc/nokeep.conf"), "changed\n");
  tu::RunResult r = Dw("restore /etc/nokeep.conf --reason try");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("refused"));
  EXPECT_THAT(r.out, HasSubstr("was not kept"));
  EXPECT_EQ(ReadAll(P("/etc/nokeep.conf")), "changed\n");
}

TEST_F(RestoreE2e, RemoveAddedOnlyWhenAsked) {
  WriteFile(P("/etc/app/added.conf"), "new\n");
  tu::RunResult r = Dw("restore --all --reason keep-added");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(std::filesystem::exists(P("/etc/app/added.conf")));
  r = Dw("restore --all --remove-added --reason remove-added");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_FALSE(std::filesystem::exists(P("/etc/app/added.conf")));
  ExpectClean();
}

TEST_F(RestoreE2e, HistoryShowsTheRestoreWithAuthorAndReason) {
  WriteFile(P("/etc/app/main.conf"), "changed\n");
  ASSERT_EQ(Dw("restore /etc/app --reason " + Quote("ticket 42")).exit_code, 0);
  tu::RunResult r =
      tu::Run(Quote(Bin()) + " history --format json --db " + Quote(dir_ / "agent.db"));
  web::json::value v = web::json::value::parse(r.out);
  bool found = false;
  for (const auto& e : v.as_array()) {
    if (!e.has_field("restore")) continue;
    found = true;
    EXPECT_EQ(e.at("kind").as_string(), "restore");
    EXPECT_EQ(e.at("author").as_string(), "root");
    EXPECT_EQ(e.at("reason").as_string(), "ticket 42");
    ASSERT_EQ(e.at("actions").size(), 1u);
    EXPECT_EQ(e.at("actions").at(0).at("path").as_string(), "/etc/app/main.conf");
    EXPECT_EQ(e.at("actions").at(0).at("action").as_string(), "write");
  }
  EXPECT_TRUE(found) << r.out;
  EXPECT_THAT(tu::Run(Quote(Bin()) + " history --db " + Quote(dir_ / "agent.db")).out,
              HasSubstr("restore by root from baseline default revision 1: ticket 42"));
}

}  // namespace
}  // namespace driftwatch
