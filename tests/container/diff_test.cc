// Exact upper-layer diffs of real containers, each cross-checked against a
// naive walk of the image and the merged tree.

#include <algorithm>

#include "tests/container/fixture.h"
// After gtest: cpprest defines a U() macro that gtest's headers would see.
#include <cpprest/json.h>

#include "container/report.h"
#include "container/userns.h"

namespace driftwatch::container::testing {
namespace {

struct DiffCase {
  std::string name;
  std::string script;
  std::vector<std::string> want;
};

const std::string kPasswd = "root:x:0:0:root:/root:/bin/sh\n";
const std::string kBob = "bob:x:1000:1000::/home/bob:/bin/sh\n";

std::vector<DiffCase> Cases() {
  return {
      {"add", "echo new > /etc/motd", {"A /etc/motd " + H("new\n")}},
      {"modify",
       "echo '" + kBob.substr(0, kBob.size() - 1) + "' >> /etc/passwd",
       {"C /etc/passwd size,hash " + H(kPasswd + kBob)}},
      {"delete", "rm /etc/hosts", {"D /etc/hosts"}},
      {"chmod", "chmod 600 /etc/group", {"C /etc/group perm " + H("root:x:0:\n")}},
      {"chown",
       "chown 1000:1000 /srv/www/index.html",
       {"C /srv/www/index.html uid,gid " + H("<h1>hi</h1>\n")}},
      {"rm -rf of an image dir, then mkdir of the same name",
       "rm -rf /usr/share && mkdir /usr/share && echo n > /usr/share/new",
       {"D /usr/share/a", "D /usr/share/b", "A /usr/share/new " + H("n\n")}},
      {"rename of a dir",
       "mv /opt/app /opt/app2",
       {"D /opt/app", "A /opt/app2", "A /opt/app2/lib", "A /opt/app2/lib/x.so " + H("elf\n"),
        "A /opt/app2/run " + H("#!/bin/sh\necho app\n")}},
      {"rename of a dir to another parent, then changes inside",
       "mv /opt/app /srv/app && echo patched > /srv/app/run && rm /srv/app/lib/x.so",
       {"D /opt/app", "A /srv/app", "A /srv/app/lib", "A /srv/app/run " + H("patched\n")}},
      {"rename of a file",
       "mv /etc/group /etc/group.bak",
       {"D /etc/group", "A /etc/group.bak " + H("root:x:0:\n")}},
      {"file replaced by a dir",
       "rm /etc/hosts && mkdir /etc/hosts && echo x > /etc/hosts/x",
       {"C /etc/hosts type", "A /etc/hosts/x " + H("x\n")}},
      {"dir replaced by a file",
       "rm -rf /srv/www && echo f > /srv/www",
       {"C /srv/www type " + H("f\n")}},
      {"symlink retargeted", "ln -sfn /etc/hosts /etc/motd.link", {"C /etc/motd.link size,link"}},
      {"delete of a whole dir", "rm -rf /opt/app", {"D /opt/app"}},
      {"writes into a volume are state, not drift", "echo state > /data/db && mkdir /data/sub", {}},
      {"a file created and deleted again", "echo t > /tmp/x && rm /tmp/x", {}},
  };
}

class DiffTest : public ContainerTest {
 protected:
  void SetUp() override {
    ContainerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    vol_ = tmp_ + "/vol";
    mkdir(vol_.c_str(), 0755);
  }

  // Starts a container, applies `script`, and returns its diff lines after
  // checking them against the naive comparison.
  // With `ids`, the container runs in a user namespace with that range.
  std::vector<std::string> Apply(const std::string& name, const std::string& script,
                                 const IdRange& ids = {}) {
    std::vector<std::string> args = {"run", "--detach", "--name",
                                     name,  "--volume", vol_ + ":/data"};
    if (ids.enabled()) {
      args.insert(args.end(), {"--userns", "--userns-range",
                               std::to_string(ids.host) + ":" + std::to_string(ids.count)});
    }
    args.insert(args.end(), {"bb", "--", "/bin/sleep", "1000"});
    CliResult run = Cli(args);
    EXPECT_EQ(run.code, 0) << run.err;
    if (run.code != 0) return {};
    Sh(name, script);
    CliResult diff = Cli({"diff", name});
    EXPECT_TRUE(diff.code == 0 || diff.code == 1) << diff.err;
    std::vector<std::string> lines = Lines(diff.out);
    EXPECT_EQ(diff.code, lines.empty() ? 0 : 1);

    // Cross-check: image tree vs the merged tree the container sees.
    const std::vector<std::string> excluded = {"/proc", "/dev", "/sys", "/data"};
    ContainerRecord r = Record(name);
    auto image = Listing(state_dir_ + "/images/bb/rootfs", excluded);
    auto merged = Listing("/proc/" + std::to_string(r.pid) + "/root", excluded);
    // From the host, a user namespace's files show their host owners.
    for (auto& [path, e] : merged) {
      e.uid = ContainerViewId(e.uid, ids);
      e.gid = ContainerViewId(e.gid, ids);
    }
    EXPECT_FALSE(image.empty());
    EXPECT_FALSE(merged.empty());
    EXPECT_EQ(Lines(DiffText(NaiveDiff(image, merged))), lines)
        << "naive comparison disagrees for: " << script;
    return lines;
  }

