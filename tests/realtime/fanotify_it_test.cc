// The fanotify source on the real kernel (root only): each test marks a
// tmpfs of its own, mounted in a private mount namespace, so that nothing
// else on the machine pours events in. Changes are made by child processes,
// since the source drops the events of its own process.
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/fanotify_source.h"
#include "core/fs_events.h"
#include "tests/realtime/realtime_testing.h"

namespace driftwatch {
namespace {

namespace fs = std::filesystem;

}  // namespace

// Every field, for failure messages.
void PrintTo(const Actor& a, std::ostream* os) {
  *os << "{pid " << a.pid << ", exe '" << a.exe << "', cmdline '" << a.cmdline << "', comm '"
      << a.comm << "', uid " << a.uid << ", euid " << a.euid << ", loginuid " << a.loginuid
      << ", login '" << a.login << "', session " << a.session << ", ppid " << a.ppid
      << ", parent_exe '" << a.parent_exe << "', cgroup '" << a.cgroup << "', container '"
      << a.container << "', exited " << a.exited << "}";
}

namespace {

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

void Touch(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 || ::write(fd, "data", 4) != 4) ::_exit(3);
  ::close(fd);
}

class FanotifyTest : public testutil::PrivateTmpfsTest {
 protected:
  void SetUp() override {
    MountTmpfs("fanotify", "0777");
    if (Stopped()) return;
    root_ = tmpfs_;
    auto source = OpenFanotify();
    ASSERT_TRUE(source.ok()) << source.status().message();
    source_ = std::move(source).value();
    ASSERT_TRUE(source_->Watch(root_).ok());
  }

  void TearDown() override {
    source_.reset();
    UnmountTmpfs();
  }

  // Reads until `done` holds for the events read so far or 5 s pass.
  std::vector<FsEvent> ReadUntil(const FsEventFilter& keep,
                                 const std::function<bool(const std::vector<FsEvent>&)>& done) {
    std::vector<FsEvent> events;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done(events) && std::chrono::steady_clock::now() < deadline) {
      auto n = source_->Read(keep, 100'000'000, 1000, &events);
      EXPECT_TRUE(n.ok()) << n.status().message();
    }
    return events;
  }
  std::vector<FsEvent> ReadUntilPath(const std::string& path) {
    return ReadUntil(UnderRoot(), [path](const std::vector<FsEvent>& evs) {
      for (const FsEvent& e : evs) {
        if (e.path == path) return true;
      }
      return false;
    });
  }
  FsEventFilter UnderRoot() const {
    return [root = root_](std::string_view path, bool) {
      return path.starts_with(root + "/") || path == root;
    };
  }

  std::string root_;
  std::unique_ptr<FanotifySource> source_;
};

TEST_F(FanotifyTest, ReportsEachKindWithExactPathsAndTheWriter) {
  const std::string a = root_ + "/a";
  const std::string d = root_ + "/d";
  const std::string b = d + "/b";
  const std::string e = root_ + "/e";
  const std::string end = root_ + "/end";
  const pid_t child = testutil::InChild([&] {
    Touch(a);                        // create, modify, close_write
    ::chmod(a.c_str(), 0600);        // attrib
    ::mkdir(d.c_str(), 0755);        // create (dir)
    ::chmod(d.c_str(), 0700);        // attrib (dir)
    ::rename(a.c_str(), b.c_str());  // moved_from a, moved_to d/b
    ::unlink(b.c_str());             // delete
    ::mkdir(e.c_str(), 0755);        // create (dir)
    ::rmdir(e.c_str());              // delete (dir)
    Touch(end);
  });
  std::vector<FsEvent> events = ReadUntilPath(end);
  std::map<std::string, uint32_t> masks;
  std::map<std::string, bool> dirs;
  for (const FsEvent& e : events) {
    ASSERT_EQ(e.kind, FsEvent::Kind::kChange) << e.gap;
    EXPECT_EQ(e.actor.pid, child) << e.path;
    EXPECT_GT(e.time_ns, 0);
    masks[e.path] |= e.mask;
    dirs[e.path] = e.is_dir;
  }
  const std::map<std::string, uint32_t> want = {
      {a, kFsCreate | kFsModify | kFsCloseWrite | kFsAttrib | kFsMovedFrom},
      {d, kFsCreate | kFsAttrib},
      {b, kFsMovedTo | kFsDelete},
      {e, kFsCreate | kFsDelete},
      {end, kFsCreate | kFsModify | kFsCloseWrite},
  };
  EXPECT_EQ(masks, want);
  EXPECT_EQ(dirs, (std::map<std::string, bool>{
                      {a, false}, {d, true}, {b, false}, {e, true}, {end, false}}));
}

