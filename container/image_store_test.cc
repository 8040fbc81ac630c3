// Image import and state records on an in-memory host: every directory,
// program and record write is in the host's log.
#include "container/image_store.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "container/state.h"
#include "tests/testing/mem_host.h"

namespace driftwatch::container {
namespace {

using testutil::MemHost;

constexpr const char* kState = "/nonexistent-driftwatch-state";

ImageDigester FixedDigest() {
  return [](const std::string&) -> Result<std::pair<Hash128, uint64_t>> {
    return std::make_pair(HashBytes("tree"), uint64_t{3});
  };
}

TEST(ImageStoreMemTest, ImportCopiesTheTreeAndRecordsIt) {
  MemHost host;
  host.PutFile("/src/etc/hostname", "box\n");
  host.ScriptSpawn(SpawnResult{0, "", ""});
  StateDir state(host, kState);
  ImportOptions opts;
  opts.keep_special = true;
  auto r = ImportImage(state, "bb", "/src", FixedDigest(), opts);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const std::string dir = std::string(kState) + "/images/bb";
  EXPECT_EQ(host.log(),
            (std::vector<std::string>{
                "mkdir /nonexistent-driftwatch-state 0700",
                "mkdir /nonexistent-driftwatch-state/images 0700",
                "mkdir " + dir + " 0700",
                "mkdir " + dir + "/rootfs 0755",
                "spawn /bin/cp -a -- /src/. " + dir + "/rootfs/",
                "mkdir " + dir + "/rootfs/proc 0755",
                "mkdir " + dir + "/rootfs/sys 0755",
                "mkdir " + dir + "/rootfs/dev 0755",
                "write " + dir + "/image.json 0600 " +
                    std::to_string(host.Contents(dir + "/image.json")->size()) + " bytes",
            }));
  EXPECT_EQ(r->imported_ns, host.NowNs());
  auto loaded = state.LoadImage("bb");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->digest, HashBytes("tree"));
  EXPECT_EQ(loaded->entries, 3u);
  EXPECT_EQ(loaded->source, "/src");
  auto list = ListImages(state);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "bb");

  // The same name again: refused before anything is run.
  host.ClearLog();
  auto again = ImportImage(state, "bb", "/src", FixedDigest(), opts);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(host.log(), std::vector<std::string>{});
}

TEST(ImageStoreMemTest, ATarArchiveIsExtractedAndAFailingTarIsReported) {
  MemHost host;
  host.PutFile("/src/img.tar", "not really a tar");
  host.ScriptSpawn(SpawnResult{2, "", "tar: This does not look like a tar archive\n"});
  StateDir state(host, kState);
  auto r = ImportImage(state, "t", "/src/img.tar", FixedDigest());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_EQ(r.status().message(),
            "import /src/img.tar: /bin/tar exited 2: tar: This does not look like a tar archive\n");
  const std::vector<std::string> log = host.log();
  ASSERT_EQ(log.size(), 5u);
  EXPECT_EQ(log[4], "spawn /bin/tar --extract --file /src/img.tar --directory " +
                        std::string(kState) +
                        "/images/t/rootfs --numeric-owner --preserve-permissions --same-owner "
                        "--xattrs --xattrs-include=*");
}

TEST(StateDirMemTest, RecordsAreWrittenWholeAndListed) {
  MemHost host;
  host.PutDir("/s/containers/web");
  host.PutDir("/s/containers/db");
  host.PutDir("/s/containers/.hidden");
  StateDir state(host, "/s");
  ServiceRecord svc{"web", "a", "", "true"};
  ASSERT_TRUE(state.SaveService(svc).ok());
  ContainerRecord c;
  c.name = "web";
  c.id = "0123456789abcdef";
  c.image = "bb";
  ASSERT_TRUE(state.SaveContainer(c).ok());
  EXPECT_EQ(
      host.log(),
      (std::vector<std::string>{
          "mkdir /s/services 0700",
          "write /s/services/web.json 0600 " +
              std::to_string(host.Contents("/s/services/web.json")->size()) + " bytes",
          "write /s/containers/web/state.json 0600 " +
              std::to_string(host.Contents("/s/containers/web/state.json")->size()) + " bytes",
      }));
  EXPECT_EQ(state.LoadService("web")->active, "a");
  EXPECT_EQ(state.LoadContainer("web")->id, "0123456789abcdef");
  EXPECT_EQ(state.LoadContainer("db").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*state.ListContainers(), (std::vector<std::string>{"db", "web"}));
}

}  // namespace
}  // namespace driftwatch::container