  std::string vol_;
};

TEST_F(DiffTest, EveryCaseIsExactAndAgreesWithTheNaiveComparison) {
  int i = 0;
  for (const DiffCase& c : Cases()) {
    std::string name = "case" + std::to_string(i++);
    EXPECT_EQ(Apply(name, c.script), c.want) << c.name;
    CliResult rm = Cli({"rm", "--force", name});
    EXPECT_EQ(rm.code, 0) << rm.err;
  }
}

// The changes of several cases made in one container, and what its diff must say.
std::pair<std::string, std::vector<std::string>> Combined() {
  std::vector<int> picked = {0, 1, 2, 3, 4, 5, 6, 11, 13};
  std::string script;
  std::vector<std::string> want;
  std::vector<DiffCase> cases = Cases();
  for (int k : picked) {
    script += (script.empty() ? "" : " && ") + cases[k].script;
    want.insert(want.end(), cases[k].want.begin(), cases[k].want.end());
  }
  auto path_of = [](const std::string& line) { return line.substr(2, line.find(' ', 2) - 2); };
  std::stable_sort(want.begin(), want.end(), [&](const std::string& a, const std::string& b) {
    return path_of(a) < path_of(b);
  });
  return {script, want};
}

TEST_F(DiffTest, UnderAUserNamespaceTheDiffIsTheSameInTheContainersView) {
  const IdRange ids{300000, 65536};
  auto [script, want] = Combined();
  // A volume is writable by the container's root once the range owns it.
  ASSERT_EQ(chown(vol_.c_str(), ids.host, ids.host), 0);
  EXPECT_EQ(Apply("uns", script, ids), want);
  // On disk the upper layer holds host ids: the new file belongs to the
  // range's first id, the chowned one to range + 1000.
  const std::string upper = state_dir_ + "/containers/uns/upper";
  struct stat st;
  ASSERT_EQ(stat((upper + "/etc/motd").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 300000u);
  EXPECT_EQ(st.st_gid, 300000u);
  ASSERT_EQ(stat((upper + "/srv/www/index.html").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 301000u);
  EXPECT_EQ(st.st_gid, 301000u);
  // Writes into the volume land as the range's root too.
  ASSERT_EQ(stat((vol_ + "/db").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 300000u);
  ASSERT_EQ(Cli({"stop", "uns"}).code, 0);
  CliResult text = Cli({"diff", "uns"});
  EXPECT_EQ(text.code, 1);
  EXPECT_EQ(Lines(text.out), want);
}

TEST_F(DiffTest, AllChangesInOneContainer) {
  auto [script, want] = Combined();
  EXPECT_EQ(Apply("all", script), want);
  EXPECT_EQ(ReadSmallFile(vol_ + "/db", 100).value(), "state\n");

  // The same diff once the container has stopped, and in JSON.
  ASSERT_EQ(Cli({"stop", "all"}).code, 0);
  CliResult text = Cli({"diff", "all"});
  EXPECT_EQ(text.code, 1);
  EXPECT_EQ(Lines(text.out), want);
  CliResult json = Cli({"diff", "all", "--format", "json"});
  ASSERT_EQ(json.code, 1) << json.err;
  web::json::value v = web::json::value::parse(json.out);
  EXPECT_EQ(v.at("container").as_string(), "all");
  EXPECT_EQ(v.at("image").as_string(), "bb");
  EXPECT_EQ(v.at("summary").at("added").as_integer(), 6);
  EXPECT_EQ(v.at("summary").at("modified").as_integer(), 4);
  EXPECT_EQ(v.at("summary").at("removed").as_integer(), 4);
  ASSERT_EQ(v.at("events").size(), want.size());
  EXPECT_EQ(v.at("events")[0].at("path").as_string(), "/etc/group");
  EXPECT_EQ(v.at("events")[0].at("kind").as_string(), "modified");
}

}  // namespace
}  // namespace driftwatch::container::testing
