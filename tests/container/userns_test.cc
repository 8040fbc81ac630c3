// `container run --userns`: root inside, an unprivileged range outside.
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "container/userns.h"
#include "tests/container/fixture.h"

namespace driftwatch::container::testing {
namespace {

using UsernsTest = ContainerTest;

// The "Uid:" or "Gid:" line of /proc/PID/status: "real effective saved fs".
std::string StatusIds(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) {
      std::istringstream fields(line.substr(key.size() + 1));
      std::string out, f;
      while (fields >> f) out += (out.empty() ? "" : " ") + f;
      return out;
    }
  }
  return "";
}

// The first child of `pid` (the container's command under its init).
pid_t FirstChild(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  pid_t child = 0;
  in >> child;
  return child;
}

TEST_F(UsernsTest, RootInsideIsTheRangesFirstIdOutside) {
  ASSERT_EQ(Cli({"run", "--detach", "--name", "u", "--userns", "--userns-range", "200000:65536",
                 "bb", "--", "/bin/sleep", "1000"})
                .code,
            0);
  ContainerRecord rec = Record("u");
  EXPECT_EQ(rec.userns, (IdRange{200000, 65536}));
  CliResult id = Cli({"exec", "u", "--", "/bin/sh", "-c", "id -u; id -g; id -G"});
  ASSERT_EQ(id.code, 0) << id.err;
  EXPECT_EQ(Lines(id.out), (std::vector<std::string>{"0", "0", "0"})) << id.out;
  for (const char* map : {"uid_map", "gid_map"}) {
    std::ifstream in("/proc/" + std::to_string(rec.pid) + "/" + map);
    uint64_t inside = 1, host = 0, count = 0;
    in >> inside >> host >> count;
    EXPECT_EQ(inside, 0u) << map;
    EXPECT_EQ(host, 200000u) << map;
    EXPECT_EQ(count, 65536u) << map;
  }
  // The image's root-owned files are root's inside (idmapped image).
  CliResult owner = Cli({"exec", "u", "--", "/bin/stat", "-c", "%u:%g", "/etc/passwd", "/bin"});
  ASSERT_EQ(owner.code, 0) << owner.err;
  EXPECT_EQ(Lines(owner.out), (std::vector<std::string>{"0:0", "0:0"}));

  // From the host, the init and the command run as the range's first id.
  EXPECT_EQ(StatusIds(rec.pid, "Uid"), "200000 200000 200000 200000");
  EXPECT_EQ(StatusIds(rec.pid, "Gid"), "200000 200000 200000 200000");
  pid_t cmd = FirstChild(rec.pid);
  ASSERT_GT(cmd, 0);
  EXPECT_EQ(StatusIds(cmd, "Uid"), "200000 200000 200000 200000");

  // Files it creates belong to the range on the host; the diff shows root.
  Sh("u", "echo hi > /etc/new && mkdir /home && chown 1000:1000 /home");
  struct stat st;
  const std::string upper = state_dir_ + "/containers/u/upper";
  ASSERT_EQ(stat((upper + "/etc/new").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 200000u);
  ASSERT_EQ(stat((upper + "/home").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 201000u);
  EXPECT_EQ(st.st_gid, 201000u);
  CliResult diff = Cli({"diff", "u", "--format", "json"});
  ASSERT_EQ(diff.code, 1) << diff.err;
  EXPECT_NE(diff.out.find("\"uid\":1000"), std::string::npos) << diff.out;
  EXPECT_EQ(diff.out.find("200000"), std::string::npos) << diff.out;
  CliResult text = Cli({"diff", "u"});
  EXPECT_EQ(Lines(text.out), (std::vector<std::string>{"A /etc/new " + H("hi\n"), "A /home"}));

  // Its mount and uts namespaces belong to the host's user namespace: root
  // inside can neither mount nor rename the host.
  CliResult mnt = Cli({"exec", "u", "--", "/bin/mount", "-t", "tmpfs", "t", "/tmp"});
  EXPECT_NE(mnt.code, 0);
  CliResult host = Cli({"exec", "u", "--", "/bin/hostname", "other"});
  EXPECT_NE(host.code, 0);

  // Stopped and started again: same range, layer kept.
  ASSERT_EQ(Cli({"stop", "--timeout", "1", "u"}).code, 0);
  ASSERT_EQ(Cli({"start", "--detach", "u"}).code, 0);
  rec = Record("u");
  EXPECT_EQ(StatusIds(rec.pid, "Uid"), "200000 200000 200000 200000");
  CliResult cat = Cli({"exec", "u", "--", "/bin/cat", "/etc/new"});
  EXPECT_EQ(cat.out, "hi\n");
  text = Cli({"diff", "u"});
  EXPECT_EQ(Lines(text.out), (std::vector<std::string>{"A /etc/new " + H("hi\n"), "A /home"}));
}

TEST_F(UsernsTest, CannotReadAHostRootOnlyFileThroughAVolume) {
  const std::string vol = tmp_ + "/vol";
  WriteFile(vol + "/secret", "s3cret\n", 0600);
  WriteFile(vol + "/open", "hello\n", 0644);
  chmod(vol.c_str(), 0755);
  // Without a user namespace the container's root reads it (control).
  CliResult plain =
      Cli({"run", "--rm", "--volume", vol + ":/vol", "bb", "--", "/bin/cat", "/vol/secret"});
  EXPECT_EQ(plain.code, 0) << plain.err;
  EXPECT_EQ(plain.out, "s3cret\n");
  // With one its root is nobody to the host's files.
  CliResult uns = Cli({"run", "--rm", "--userns", "--volume", vol + ":/vol", "bb", "--", "/bin/sh",
                       "-c", "cat /vol/open; cat /vol/secret; echo x > /vol/new"});
  EXPECT_NE(uns.code, 0);
  EXPECT_EQ(uns.out, "hello\n");
  EXPECT_NE(uns.err.find("Permission denied"), std::string::npos) << uns.err;
  struct stat st;
  EXPECT_NE(stat((vol + "/new").c_str(), &st), 0) << "wrote into a root-owned volume";
}

TEST_F(UsernsTest, DefaultRangeAndRefusedRanges) {
  CliResult r = Cli({"run", "--rm", "--name", "d", "--userns", "bb", "--", "/bin/sh", "-c",
                     "cat /proc/self/uid_map"});
  ASSERT_EQ(r.code, 0) << r.err;
  const IdRange want = DefaultIdRange(DefaultHost());
  std::istringstream fields(r.out);
  uint64_t inside = 1, host = 0, count = 0;
  fields >> inside >> host >> count;
  EXPECT_EQ(inside, 0u);
  EXPECT_EQ(host, want.host);
  EXPECT_EQ(count, want.count);

  for (const char* bad : {"0:65536", "100000:0", "100000", "x:1", "4294967000:1000"}) {
    CliResult e = Cli({"run", "--rm", "--userns", "--userns-range", bad, "bb", "--", "/bin/true"});
    EXPECT_EQ(e.code, 2) << bad;
    EXPECT_NE(e.err.find("--userns-range"), std::string::npos) << e.err;
  }
  CliResult alone = Cli({"run", "--rm", "--userns-range", "100000:10", "bb", "--", "/bin/true"});
  EXPECT_EQ(alone.code, 2);
  EXPECT_NE(alone.err.find("needs --userns"), std::string::npos) << alone.err;
  // Nothing was created by the refused runs.
  auto names = StateDir(DefaultHost(), state_dir_).ListContainers();
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());
}

TEST_F(UsernsTest, DeployKeepsTheRangeAcrossSlots) {
  // The health check runs through exec, which joins the user namespace.
  CliResult r = Cli({"deploy", "svc", "bb", "--health", "grep -q 400000 /proc/self/uid_map",
                     "--userns", "--userns-range", "400000:65536", "--", "/bin/sleep", "1000"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Record("svc-a").userns, (IdRange{400000, 65536}));
  EXPECT_EQ(StatusIds(Record("svc-a").pid, "Uid"), "400000 400000 400000 400000");
  // A deploy that reuses the active slot's command reuses its range.
  r = Cli({"deploy", "svc", "bb", "--health", "grep -q 400000 /proc/self/uid_map"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Record("svc-b").userns, (IdRange{400000, 65536}));
  EXPECT_EQ(StatusIds(Record("svc-b").pid, "Uid"), "400000 400000 400000 400000");
}

}  // namespace
}  // namespace driftwatch::container::testing
