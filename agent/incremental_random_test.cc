// The property a journal must keep: on 200 random changes (seeded; the seed
// is printed on failure), a journal-driven check with the paths each change
// touched finds what a full check finds, root and counts included.
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <random>

#include <gtest/gtest.h>

#include "agent/incremental_testing.h"

namespace driftwatch::agent {
namespace {

namespace fs = std::filesystem;
using journaltest::Dirty;
using journaltest::Journal;
using testutil::WriteFile;

// The logical paths under `dir` (a logical directory), parents first.
std::vector<std::string> PathsUnder(const Journal& j, const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(j.Host(dir), ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    out.push_back(it->path().string().substr(j.root().size()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Random changes, each followed by a journal-driven and a full check.
class RandomSteps {
 public:
  RandomSteps(Journal& j, uint32_t seed) : j_(j), rng_(seed) {}

  void Build() {
    for (int d = 0; d < 5; ++d) {
      for (int s = 0; s < 4; ++s) {
        for (int f = 0; f < 10; ++f) {
          WriteFile(Dir(d, s) + "/f" + std::to_string(f), "v" + std::to_string(f) + "\n");
        }
      }
    }
    for (int f = 0; f < 30; ++f) WriteFile(j_.Host("/srv/app/p" + std::to_string(f)), "page\n");
    WriteFile(j_.Host("/etc/skip/state"), "0\n");
    fs::create_symlink("f0", j_.Host("/etc/d0/s0/link"));
  }

  // One random change; returns the dirty set a watcher would report.
  DirtySet Mutate(int step) {
    const std::string n = "n" + std::to_string(step);
    std::vector<std::string> all = PathsUnder(j_, "/etc");
    for (const std::string& p : PathsUnder(j_, "/srv/app")) all.push_back(p);
    std::vector<std::string> files, dirs, links;
    for (const std::string& p : all) {
      struct stat st;
      if (::lstat(j_.Host(p).c_str(), &st) != 0) continue;
      if (S_ISDIR(st.st_mode)) dirs.push_back(p);
      if (S_ISREG(st.st_mode)) files.push_back(p);
      if (S_ISLNK(st.st_mode)) links.push_back(p);
    }
    dirs.push_back("/etc");
    dirs.push_back("/srv/app");
    std::vector<std::string> nodes = files;
    nodes.insert(nodes.end(), dirs.begin(), dirs.end());
    auto pick = [&](const std::vector<std::string>& v) { return v[rng_() % v.size()]; };
    // Directories other than the top ones may be removed or moved.
    std::vector<std::string> movable;
    for (const std::string& p : all) {
      if (std::count(p.begin(), p.end(), '/') >= 2 && p != "/srv/app") movable.push_back(p);
    }
    const bool big = all.size() > 330;
    switch (rng_() % 13) {
      case 0:
        if (files.empty()) break;
        {
          std::string f = pick(files);
          WriteFile(j_.Host(f), "content " + n + "\n");
          return Dirty({f});
        }
      case 1: {
        std::string p = pick(nodes);
        const mode_t modes[] = {0600, 0644, 0700, 0755};
        ::chmod(j_.Host(p).c_str(), modes[rng_() % 4]);
        return Dirty({p});
      }
      case 2: {
        std::string p = pick(nodes);
        const uid_t ids[] = {0, 1000, 1001};
        if (::geteuid() == 0) ::lchown(j_.Host(p).c_str(), ids[rng_() % 3], ids[rng_() % 3]);
        return Dirty({p});
      }
      case 3: {
        std::string p = pick(nodes);
        if (rng_() % 3 == 0) {
          ::removexattr(j_.Host(p).c_str(), "user.k");
        } else {
          ::setxattr(j_.Host(p).c_str(), "user.k", n.data(), n.size(), 0);
        }
        return Dirty({p});
      }
      case 4: {
        std::string l = links.empty() || rng_() % 2 ? pick(dirs) + "/" + n : pick(links);
        fs::remove(j_.Host(l));
        fs::create_symlink("target-" + n, j_.Host(l));
        return Dirty({l});
      }
      case 5: {
        std::string f = pick(dirs) + "/" + n;
        WriteFile(j_.Host(f), "new\n");
        return Dirty({f});
      }
      case 6: {
        std::string d = pick(dirs) + "/" + n;
        WriteFile(j_.Host(d + "/a"), "a\n");
        WriteFile(j_.Host(d + "/sub/b"), "b\n");
        return Dirty(PathsUnder(j_, d), {d});
      }
      case 7:
      case 8: {
        if (movable.empty() || (!big && rng_() % 2)) break;
        std::string p = pick(movable);
        std::vector<std::string> gone = PathsUnder(j_, p);
        gone.push_back(p);
        fs::remove_all(j_.Host(p));
        return Dirty(gone);
      }
      case 9: {
        if (movable.empty()) break;
        std::string src = pick(movable);
        std::string to = pick(dirs);
        if (to == src || to.rfind(src + "/", 0) == 0) break;
        std::string dst = to + "/" + n;
        fs::rename(j_.Host(src), j_.Host(dst));
        return fs::is_directory(fs::symlink_status(j_.Host(dst))) ? Dirty({src, dst}, {dst})
                                                                  : Dirty({src, dst});
      }
      case 10: {
        std::string dst = pick(dirs) + "/" + n;
        if (rng_() % 2) {
          WriteFile(j_.Host("/outside/" + n + "/x"), "x\n");
          fs::rename(j_.Host("/outside/" + n), j_.Host(dst));
          return Dirty({dst}, {dst});
        }
        WriteFile(j_.Host("/outside/" + n), "x\n");
        fs::rename(j_.Host("/outside/" + n), j_.Host(dst));
        return Dirty({dst});
      }
      case 11: {
        if (movable.empty() || (!big && rng_() % 2)) break;
        std::string src = pick(movable);
        fs::rename(j_.Host(src), j_.Host("/outside/" + n));
        return Dirty({src});
      }
      default:
        break;
    }
    return Dirty({});
  }

 private:
  std::string Dir(int d, int s) const {
    return j_.Host("/etc/d" + std::to_string(d) + "/s" + std::to_string(s));
  }

  Journal& j_;
  std::mt19937 rng_;
};

TEST(IncrementalPropertyTest, JournalChecksEqualFullChecksOnRandomSteps) {
  uint32_t seed = std::random_device()();
  if (const char* s = std::getenv("DRIFTWATCH_TEST_SEED"); s != nullptr) {
    seed = static_cast<uint32_t>(std::strtoul(s, nullptr, 10));
  }
  SCOPED_TRACE("seed " + std::to_string(seed) + " (DRIFTWATCH_TEST_SEED=" + std::to_string(seed) +
               " repeats it)");
  Journal j;
  RandomSteps steps(j, seed);
  steps.Build();
  j.Start();
  for (int step = 0; step < 200; ++step) {
    DirtySet dirty = steps.Mutate(step);
    SCOPED_TRACE("step " + std::to_string(step));
    j.Step(std::move(dirty));
    if (::testing::Test::HasFailure()) return;
  }
}

}  // namespace
}  // namespace driftwatch::agent