// Directory paths are cached by handle: a moved directory must not leave
// later events under its old name, even when the directory it left is gone
// before its event is read.
TEST_F(FanotifyTest, EventsAfterADirectoryMoveCarryTheNewPath) {
  for (const char* dir : {"/a", "/a/x", "/a/x/sub", "/b", "/c"}) {
    ASSERT_EQ(::mkdir((root_ + dir).c_str(), 0755), 0);  // own events: dropped
  }
  testutil::InChild([&] {
    Touch(root_ + "/a/x/f");
    Touch(root_ + "/a/x/sub/f");
  });
  std::vector<FsEvent> first = ReadUntilPath(root_ + "/a/x/sub/f");
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].path, root_ + "/a/x/f");
  testutil::InChild([&] {
    ::rename((root_ + "/a/x").c_str(), (root_ + "/b/x").c_str());
    ::rmdir((root_ + "/a").c_str());
    Touch(root_ + "/b/x/g");
    Touch(root_ + "/b/x/sub/g");
    ::rename((root_ + "/b/x").c_str(), (root_ + "/c/y").c_str());
    Touch(root_ + "/c/y/sub/h");
  });
  std::vector<FsEvent> events = ReadUntilPath(root_ + "/c/y/sub/h");
  std::set<std::string> paths;
  for (const FsEvent& e : events) paths.insert(e.path);
  // A directory's path is the one it has when the event is read, so g and
  // sub/g, written while x was b/x, are named under c/y (the moves say the
  // rest). The move out of a is not reported: a was removed before the event
  // was read, and its removal is. No path may be under a/ any more.
  EXPECT_EQ(paths,
            (std::set<std::string>{root_ + "/a", root_ + "/b/x", root_ + "/c/y", root_ + "/c/y/g",
                                   root_ + "/c/y/sub/g", root_ + "/c/y/sub/h"}));
}

TEST_F(FanotifyTest, RejectedDirectoryCostsNoActor) {
  ASSERT_EQ(::mkdir((root_ + "/skip").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((root_ + "/keep").c_str(), 0755), 0);
  const std::string skip = root_ + "/skip/";
  std::vector<std::string> asked;
  FsEventFilter keep = [&](std::string_view path, bool) {
    asked.emplace_back(path);
    return path.starts_with(root_ + "/") && !path.starts_with(skip);
  };
  testutil::InChild([&] {
    for (int i = 0; i < 50; ++i) Touch(skip + std::to_string(i));
    Touch(root_ + "/keep/one");
  });
  std::vector<FsEvent> events = ReadUntil(keep, [&](const std::vector<FsEvent>& evs) {
    return !evs.empty() && evs.back().path == root_ + "/keep/one";
  });
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].path, root_ + "/keep/one");
  // 50 under skip/, skip/ itself once as a directory (kept: no ignore
  // mark), then keep/one.
  EXPECT_EQ(asked.size(), 52u);
  EXPECT_EQ(asked[1], root_ + "/skip");
  const FanotifyStats stats = source_->stats();
  EXPECT_EQ(stats.kept, 1u);
  EXPECT_EQ(stats.actor_lookups, 1u);
  EXPECT_LE(stats.proc_reads, 1u);
}

// A filter that keeps everything under the root but skip/ and its tree.
FsEventFilter AllButSkip(const std::string& root) {
  return [skip = root + "/skip"](std::string_view path, bool) {
    return path != skip && !path.starts_with(skip + "/");
  };
}

bool HasPath(const std::vector<FsEvent>& evs, const std::string& path) {
  for (const FsEvent& e : evs) {
    if (e.path == path) return true;
  }
  return false;
}

