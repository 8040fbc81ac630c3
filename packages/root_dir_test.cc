#include "packages/root_dir.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "packages/test_util.h"

namespace driftwatch::packages {
namespace {

TEST(SplitInRootTest, Normalizes) {
  struct Case {
    std::string_view in, dir, name;
  };
  const Case kCases[] = {
      {"/", "/", ""},
      {"/etc", "/", "etc"},
      {"/etc/passwd", "/etc", "passwd"},
      {"//usr//bin/./ls", "/usr/bin", "ls"},
      {"/../../etc/shadow", "/etc", "shadow"},
      {"/a/b/../c", "/a", "c"},
      {"/a/..", "/", ""},
      {"relative/x", "/relative", "x"},
  };
  for (const Case& c : kCases) {
    PathInRoot p = SplitInRoot(c.in);
    EXPECT_EQ(p.dir, c.dir) << c.in;
    EXPECT_EQ(p.name, c.name) << c.in;
  }
}

// Identity of the directory an fd refers to.
std::pair<dev_t, ino_t> IdOf(int fd) {
  struct stat st;
  EXPECT_EQ(::fstat(fd, &st), 0);
  return {st.st_dev, st.st_ino};
}

std::pair<dev_t, ino_t> IdOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return {st.st_dev, st.st_ino};
}

TEST(OpenDirInRootTest, SymlinksStayInsideRoot) {
  testing::TempRoot outside;
  outside.Mkdir("usr/lib");
  testing::TempRoot root;
  root.Mkdir("usr/lib/x86_64");
  root.Symlink("/usr/lib", "lib");         // absolute: must resolve inside root
  root.Symlink("../../..", "usr/lib/up");  // climbs past the root: stops there
  root.Symlink(outside.path(), "escape");  // an absolute host path, read as root-relative
  root.Symlink("loop2", "loop1");
  root.Symlink("loop1", "loop2");
  root.Write("usr/file", "x");
  Host& host = DefaultHost();
  auto root_fd = host.OpenAt(AT_FDCWD, root.path(), O_PATH | O_DIRECTORY);
  ASSERT_TRUE(root_fd.ok());

  auto lib = OpenDirInRoot(host, root_fd->get(), "/lib/x86_64");
  ASSERT_TRUE(lib.ok()) << lib.status().message();
  EXPECT_EQ(IdOf(lib->get()), IdOf(root.Abs("usr/lib/x86_64")));

  auto up = OpenDirInRoot(host, root_fd->get(), "/usr/lib/up/usr");
  ASSERT_TRUE(up.ok()) << up.status().message();
  EXPECT_EQ(IdOf(up->get()), IdOf(root.Abs("usr")));

  auto dotdot = OpenDirInRoot(host, root_fd->get(), "/../..");
  ASSERT_TRUE(dotdot.ok());
  EXPECT_EQ(IdOf(dotdot->get()), IdOf(root.path()));

  auto escape = OpenDirInRoot(host, root_fd->get(), "/escape/usr/lib");
  EXPECT_EQ(escape.status().code(), StatusCode::kNotFound);

  auto missing = OpenDirInRoot(host, root_fd->get(), "/nope/x");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);

  auto not_dir = OpenDirInRoot(host, root_fd->get(), "/usr/file");
  EXPECT_EQ(not_dir.status().code(), StatusCode::kNotFound);

  auto loop = OpenDirInRoot(host, root_fd->get(), "/loop1");
  EXPECT_EQ(loop.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(loop.status().message(), "/loop1: too many levels of symbolic links");
}

}  // namespace
}  // namespace driftwatch::packages
