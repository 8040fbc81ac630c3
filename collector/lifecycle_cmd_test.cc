#include "collector/lifecycle_cmd.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "core/host.h"
#include "tests/testing/fault_host.h"
#include "tests/testing/temp_tree.h"

namespace driftwatch::collector::cli {
namespace {

constexpr char kToken[] = "dwr_0123456789abcdef";

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

TEST(WriteTokenFileTest, NewFile0600InNew0700Directories) {
  testutil::TempDir dir;
  const std::string file = dir / "a/b/c/web.token";
  ASSERT_TRUE(WriteTokenFile(DefaultHost(), file, kToken).ok());
  EXPECT_EQ(Slurp(file), std::string(kToken) + "\n");
  EXPECT_EQ(ModeOf(file), 0600u);
  for (const char* d : {"a", "a/b", "a/b/c"}) EXPECT_EQ(ModeOf(dir / d), 0700u) << d;
}

TEST(WriteTokenFileTest, ExistingFileIsLeftAlone) {
  testutil::TempDir dir;
  const std::string file = dir / "web.token";
  testutil::WriteFile(file, "someone else's\n");
  ASSERT_EQ(chmod(file.c_str(), 0640), 0);
  Status s = WriteTokenFile(DefaultHost(), file, kToken);
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(s.message(), file + ": exists already; give a new file for the token");
  EXPECT_EQ(Slurp(file), "someone else's\n");
  EXPECT_EQ(ModeOf(file), 0640u);

  // A symlink there is not written through either.
  const std::string link = dir / "link.token";
  ASSERT_EQ(symlink(file.c_str(), link.c_str()), 0);
  EXPECT_EQ(WriteTokenFile(DefaultHost(), link, kToken).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Slurp(file), "someone else's\n");
}

TEST(WriteTokenFileTest, FileMadeWhileTheDirectoryIsPreparedIsLeftAlone) {
  testutil::TempDir dir;
  const std::string file = dir / "tokens/web.token";
  testutil::FaultHost host(DefaultHost());
  // Another program makes the file once the directory exists, before the
  // token is written.
  for (auto op : {testutil::FaultHost::Op::kOpen, testutil::FaultHost::Op::kStat}) {
    host.BeforeOnce(op, "tokens", [&] {
      if (ModeOf(dir / "tokens") != 0 && ModeOf(file) == 0) testutil::WriteFile(file, "theirs\n");
    });
  }
  Status s = WriteTokenFile(host, file, kToken);
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.message();
  EXPECT_EQ(Slurp(file), "theirs\n");
}

TEST(WriteTokenFileTest, DirectoryOthersMayEnterIsRefused) {
  testutil::TempDir dir;
  const std::string shared = dir / "shared";
  ASSERT_EQ(mkdir(shared.c_str(), 0700), 0);
  ASSERT_EQ(chmod(shared.c_str(), 0755), 0);
  Status s = WriteTokenFile(DefaultHost(), shared + "/web.token", kToken);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), shared +
                             ": mode 0755 lets other users into the token's directory; refusing "
                             "to write the token there. Fix: chmod 700 " +
                             shared + ", or give --out a file in a directory of its own");
  EXPECT_EQ(s.message().find(kToken), std::string::npos);
  EXPECT_EQ(ModeOf(shared + "/web.token"), 0u);

  EXPECT_EQ(WriteTokenFile(DefaultHost(), dir / "d/", kToken).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace driftwatch::collector::cli
