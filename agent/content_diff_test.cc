#include "agent/content_diff.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/hash.h"
#include "core/text_diff.h"

namespace driftwatch::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Kept content in memory; records every digest read, and fails the reads
// of the digests in `broken`.
class MemContentStore final : public ContentStore {
 public:
  Digest Keep(std::string_view raw) {
    Digest d = Hasher::Of(HashAlgo::kXxh128, raw);
    blobs_[d.Hex()] = std::string(raw);
    return d;
  }
  Result<bool> HasContent(const Digest& digest) override { return blobs_.count(digest.Hex()) > 0; }
  Status PutContent(const Digest& digest, std::string_view raw) override {
    blobs_[digest.Hex()] = std::string(raw);
    return Status::Ok();
  }
  Result<std::optional<std::string>> GetContent(const Digest& digest) override {
    reads.push_back(digest.Hex());
    if (broken.count(digest.Hex())) return Status::Corruption("blob " + digest.Hex() + " damaged");
    auto it = blobs_.find(digest.Hex());
    if (it == blobs_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Status PutXattrs(const Hash128&, const std::vector<Xattr>&) override {
    return Status::Unsupported("no xattrs here");
  }
  Result<std::optional<std::vector<Xattr>>> GetXattrs(const Hash128&) override {
    return std::optional<std::vector<Xattr>>();
  }

  std::vector<std::string> reads;
  std::set<std::string> broken;

 private:
  std::map<std::string, std::string> blobs_;
};

rules::Policy PolicyOf(const std::string& yaml) {
  auto p = rules::ParsePolicy(
      yaml, "rules.yaml",
      [](const std::string& path) -> Result<std::string> { return Status::NotFound(path); });
  EXPECT_TRUE(p.ok()) << p.status().message();
  return std::move(*p);
}

const char kRules[] = R"(version: 1
rules:
  - path: /etc/**
    check: [content, perm]
    content: keep
  - path: /etc/small/**
    content: keep
    content_max: 16
  - path: /etc/**/*.key
    content: redact
  - path: /opt/**
    check: [content]
)";

Entry FileEntry(const Digest& d, uint64_t size) {
  Entry e;
  e.type = EntryType::kFile;
  e.content = d;
  e.size = size;
  return e;
}

class ContentDiffTest : public ::testing::Test {
 protected:
  DriftEvent Modified(const std::string& path, std::string_view before, std::string_view after) {
    DriftEvent e;
    e.path = path;
    e.kind = DriftKind::kModified;
    e.changed = kAttrSize | kAttrHash;
    e.old_entry = FileEntry(store_.Keep(before), before.size());
    e.new_entry = FileEntry(store_.Keep(after), after.size());
    return e;
  }

  std::vector<std::string> Run(std::vector<DriftEvent>* events) {
    return AddContentDiffs(store_, policy_, events);
  }

  MemContentStore store_;
  rules::Policy policy_ = PolicyOf(kRules);
};

TEST_F(ContentDiffTest, ModifiedTextFileGetsTheUnifiedDiffLabelledWithItsPath) {
  std::vector<DriftEvent> events = {Modified("/etc/app.conf", "a\nb\nc\n", "a\nB\nc\n")};
  EXPECT_THAT(Run(&events), IsEmpty());
  EXPECT_EQ(events[0].diff,
            "--- /etc/app.conf\n+++ /etc/app.conf\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
  EXPECT_EQ(events[0].content_note, "");
}

TEST_F(ContentDiffTest, ANewlineInTheNameCannotFakeALineOfTheDiff) {
  std::vector<DriftEvent> events = {Modified("/etc/x\n+++ /etc/passwd", "a\n", "b\n")};
  EXPECT_THAT(Run(&events), IsEmpty());
  EXPECT_EQ(events[0].diff,
            "--- /etc/x\\n+++ /etc/passwd\n+++ /etc/x\\n+++ /etc/passwd\n@@ -1 +1 @@\n-a\n+b\n");
}

TEST_F(ContentDiffTest, AddedAndRemovedFilesDiffAgainstNothing) {
  DriftEvent added;
  added.path = "/etc/new.conf";
  added.kind = DriftKind::kAdded;
  added.new_entry = FileEntry(store_.Keep("x\ny\n"), 4);
  DriftEvent removed;
  removed.path = "/etc/old.conf";
  removed.kind = DriftKind::kRemoved;
  removed.old_entry = FileEntry(store_.Keep("gone\n"), 5);
  std::vector<DriftEvent> events = {added, removed};
  EXPECT_THAT(Run(&events), IsEmpty());
  EXPECT_EQ(events[0].diff, "--- /etc/new.conf\n+++ /etc/new.conf\n@@ -0,0 +1,2 @@\n+x\n+y\n");
  EXPECT_EQ(events[1].diff, "--- /etc/old.conf\n+++ /etc/old.conf\n@@ -1 +0,0 @@\n-gone\n");
  EXPECT_EQ(events[0].content_note + events[1].content_note, "");
}

TEST_F(ContentDiffTest, RedactedContentIsNeverRead) {
  std::vector<DriftEvent> events = {Modified("/etc/ssl/server.key", "SECRET-1\n", "SECRET-2\n")};
  EXPECT_THAT(Run(&events), IsEmpty());
  EXPECT_EQ(events[0].diff, "");
  EXPECT_EQ(events[0].content_note, "redacted");
  EXPECT_THAT(store_.reads, IsEmpty());
}

TEST_F(ContentDiffTest, NotKeptWhenABlobIsMissingOrOverTheCap) {
  DriftEvent missing = Modified("/etc/app.conf", "a\n", "b\n");
  missing.new_entry->content = Hasher::Of(HashAlgo::kXxh128, "never kept\n");
  DriftEvent no_digest = Modified("/etc/other.conf", "a\n", "b\n");
  no_digest.old_entry->content = Digest();
  // Kept in the store, but larger than the rule's content_max (16 bytes).
  DriftEvent big = Modified("/etc/small/big.conf", "0123456789abcdef\n", "short\n");
  std::vector<DriftEvent> events = {missing, no_digest, big};
  EXPECT_THAT(Run(&events), IsEmpty());
  for (const DriftEvent& e : events) {
    EXPECT_EQ(e.diff, "") << e.path;
    EXPECT_EQ(e.content_note, "not-kept") << e.path;
  }
}

TEST_F(ContentDiffTest, UnreadableBlobIsNotKeptAndAWarning) {
  std::vector<DriftEvent> events = {Modified("/etc/app.conf", "a\n", "b\n")};
  const std::string broken = events[0].old_entry->content.Hex();
  store_.broken.insert(broken);
  EXPECT_THAT(Run(&events), ElementsAre("content of /etc/app.conf: blob " + broken + " damaged"));
  EXPECT_EQ(events[0].diff, "");
  EXPECT_EQ(events[0].content_note, "not-kept");
}

TEST_F(ContentDiffTest, BinaryEitherSideGetsNoTextDiff) {
  std::vector<DriftEvent> events = {
      Modified("/etc/a.bin",
               std::string("\x7f"
                           "ELF\0\1",
                           6),
               "text now\n"),
      Modified("/etc/b.conf", "text before\n", std::string("bin\0ary\n", 8))};
  EXPECT_THAT(Run(&events), IsEmpty());
  for (const DriftEvent& e : events) {
    EXPECT_EQ(e.diff, "") << e.path;
    EXPECT_EQ(e.content_note, "binary") << e.path;
  }
}

TEST_F(ContentDiffTest, LongDiffIsCutAtALineEndWithTheMarker) {
  std::string before;
  std::string after;
  for (int i = 0; i < 20000; ++i) {
    before += "line " + std::to_string(i) + " as it was\n";
    after += "line " + std::to_string(i) + " as it is now\n";
  }
  std::vector<DriftEvent> events = {Modified("/etc/huge.conf", before, after)};
  EXPECT_THAT(Run(&events), IsEmpty());
  const std::string& diff = events[0].diff;
  EXPECT_EQ(events[0].content_note, "");
  ASSERT_GT(diff.size(), kDiffTruncatedMarker.size());
  EXPECT_LE(diff.size(), kMaxEventDiffBytes + kDiffTruncatedMarker.size());
  EXPECT_TRUE(diff.ends_with(kDiffTruncatedMarker));
  const std::string body = diff.substr(0, diff.size() - kDiffTruncatedMarker.size());
  EXPECT_TRUE(body.ends_with("\n"));
  EXPECT_TRUE(
      body.starts_with("--- /etc/huge.conf\n+++ /etc/huge.conf\n@@ -1,20000 +1,20000 @@\n"));
}

TEST_F(ContentDiffTest, LeavesOtherEventsAlone) {
  DriftEvent perm_only = Modified("/etc/app.conf", "a\n", "b\n");
  perm_only.changed = kAttrPerm;
  DriftEvent no_content_rule = Modified("/opt/tool.conf", "a\n", "b\n");
  DriftEvent link;
  link.path = "/etc/current";
  link.kind = DriftKind::kAdded;
  link.new_entry = Entry();
  link.new_entry->type = EntryType::kSymlink;
  DriftEvent pkg;
  pkg.path = "/etc/app.conf";
  pkg.kind = DriftKind::kPackageChanged;
  pkg.package = "app";
  std::vector<DriftEvent> events = {perm_only, no_content_rule, link, pkg};
  EXPECT_THAT(Run(&events), IsEmpty());
  for (const DriftEvent& e : events) {
    EXPECT_EQ(e.diff, "") << e.path;
    EXPECT_EQ(e.content_note, "") << e.path;
  }
  EXPECT_THAT(store_.reads, IsEmpty());
}

}  // namespace
}  // namespace driftwatch::agent
