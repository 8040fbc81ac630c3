// Hostile trees: the real driftwatch binary baselines and checks trees built
// to break a file walker (symlink loops, FIFOs, devices, deep chains, huge
// directories, hostile names, a 10 GiB sparse file, unreadable files, a tree
// changing under the scan, a bind-mount loop). In every case the agent must
// finish within its time limit with exit 0 or 1, print JSON that parses,
// report warnings where due, and find nothing new on a second check of an
// unchanged tree.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/hostile/agent_runner.h"
#include "tests/testing/temp_tree.h"

// After gtest: cpprestsdk defines a U() macro that breaks gtest templates.
#include <cpprest/json.h>

namespace driftwatch {
namespace {

namespace fs = std::filesystem;
namespace tu = driftwatch::testutil;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct Outcome {
  int exit_code = -1;
  web::json::value json;
  std::vector<std::string> events;  // "kind path [attrs]"
  std::vector<std::string> warnings;
  std::string err;
  double seconds = 0;
};

class HostileTree : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "root";
    fs::create_directories(root_);
  }

  // Runs `driftwatch <command> --format json` on the tree; the JSON must parse.
  Outcome Dw(const std::string& command, const std::string& prefix = "", int timeout_s = 60) {
    tu::AgentRun r =
        tu::RunAgent(command + " --format json --root " + tu::Quote(root_) + " --rules " +
                         tu::Quote(Rules()) + " --db " + tu::Quote(dir_ / "agent.db"),
                     dir_ / "stderr.txt", timeout_s, prefix);
    Outcome o;
    o.exit_code = r.exit_code;
    o.err = r.err;
    o.seconds = r.seconds;
    EXPECT_NE(r.exit_code, 124) << command << " did not finish in " << timeout_s << " s";
    try {
      o.json = web::json::value::parse(r.out);
    } catch (const std::exception& e) {
      ADD_FAILURE() << command << ": output is not JSON (" << e.what()
                    << "): " << r.out.substr(0, 300) << "\nstderr: " << r.err;
      return o;
    }
    if (o.json.has_field("warnings")) {
      for (const auto& w : o.json.at("warnings").as_array()) o.warnings.push_back(w.as_string());
    }
    if (o.json.has_field("events")) {
      for (const auto& e : o.json.at("events").as_array()) {
        std::string line = e.at("kind").as_string() + " " + e.at("path").as_string();
        const auto& attrs = e.at("attributes");
        for (size_t i = 0; i < attrs.size(); ++i) {
          line += (i ? "," : " [") + attrs.at(i).as_string();
        }
        if (attrs.size() > 0) line += "]";
        o.events.push_back(line);
      }
    }
    return o;
  }

  // Baseline must succeed; returns its outcome (stats, warnings).
  Outcome Baseline(const std::string& prefix = "") {
    Outcome b = Dw("baseline create", prefix);
    EXPECT_EQ(b.exit_code, 0) << b.err;
    return b;
  }

  // Two checks in a row on the unchanged tree: nothing new either time.
  void ExpectTwoQuietChecks(const std::string& prefix = "") {
    for (int i = 0; i < 2; ++i) {
      Outcome c = Dw("check", prefix);
      EXPECT_EQ(c.exit_code, 0) << "check " << i << ": " << c.err;
      EXPECT_THAT(c.events, IsEmpty()) << "check " << i;
    }
  }

  static uint64_t Stat(const Outcome& o, const char* key) {
    return o.json.at("stats").at(key).as_number().to_uint64();
  }

  static std::string Rules() { return tu::SourceDir() + "/tests/hostile/rules.yaml"; }
  std::string P(const std::string& rel) const { return root_ + rel; }

  tu::TempDir dir_;
  std::string root_;
};

