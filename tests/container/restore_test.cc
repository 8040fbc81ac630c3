// `container restore`: a stopped container's drift taken out of its upper
// layer, after which `container diff` reports nothing.
#include <gmock/gmock.h>

#include "tests/container/fixture.h"

namespace driftwatch::container::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class RestoreTest : public ContainerTest {};

TEST_F(RestoreTest, EveryKindOfDriftIsTakenOutAndTheDiffIsEmpty) {
  CliResult run = Cli({"run", "--detach", "--name", "r1", "bb", "--", "/bin/sleep", "1000"});
  ASSERT_EQ(run.code, 0) << run.err;
  Sh("r1",
     "echo changed >> /etc/passwd && chmod 600 /etc/group && chown 1000:1000 "
     "/srv/www/index.html && rm /etc/hosts && echo new > /etc/motd && rm -rf /opt/app && "
     "ln -sfn /etc/hosts /etc/motd.link && mkdir /srv/added && echo x > /srv/added/x");
  CliResult diff = Cli({"diff", "r1"});
  ASSERT_EQ(diff.code, 1) << diff.out;

  CliResult running = Cli({"restore", "r1", "--reason", "undo"});
  EXPECT_EQ(running.code, 2);
  EXPECT_THAT(running.err, HasSubstr("is running"));
  EXPECT_THAT(running.err, HasSubstr("stop it first"));

  ASSERT_EQ(Cli({"stop", "r1"}).code, 0);
  CliResult dry = Cli({"restore", "r1", "--dry-run", "--reason", "try"});
  EXPECT_EQ(dry.code, 0) << dry.out << dry.err;
  EXPECT_THAT(dry.out, HasSubstr("dry run: would"));
  EXPECT_EQ(Cli({"diff", "r1"}).out, diff.out) << "a dry run changes nothing";

  CliResult one = Cli({"restore", "r1", "/etc/passwd", "--reason", "one path"});
  EXPECT_EQ(one.code, 0) << one.out << one.err;
  EXPECT_THAT(Cli({"diff", "r1"}).out, Not(HasSubstr("/etc/passwd")));

  CliResult all = Cli({"restore", "r1", "--reason", "undo all"});
  EXPECT_EQ(all.code, 0) << all.out << all.err;
  CliResult after = Cli({"diff", "r1"});
  EXPECT_EQ(after.code, 0) << after.out;
  EXPECT_EQ(after.out, "");

  // The container starts again on the image's files.
  ASSERT_EQ(Cli({"start", "--detach", "r1"}).code, 0);
  Sh("r1", "test -f /etc/hosts && test -d /opt/app && ! test -e /etc/motd");
  ASSERT_EQ(Cli({"rm", "--force", "r1"}).code, 0);
}

TEST_F(RestoreTest, AnOpaqueDirectoryIsRefused) {
  ASSERT_EQ(Cli({"run", "--detach", "--name", "r2", "bb", "--", "/bin/sleep", "1000"}).code, 0);
  Sh("r2", "rm -rf /usr/share && mkdir /usr/share && echo n > /usr/share/new");
  ASSERT_EQ(Cli({"stop", "r2"}).code, 0);
  CliResult r = Cli({"restore", "r2", "/usr/share/a", "--reason", "try"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("opaque or renamed directory"));
  ASSERT_EQ(Cli({"rm", "r2"}).code, 0);
}

}  // namespace
}  // namespace driftwatch::container::testing
