#include "packages/rpm.h"

#include <gtest/gtest.h>

#include "core/sqlite.h"
#include "packages/test_util.h"

namespace driftwatch::packages {
namespace {

// Builds header blobs the way rpm's headerExport lays them out.
class HeaderBuilder {
 public:
  HeaderBuilder& String(uint32_t tag, std::string_view s) {
    return Add(tag, kRpmTypeString, 1, std::string(s) + '\0', 1);
  }
  HeaderBuilder& Strings(uint32_t tag, const std::vector<std::string>& v) {
    std::string data;
    for (const std::string& s : v) data += s + '\0';
    return Add(tag, kRpmTypeStringArray, static_cast<uint32_t>(v.size()), data, 1);
  }
  HeaderBuilder& Int32s(uint32_t tag, const std::vector<uint32_t>& v) {
    std::string data;
    for (uint32_t x : v) data += Be(x);
    return Add(tag, kRpmTypeInt32, static_cast<uint32_t>(v.size()), data, 4);
  }
  // An entry pointing anywhere (for corrupt headers).
  HeaderBuilder& Raw(uint32_t tag, uint32_t type, uint32_t offset, uint32_t count) {
    index_ += Be(tag) + Be(type) + Be(offset) + Be(count);
    ++entries_;
    return *this;
  }
  std::string Blob() const {
    return Be(entries_) + Be(static_cast<uint32_t>(data_.size())) + index_ + data_;
  }

 private:
  static std::string Be(uint32_t x) {
    std::string s(4, '\0');
    for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(x >> (24 - 8 * i));
    return s;
  }
  HeaderBuilder& Add(uint32_t tag, uint32_t type, uint32_t count, const std::string& data,
                     size_t align) {
    while (data_.size() % align != 0) data_.push_back('\0');
    Raw(tag, type, static_cast<uint32_t>(data_.size()), count);
    data_ += data;
    return *this;
  }
  uint32_t entries_ = 0;
  std::string index_;
  std::string data_;
};

const std::string kSha256Abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

HeaderBuilder BashHeader() {
  HeaderBuilder h;
  h.String(kRpmTagName, "bash")
      .String(kRpmTagVersion, "5.2.15")
      .String(kRpmTagRelease, "3.fc39")
      .Int32s(kRpmTagEpoch, {1})
      .String(kRpmTagArch, "x86_64")
      .Strings(kRpmTagDirnames, {"/etc/", "/usr/bin/"})
      .Strings(kRpmTagBasenames, {"bashrc", "bash", "sh", "ghost.log"})
      .Int32s(kRpmTagDirIndexes, {0, 1, 1, 0})
      .Strings(kRpmTagFileDigests, {kSha256Abc, kSha256Abc, "", ""})
      .Int32s(kRpmTagFileFlags, {kRpmFileConfig, 0, 0, kRpmFileGhost})
      .Int32s(kRpmTagFileDigestAlgo, {8});
  return h;
}

TEST(RpmHeaderTest, Parses) {
  auto r = ParseRpmHeader(BashHeader().Blob());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->package, (Package{"rpm", "bash", "1:5.2.15-3.fc39", "x86_64", "installed"}));
  FileDigest abc = *FileDigest::FromHex(DigestAlgo::kSha256, kSha256Abc);
  std::vector<RpmFile> want = {{"/etc/bashrc", abc, kRpmFileConfig},
                               {"/usr/bin/bash", abc, 0},
                               {"/usr/bin/sh", FileDigest(), 0},
                               {"/etc/ghost.log", FileDigest(), kRpmFileGhost}};
  EXPECT_EQ(r->files, want);
}

TEST(RpmHeaderTest, OldFilenamesAndDefaultMd5) {
  HeaderBuilder h;
  h.String(kRpmTagName, "old")
      .String(kRpmTagVersion, "1")
      .String(kRpmTagRelease, "1")
      .Strings(kRpmTagOldFilenames, {"/bin/old"})
      .Strings(kRpmTagFileDigests, {"900150983cd24fb0d6963f7d28e17f72"});
  auto r = ParseRpmHeader(h.Blob());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->package, (Package{"rpm", "old", "1-1", "", "installed"}));
  ASSERT_EQ(r->files.size(), 1u);
  EXPECT_EQ(r->files[0].path, "/bin/old");
  EXPECT_EQ(r->files[0].digest.Hex(), "md5:900150983cd24fb0d6963f7d28e17f72");
}