TEST_F(FanotifyTest, EventsInARejectedDirectoryStopAfterTheFirst) {
  ASSERT_EQ(::mkdir((root_ + "/skip").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((root_ + "/keep").c_str(), 0755), 0);
  const FsEventFilter keep = AllButSkip(root_);
  testutil::InChild([&] {
    Touch(root_ + "/skip/first");
    Touch(root_ + "/keep/a");
  });
  std::vector<FsEvent> events = ReadUntil(
      keep, [&](const std::vector<FsEvent>& evs) { return HasPath(evs, root_ + "/keep/a"); });
  ASSERT_TRUE(HasPath(events, root_ + "/keep/a"));
  const FanotifyStats before = source_->stats();
  if (!before.ignores) GTEST_SKIP() << "this kernel has no FAN_MARK_IGNORE (Linux 6.0)";
  EXPECT_EQ(before.ignore_marks, 1u);
  testutil::InChild([&] {
    for (int i = 0; i < 200; ++i) Touch(root_ + "/skip/" + std::to_string(i));
    Touch(root_ + "/keep/b");
  });
  events = ReadUntil(
      keep, [&](const std::vector<FsEvent>& evs) { return HasPath(evs, root_ + "/keep/b"); });
  ASSERT_TRUE(HasPath(events, root_ + "/keep/b"));
  for (const FsEvent& e : events) EXPECT_FALSE(e.path.starts_with(root_ + "/skip")) << e.path;
  const FanotifyStats after = source_->stats();
  // Only keep/b's events (create, modify, close_write, merged or not) were
  // read; the 200 files under skip/ cost the reader nothing.
  EXPECT_LE(after.events - before.events, 3u);
  EXPECT_GE(after.events - before.events, 1u);
  EXPECT_EQ(after.ignore_marks, 1u);
}

TEST_F(FanotifyTest, ADirectoryMovedFromARejectedPlaceReportsLaterWrites) {
  for (const char* dir : {"/skip", "/skip/d", "/skip/d/sub", "/keep"}) {
    ASSERT_EQ(::mkdir((root_ + dir).c_str(), 0755), 0);
  }
  const FsEventFilter keep = AllButSkip(root_);
  testutil::InChild([&] {
    Touch(root_ + "/skip/d/x");
    Touch(root_ + "/skip/d/sub/x");
    Touch(root_ + "/keep/a");
  });
  std::vector<FsEvent> events = ReadUntil(
      keep, [&](const std::vector<FsEvent>& evs) { return HasPath(evs, root_ + "/keep/a"); });
  ASSERT_TRUE(HasPath(events, root_ + "/keep/a"));
  const FanotifyStats marked = source_->stats();
  if (!marked.ignores) GTEST_SKIP() << "this kernel has no FAN_MARK_IGNORE (Linux 6.0)";
  EXPECT_EQ(marked.ignore_marks, 2u);  // skip/d and skip/d/sub
  testutil::InChild([&] { ::rename((root_ + "/skip/d").c_str(), (root_ + "/keep/d").c_str()); });
  events = ReadUntil(
      keep, [&](const std::vector<FsEvent>& evs) { return HasPath(evs, root_ + "/keep/d"); });
  ASSERT_TRUE(HasPath(events, root_ + "/keep/d"));
  EXPECT_EQ(events.back().mask & kFsMovedTo, kFsMovedTo);
  EXPECT_EQ(source_->stats().ignore_flushes, 1u);
  testutil::InChild([&] {
    Touch(root_ + "/keep/d/y");
    Touch(root_ + "/keep/d/sub/z");
  });
  events = ReadUntil(keep, [&](const std::vector<FsEvent>& evs) {
    return HasPath(evs, root_ + "/keep/d/y") && HasPath(evs, root_ + "/keep/d/sub/z");
  });
  EXPECT_TRUE(HasPath(events, root_ + "/keep/d/y"));
  EXPECT_TRUE(HasPath(events, root_ + "/keep/d/sub/z"));
  for (const FsEvent& e : events) EXPECT_FALSE(e.path.starts_with(root_ + "/skip")) << e.path;
}

TEST_F(FanotifyTest, DropsTheEventsOfItsOwnProcess) {
  const std::string own = root_ + "/own";
  const std::string other = root_ + "/other";
  Touch(own);
  testutil::InChild([&] { Touch(other); });
  std::vector<FsEvent> events = ReadUntilPath(other);
  ASSERT_FALSE(events.empty());
  for (const FsEvent& e : events) EXPECT_EQ(e.path, other);
  EXPECT_EQ(source_->stats().own, 1u);
}

TEST_F(FanotifyTest, ActorOfAKnownProcessUnderAnotherUid) {
  const char* writer = std::getenv("DRIFTWATCH_FANOTIFY_WRITER");
  ASSERT_NE(writer, nullptr) << "DRIFTWATCH_FANOTIFY_WRITER is not set";
  const std::string exe = fs::canonical(writer).string();
  const std::string target = root_ + "/by-helper";
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::setresgid(4242, 4242, 4242) != 0 || ::setresuid(4242, 4242, 4242) != 0) ::_exit(5);
    ::execl(exe.c_str(), exe.c_str(), target.c_str(), nullptr);
    ::_exit(6);
  }
  std::vector<FsEvent> events = ReadUntilPath(target);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ASSERT_FALSE(events.empty());
  Actor want;
  want.pid = pid;
  want.exe = exe;
  want.cmdline = exe + " " + target;
  want.comm = fs::path(exe).filename().string().substr(0, 15);
  want.uid = 4242;
  want.euid = 4242;
  const std::string loginuid = ReadText("/proc/self/loginuid");
  want.loginuid = loginuid.empty() || loginuid == "4294967295" ? -1 : std::stoll(loginuid);
  const std::string session = ReadText("/proc/self/sessionid");
  want.session = session.empty() || session == "4294967295" ? -1 : std::stoll(session);
  if (want.loginuid >= 0) {
    if (struct passwd* pw = ::getpwuid(static_cast<uid_t>(want.loginuid))) want.login = pw->pw_name;
  }
  want.ppid = ::getpid();
  want.parent_exe = fs::read_symlink("/proc/self/exe").string();
  std::ifstream cgroups("/proc/self/cgroup");
  for (std::string line; std::getline(cgroups, line);) {
    if (line.starts_with("0::")) want.cgroup = line.substr(3);  // the cgroup v2 line
  }
  for (const FsEvent& e : events) {
    EXPECT_EQ(e.path, target);
    EXPECT_EQ(e.actor, want) << FormatActor(e.actor);
  }
}