TEST_F(HostileTree, SymlinkLoopsFifosSocketsAndDevicesAreNeverFollowedOrOpened) {
  fs::create_directories(P("/d"));
  tu::WriteFile(P("/d/f"), "data\n");
  fs::create_symlink("loop2", P("/loop1"));
  fs::create_symlink("loop1", P("/loop2"));
  fs::create_symlink("self", P("/self"));
  fs::create_symlink("/", P("/slash"));
  fs::create_symlink("..", P("/d/up"));
  fs::create_symlink("../d", P("/d/again"));
  ASSERT_EQ(::mkfifo(P("/fifo").c_str(), 0644), 0);
  // A FIFO with a writer-less reader would block an open() forever.
  int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(sock, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string sock_path = P("/sock");
  ASSERT_LT(sock_path.size(), sizeof addr.sun_path);
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(sock);
  uint64_t devices = 0;
  if (geteuid() == 0) {
    ASSERT_EQ(::mknod(P("/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    ASSERT_EQ(::mknod(P("/disk").c_str(), S_IFBLK | 0600, makedev(7, 250)), 0);
    devices = 2;
  }

  Outcome b = Baseline();
  EXPECT_THAT(b.warnings, IsEmpty());
  EXPECT_EQ(Stat(b, "files"), 1u);
  EXPECT_EQ(Stat(b, "dirs"), 1u);
  EXPECT_EQ(Stat(b, "others"), 8u + devices);  // 6 symlinks, fifo, socket, devices
  ExpectTwoQuietChecks();

  fs::remove(P("/slash"));
  fs::create_symlink("/etc", P("/slash"));
  Outcome c = Dw("check");
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_THAT(c.events, ElementsAre("modified /slash [link]"));
}

TEST_F(HostileTree, ThousandDeepDirectoryChain) {
  std::string rel;
  for (int i = 0; i < 1000; ++i) rel += "/d";
  fs::create_directories(P(rel));
  tu::WriteFile(P(rel + "/leaf"), "bottom\n");

  Outcome b = Baseline();
  EXPECT_THAT(b.warnings, IsEmpty());
  EXPECT_EQ(Stat(b, "dirs"), 1000u);
  EXPECT_EQ(Stat(b, "files"), 1u);
  ExpectTwoQuietChecks();

  tu::WriteFile(P(rel + "/leaf"), "changed\n");
  Outcome c = Dw("check");
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_THAT(c.events, ElementsAre("modified " + rel + "/leaf [size,hash]"));
}

TEST_F(HostileTree, HundredThousandEntriesInOneDirectory) {
  fs::create_directories(P("/wide"));
  for (int i = 0; i < 100000; ++i) {
    const std::string name = P("/wide/f" + std::to_string(i));
    int fd = ::open(name.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0) << name;
    ::close(fd);
  }

  Outcome b = Baseline();
  EXPECT_THAT(b.warnings, IsEmpty());
  EXPECT_EQ(Stat(b, "files"), 100000u);
  EXPECT_EQ(Stat(b, "dirs"), 1u);
  std::cout << "[ figures  ] baseline of 100,000 entries: " << b.seconds << " s\n";
  ExpectTwoQuietChecks();

  fs::remove(P("/wide/f31337"));
  Outcome c = Dw("check");
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_THAT(c.events, ElementsAre("removed /wide/f31337"));
}

TEST_F(HostileTree, NewlinesInvalidUtf8AndLongNamesAreEscaped) {
  const std::string long_name(255, 'n');
  tu::WriteFile(P("/names/new\nline"), "1");
  tu::WriteFile(P("/names/bad\xff\xfe"), "2");
  tu::WriteFile(P("/names/" + long_name), "3");
  tu::WriteFile(P("/names/back\\slash"), "4");
  tu::WriteFile(P("/names/tab\tand\r"), "5");
  tu::WriteFile(P("/names/caf\xc3\xa9"), "6");
  tu::WriteFile(P("/names/-rf *"), "7");

  Outcome b = Baseline();
  EXPECT_THAT(b.warnings, IsEmpty());
  EXPECT_EQ(Stat(b, "files"), 7u);
  ExpectTwoQuietChecks();

  for (const char* name :
       {"new\nline", "bad\xff\xfe", "back\\slash", "tab\tand\r", "caf\xc3\xa9", "-rf *"}) {
    tu::AppendFile(P(std::string("/names/") + name), "+");
  }
  tu::AppendFile(P("/names/" + long_name), "+");
  Outcome c = Dw("check");
  EXPECT_EQ(c.exit_code, 1);
  // Sorted by raw bytes, shown escaped.
  EXPECT_THAT(c.events, ElementsAre("modified /names/-rf * [size,hash]",
                                    "modified /names/back\\\\slash [size,hash]",
                                    "modified /names/bad\\xff\\xfe [size,hash]",
                                    "modified /names/caf\xc3\xa9 [size,hash]",
                                    "modified /names/new\\nline [size,hash]",
                                    "modified /names/" + long_name + " [size,hash]",
                                    "modified /names/tab\\tand\\r [size,hash]"));
}

TEST_F(HostileTree, TenGibSparseFileIsHashedInBoundedTime) {
  tu::WriteFile(P("/big/sparse"), "");
  ASSERT_EQ(::truncate(P("/big/sparse").c_str(), 10LL << 30), 0);
  // Let the file's ctime leave the racy window (2 s) of the scan, so the
  // check may trust the stat cache instead of reading 10 GiB again.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));

  // Reading 10 GiB of holes is kernel copying: seconds on an idle machine,
  // more on a busy one; the limit only catches a hang.
  Outcome b = Dw("baseline create", "", 150);
  EXPECT_EQ(b.exit_code, 0) << b.err;
  EXPECT_THAT(b.warnings, IsEmpty());
  EXPECT_EQ(Stat(b, "files"), 1u);
  EXPECT_EQ(Stat(b, "bytes_hashed"), 10ull << 30);
  std::cout << "[ figures  ] baseline of a 10 GiB sparse file: " << b.seconds << " s\n";
  Outcome c = Dw("check");
  EXPECT_EQ(c.exit_code, 0);
  EXPECT_THAT(c.events, IsEmpty());
  EXPECT_EQ(Stat(c, "bytes_hashed"), 0u);
  EXPECT_EQ(Stat(c, "files_hashed"), 0u);
}

TEST_F(HostileTree, UnreadableFilesAndDirectoriesBecomeWarnings) {
  tu::WriteFile(P("/locked/secret"), "s3cr3t\n");
  tu::WriteFile(P("/locked/private/inner"), "x\n");
  tu::WriteFile(P("/locked/open"), "o\n");
  ASSERT_EQ(::chmod(P("/locked/secret").c_str(), 0), 0);
  ASSERT_EQ(::chmod(P("/locked/private").c_str(), 0), 0);

  // Root reads anything; without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH
  // (dropped from the bounding set before exec) permissions apply again.
  std::string prefix;
  if (geteuid() == 0) {
    prefix = "setpriv --inh-caps=-all --bounding-set=-dac_override,-dac_read_search --";
    if (tu::Run(prefix + " true").exit_code != 0) {
      GTEST_SKIP() << "needs setpriv (util-linux) to drop CAP_DAC_OVERRIDE for root";
    }
  }
  Outcome b = Baseline(prefix);
  EXPECT_THAT(b.warnings, ElementsAre("/locked/private: private: Permission denied",
                                      "/locked/secret: secret: Permission denied"));
  EXPECT_EQ(Stat(b, "files"), 2u);  // secret is listed (unhashed), inner is not reached
  EXPECT_EQ(Stat(b, "dirs"), 2u);
  for (int i = 0; i < 2; ++i) {
    Outcome c = Dw("check", prefix);
    EXPECT_EQ(c.exit_code, 0) << c.err;
    EXPECT_THAT(c.events, IsEmpty());
    EXPECT_EQ(c.warnings, b.warnings);
  }
}

TEST_F(HostileTree, TreeChangingDuringBaselineGivesWarningsNotCrashes) {
  for (int d = 0; d < 20; ++d) {
    for (int f = 0; f < 200; ++f) {
      tu::WriteFile(P("/churn/d" + std::to_string(d) + "/f" + std::to_string(f)),
                    std::string(2048, static_cast<char>('a' + f % 26)));
    }
  }
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> mutations{0};
  std::thread mutator([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::error_code ec;
    for (uint64_t i = 0; !stop && std::chrono::steady_clock::now() < deadline; ++i) {
      const std::string dir = P("/churn/d" + std::to_string(i % 20));
      const std::string f = dir + "/f" + std::to_string((i * 7) % 200);
      switch (i % 4) {
        case 0:
          fs::remove(f, ec);
          break;
        case 1:
          tu::AppendFile(f, "grown");
          break;
        case 2:
          tu::WriteFile(dir + "/new" + std::to_string(i % 50), "n");
          break;
        case 3:
          fs::rename(dir + "/new" + std::to_string((i + 25) % 50), dir + "/moved", ec);
          break;
      }
      ++mutations;
    }
  });
  Outcome b = Dw("baseline create");
  stop = true;
  mutator.join();
  EXPECT_EQ(b.exit_code, 0) << b.err;
  EXPECT_GT(mutations.load(), 0u);
  const std::regex expected(
      "/churn/d[0-9]+/[a-z0-9]+: (vanished during scan|changed during scan|replaced during scan)");
  for (const std::string& w : b.warnings) {
    EXPECT_TRUE(std::regex_match(w, expected)) << w;
  }
  std::cout << "[ figures  ] " << mutations.load() << " mutations during a " << b.seconds
            << " s baseline, " << b.warnings.size() << " warnings\n";

  // Once the tree is still, a new baseline is clean and checks are quiet.
  Outcome again = Baseline();
  EXPECT_THAT(again.warnings, IsEmpty());
  ExpectTwoQuietChecks();
}

class BindMountLoop : public HostileTree {
 protected:
  void TearDown() override {
    for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
  }
  std::vector<std::string> mounts_;
};

TEST_F(BindMountLoop, BindMountOfADirectoryIntoItselfFinishes) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: mount --bind";
  ASSERT_TRUE(tu::EnterPrivateMountNamespace()) << "unshare(CLONE_NEWNS): " << std::strerror(errno);
  tu::WriteFile(P("/loop/file"), "x\n");
  fs::create_directories(P("/loop/sub"));
  tu::WriteFile(P("/other/on-root-fs"), "y\n");
  ASSERT_EQ(::mount(P("/loop").c_str(), P("/loop/sub").c_str(), nullptr, MS_BIND | MS_REC, nullptr),
            0)
      << std::strerror(errno);
  mounts_.push_back(P("/loop/sub"));
  // A second file system below the root is not entered (no cross_mounts).
  fs::create_directories(P("/tmpfs"));
  ASSERT_EQ(::mount("tmpfs", P("/tmpfs").c_str(), "tmpfs", 0, "size=1m"), 0)
      << std::strerror(errno);
  mounts_.push_back(P("/tmpfs"));
  tu::WriteFile(P("/tmpfs/hidden"), "z\n");

  Outcome b = Baseline();
  EXPECT_THAT(b.warnings, IsEmpty());
  // /loop, /loop/sub (the bind: same device, one level of itself), its sub
  // (the empty mount point underneath), /other and /tmpfs (not entered).
  EXPECT_EQ(Stat(b, "dirs"), 5u);
  EXPECT_EQ(Stat(b, "files"), 3u);  // loop/file, loop/sub/file, other/on-root-fs
  ExpectTwoQuietChecks();

  tu::WriteFile(P("/loop/file"), "changed\n");  // seen twice: directly and through the bind
  Outcome c = Dw("check");
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_THAT(c.events, ElementsAre("modified /loop/file [size,hash]",
                                    "modified /loop/sub/file [size,hash]"));
}

}  // namespace
}  // namespace driftwatch