TEST(RpmHeaderTest, RejectsCorruptHeaders) {
  struct Case {
    std::string name;
    std::string blob;
    std::string message;
  };
  std::string truncated = BashHeader().Blob();
  truncated.resize(truncated.size() - 10);
  const std::vector<Case> kCases = {
      {"short", "abc", "header blob shorter than 8 bytes"},
      {"no entries", std::string(8, '\0'), "header has 0 index entries"},
      {"truncated", truncated,
       "header needs " + std::to_string(truncated.size() + 10) + " bytes, blob has " +
           std::to_string(truncated.size())},
      {"no name", HeaderBuilder().String(kRpmTagVersion, "1").Blob(), "header has no NAME"},
      {"name wrong type", HeaderBuilder().Int32s(kRpmTagName, {1}).Blob(),
       "NAME has type 4, expected a string"},
      {"name past end",
       HeaderBuilder().String(kRpmTagVersion, "1").Raw(kRpmTagName, 6, 500, 1).Blob(),
       "NAME runs past the end of the data"},
      {"unterminated",
       HeaderBuilder().Int32s(kRpmTagEpoch, {0x41414141}).Raw(kRpmTagName, 6, 0, 1).Blob(),
       "NAME has an unterminated string"},
      {"int32 past end",
       HeaderBuilder().String(kRpmTagName, "x").Raw(kRpmTagEpoch, 4, 0, 1000000).Blob(),
       "EPOCH runs past the end of the data"},
      {"dirindex out of range",
       HeaderBuilder()
           .String(kRpmTagName, "x")
           .Strings(kRpmTagDirnames, {"/a/"})
           .Strings(kRpmTagBasenames, {"b"})
           .Int32s(kRpmTagDirIndexes, {3})
           .Blob(),
       "DIRINDEXES[0] = 3 is past DIRNAMES (1)"},
      {"dirindexes count",
       HeaderBuilder()
           .String(kRpmTagName, "x")
           .Strings(kRpmTagDirnames, {"/a/"})
           .Strings(kRpmTagBasenames, {"b", "c"})
           .Int32s(kRpmTagDirIndexes, {0})
           .Blob(),
       "DIRINDEXES has 1 entries, BASENAMES 2"},
      {"digest count",
       HeaderBuilder()
           .String(kRpmTagName, "x")
           .Strings(kRpmTagOldFilenames, {"/a", "/b"})
           .Strings(kRpmTagFileDigests, {""})
           .Blob(),
       "FILEDIGESTS has 1 entries for 2 files"},
      {"bad digest",
       HeaderBuilder()
           .String(kRpmTagName, "x")
           .Strings(kRpmTagOldFilenames, {"/a"})
           .Strings(kRpmTagFileDigests, {"abcd"})
           .Blob(),
       "/a: expected 32 hex digits for md5, got 'abcd'"},
      {"unknown algo",
       HeaderBuilder()
           .String(kRpmTagName, "x")
           .Strings(kRpmTagOldFilenames, {"/a"})
           .Int32s(kRpmTagFileDigestAlgo, {99})
           .Blob(),
       "unknown rpm file digest algorithm 99"},
      {"relative",
       HeaderBuilder().String(kRpmTagName, "x").Strings(kRpmTagOldFilenames, {"a"}).Blob(),
       "file name 'a' is not absolute"},
  };
  for (const Case& c : kCases) {
    auto r = ParseRpmHeader(c.blob);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().message(), c.message) << c.name;
  }
}

void WriteRpmDb(const std::string& path, const std::vector<std::string>& blobs) {
  auto db = sqlite::Db::Open(path);
  ASSERT_TRUE(db.ok()) << db.status().message();
  ASSERT_TRUE((*db)
                  ->Exec("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob "
                         "BLOB NOT NULL)")
                  .ok());
  auto ins = (*db)->Prepare("INSERT INTO Packages (blob) VALUES (?)");
  ASSERT_TRUE(ins.ok()) << ins.status().message();
  for (const std::string& b : blobs) {
    Status s = ins->BindBlob(1, b).Run();
    ASSERT_TRUE(s.ok()) << s.message();
  }
}

TEST(RpmDbTest, ReadsSqliteDatabase) {
  testing::TempRoot root;
  root.Mkdir("var/lib/rpm");
  HeaderBuilder zlib;
  zlib.String(kRpmTagName, "zlib").String(kRpmTagVersion, "1.2.13").String(kRpmTagRelease, "5");
  WriteRpmDb(root.Abs("var/lib/rpm/rpmdb.sqlite"), {BashHeader().Blob(), zlib.Blob()});
  auto db = ReadRpmDb(DefaultHost(), root.path(), true);
  ASSERT_TRUE(db.ok()) << db.status().message();
  std::vector<Package> want = {{"rpm", "bash", "1:5.2.15-3.fc39", "x86_64", "installed"},
                               {"rpm", "zlib", "1.2.13-5", "", "installed"}};
  EXPECT_EQ(db->packages, want);
  ASSERT_EQ(db->files.size(), 3u);  // the ghost file is left out
  EXPECT_EQ(db->files[0].path, "/etc/bashrc");
  EXPECT_TRUE(db->files[0].conffile);
  EXPECT_EQ(db->files[0].expected.Hex(), "sha256:" + kSha256Abc);
  EXPECT_EQ(db->files[0].rule, "rpm filedigests");
  EXPECT_EQ(db->files[1].path, "/usr/bin/bash");
  EXPECT_FALSE(db->files[1].conffile);
  EXPECT_EQ(db->files[2].path, "/usr/bin/sh");
  EXPECT_TRUE(db->files[2].expected.empty());
  for (const OwnedFile& f : db->files) {
    EXPECT_EQ(f.package, "bash");
    EXPECT_EQ(f.package_index, 0u);
  }
}

TEST(RpmDbTest, CorruptBlobNamesPackage) {
  testing::TempRoot root;
  root.Mkdir("var/lib/rpm");
  WriteRpmDb(root.Abs("var/lib/rpm/rpmdb.sqlite"), {BashHeader().Blob(), "junk"});
  auto db = ReadRpmDb(DefaultHost(), root.path(), false);
  EXPECT_EQ(db.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(db.status().message(),
            "var/lib/rpm/rpmdb.sqlite: package 2: header blob shorter than 8 bytes");
}

TEST(RpmDbTest, MissingAndBerkeleyDb) {
  testing::TempRoot root;
  auto none = ReadRpmDb(DefaultHost(), root.path(), true);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->packages.empty());
  root.Write("var/lib/rpm/Packages", "bdb");
  auto bdb = ReadRpmDb(DefaultHost(), root.path(), true);
  EXPECT_EQ(bdb.status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(bdb.status().message(),
            "var/lib/rpm/Packages: Berkeley DB and ndb rpm databases are not supported (only "
            "rpmdb.sqlite, rpm >= 4.16)");
}

}  // namespace
}  // namespace driftwatch::packages