TEST_F(FanotifyTest, ShortLivedShellHasItsPid) {
  const std::string f = root_ + "/f";
  const std::string sh = fs::canonical("/bin/sh").string();
  const pid_t pid = testutil::InChild([&] {
    ::execl("/bin/sh", "sh", "-c", ("echo x >> " + f).c_str(), nullptr);
    ::_exit(7);
  });
  std::vector<FsEvent> events = ReadUntilPath(f);
  ASSERT_FALSE(events.empty());
  for (const FsEvent& e : events) {
    EXPECT_EQ(e.actor.pid, pid);
    // Reaped before the event was read: only an earlier read could name it.
    EXPECT_TRUE(e.actor.exited || e.actor.exe == sh) << FormatActor(e.actor);
  }
}

// Limits in docs/realtime.md: an event names the path the writer used, and
// stores into a shared mapping give no modify event.
TEST_F(FanotifyTest, HardLinkWritesAreNamedByTheLinkAndMmapStoresAreNotSeen) {
  const std::string watched = root_ + "/etc-file";
  const std::string link = root_ + "/tmp-link";
  const std::string mapped = root_ + "/mapped";
  const std::string end = root_ + "/end";
  {
    std::ofstream(watched) << "0123456789";
    std::ofstream(mapped) << "0123456789";
  }
  ASSERT_EQ(::link(watched.c_str(), link.c_str()), 0);
  std::vector<FsEvent> setup;  // the own events above: dropped
  ASSERT_TRUE(source_->Read(UnderRoot(), 0, 100, &setup).ok());
  EXPECT_TRUE(setup.empty());
  testutil::InChild([&] {
    int fd = ::open(link.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0 || ::write(fd, "x", 1) != 1) ::_exit(3);
    ::close(fd);
    fd = ::open(mapped.c_str(), O_RDWR | O_CLOEXEC);
    void* map = ::mmap(nullptr, 10, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) ::_exit(4);
    ::close(fd);
    static_cast<char*>(map)[0] = 'X';
    ::msync(map, 10, MS_SYNC);
    ::munmap(map, 10);
    Touch(end);
  });
  std::map<std::string, uint32_t> masks;
  for (const FsEvent& e : ReadUntilPath(end)) masks[e.path] |= e.mask;
  EXPECT_EQ(masks, (std::map<std::string, uint32_t>{
                       {link, kFsModify | kFsCloseWrite},
                       {mapped, kFsCloseWrite},
                       {end, kFsCreate | kFsModify | kFsCloseWrite},
                   }));
  EXPECT_EQ(ReadText(mapped), "X123456789");
}

TEST_F(FanotifyTest, QueueOverflowIsAGap) {
  const int limit = std::stoi(ReadText("/proc/sys/fs/fanotify/max_queued_events"));
  if (limit > 100'000) GTEST_SKIP() << "the event queue holds " << limit << " events";
  testutil::InChild([&] {
    for (int i = 0; i < limit + 2000; ++i) {
      int fd =
          ::open((root_ + "/s" + std::to_string(i)).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      if (fd >= 0) ::close(fd);
    }
  });
  std::vector<FsEvent> events =
      ReadUntil([](std::string_view, bool) { return false; },
                [](const std::vector<FsEvent>& evs) { return !evs.empty(); });
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, FsEvent::Kind::kGap);
  EXPECT_EQ(events[0].gap, "event queue overflowed");
}

TEST_F(FanotifyTest, MountsUnderWatchedPathsAreGapsOthersAreNot) {
  char elsewhere[] = "/tmp/dw-fanotify-other-XXXXXX";
  ASSERT_NE(::mkdtemp(elsewhere), nullptr);
  const std::string sub = root_ + "/sub";
  ASSERT_EQ(::mkdir(sub.c_str(), 0755), 0);
  ASSERT_EQ(::mount("tmpfs", elsewhere, "tmpfs", 0, nullptr), 0);
  ASSERT_EQ(::mount("tmpfs", sub.c_str(), "tmpfs", 0, nullptr), 0);
  ASSERT_EQ(::umount2(sub.c_str(), 0), 0);
  ASSERT_EQ(::umount2(elsewhere, 0), 0);
  ::rmdir(elsewhere);
  std::vector<std::string> gaps;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (gaps.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::vector<FsEvent> events;
    ASSERT_TRUE(source_->Read(UnderRoot(), 100'000'000, 100, &events).ok());
    for (const FsEvent& e : events) {
      if (e.kind == FsEvent::Kind::kGap) gaps.push_back(e.gap);
    }
  }
  // Poll reports that the table changed, not how often: the mount and the
  // unmount may be seen as one change (nothing differs) or as two.
  for (const std::string& gap : gaps) {
    EXPECT_TRUE(gap == "filesystem mounted at " + sub || gap == "filesystem unmounted from " + sub)
        << gap;
  }
  // Mounted and left in place, a mount is always seen.
  ASSERT_EQ(::mount("tmpfs", sub.c_str(), "tmpfs", 0, nullptr), 0);
  std::vector<FsEvent> events =
      ReadUntil(UnderRoot(), [](const std::vector<FsEvent>& evs) { return !evs.empty(); });
  ::umount2(sub.c_str(), MNT_DETACH);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].gap, "filesystem mounted at " + sub);
}

TEST_F(FanotifyTest, AMarkThatFailsIsAGapOnTheNextRead) {
  Status st = source_->Watch("/proc/self");
  ASSERT_FALSE(st.ok());
  std::vector<FsEvent> events;
  ASSERT_TRUE(source_->Read(UnderRoot(), 0, 10, &events).ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, FsEvent::Kind::kGap);
  EXPECT_EQ(events[0].gap, st.message());
}

TEST_F(FanotifyTest, WakeEndsABlockedRead) {
  source_->Wake();
  std::vector<FsEvent> events;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(source_->Read(UnderRoot(), 5'000'000'000, 10, &events).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_TRUE(events.empty());
}

}  // namespace
}  // namespace driftwatch
