#include "packages/rpm.h"

#include <fcntl.h>

#include <algorithm>
#include <map>
#include <memory>
#include <numeric>
#include <optional>

#include "core/sqlite.h"
#include "packages/db_file.h"

namespace driftwatch::packages {
namespace {

constexpr uint32_t kMaxIndexEntries = 0xffff;   // rpm's own limit
constexpr uint32_t kMaxDataBytes = 256u << 20;  // rpm's own limit

uint32_t Be32(const unsigned char* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

struct IndexEntry {
  uint32_t tag, type, offset, count;
};

class HeaderView {
 public:
  HeaderView(std::string_view data, std::map<uint32_t, IndexEntry> index)
      : data_(data), index_(std::move(index)) {}

  bool Has(uint32_t tag) const { return index_.count(tag) != 0; }

  Result<std::optional<std::string>> String(uint32_t tag, const char* name) const {
    auto it = index_.find(tag);
    if (it == index_.end()) return std::optional<std::string>();
    const IndexEntry& e = it->second;
    if (e.type != kRpmTypeString && e.type != kRpmTypeI18nString && e.type != kRpmTypeStringArray) {
      return Status::Corruption(std::string(name) + " has type " + std::to_string(e.type) +
                                ", expected a string");
    }
    DW_ASSIGN_OR_RETURN(std::vector<std::string> v, Strings(e, name, 1));
    return std::optional<std::string>(std::move(v[0]));
  }

  Result<std::vector<std::string>> StringArray(uint32_t tag, const char* name) const {
    auto it = index_.find(tag);
    if (it == index_.end()) return std::vector<std::string>();
    const IndexEntry& e = it->second;
    if (e.type != kRpmTypeStringArray) {
      return Status::Corruption(std::string(name) + " has type " + std::to_string(e.type) +
                                ", expected a string array");
    }
    return Strings(e, name, e.count);
  }

  Result<std::vector<uint32_t>> Int32Array(uint32_t tag, const char* name) const {
    auto it = index_.find(tag);
    if (it == index_.end()) return std::vector<uint32_t>();
    const IndexEntry& e = it->second;
    if (e.type != kRpmTypeInt32) {
      return Status::Corruption(std::string(name) + " has type " + std::to_string(e.type) +
                                ", expected int32");
    }
    if (e.offset > data_.size() || e.count > (data_.size() - e.offset) / 4) {
      return Status::Corruption(std::string(name) + " runs past the end of the data");
    }
    std::vector<uint32_t> out(e.count);
    const auto* p = reinterpret_cast<const unsigned char*>(data_.data()) + e.offset;
    for (uint32_t i = 0; i < e.count; ++i) out[i] = Be32(p + 4 * i);
    return out;
  }

 private:
  Result<std::vector<std::string>> Strings(const IndexEntry& e, const char* name,
                                           uint32_t count) const {
    if (count == 0 || count > data_.size()) {
      return Status::Corruption(std::string(name) + " has a bad count " + std::to_string(count));
    }
    std::vector<std::string> out;
    out.reserve(count);
    size_t pos = e.offset;
    for (uint32_t i = 0; i < count; ++i) {
      if (pos >= data_.size()) {
        return Status::Corruption(std::string(name) + " runs past the end of the data");
      }
      size_t end = data_.find('\0', pos);
      if (end == std::string_view::npos) {
        return Status::Corruption(std::string(name) + " has an unterminated string");
      }
      out.emplace_back(data_.substr(pos, end - pos));
      pos = end + 1;
    }
    return out;
  }

  std::string_view data_;
  std::map<uint32_t, IndexEntry> index_;
};

Result<HeaderView> ParseIndex(std::string_view blob) {
  if (blob.size() < 8) return Status::Corruption("header blob shorter than 8 bytes");
  const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
  uint32_t il = Be32(p);
  uint32_t dl = Be32(p + 4);
  if (il == 0 || il > kMaxIndexEntries) {
    return Status::Corruption("header has " + std::to_string(il) + " index entries");
  }
  if (dl > kMaxDataBytes)
    return Status::Corruption("header data length " + std::to_string(dl) + " too large");
  uint64_t need = 8 + uint64_t{il} * 16 + dl;
  if (need > blob.size()) {
    return Status::Corruption("header needs " + std::to_string(need) + " bytes, blob has " +
                              std::to_string(blob.size()));
  }
  std::map<uint32_t, IndexEntry> index;
  for (uint32_t i = 0; i < il; ++i) {
    const unsigned char* e = p + 8 + 16 * size_t{i};
    IndexEntry entry{Be32(e), Be32(e + 4), Be32(e + 8), Be32(e + 12)};
    index.emplace(entry.tag, entry);
  }
  return HeaderView(blob.substr(8 + size_t{il} * 16, dl), std::move(index));
}

}  // namespace

Result<RpmHeader> ParseRpmHeader(std::string_view blob) {
  DW_ASSIGN_OR_RETURN(HeaderView h, ParseIndex(blob));
  RpmHeader out;
  Package& pkg = out.package;
  pkg.manager = "rpm";
  pkg.status = "installed";
  DW_ASSIGN_OR_RETURN(std::optional<std::string> name, h.String(kRpmTagName, "NAME"));
  if (!name || name->empty()) return Status::Corruption("header has no NAME");
  pkg.name = std::move(*name);
  DW_ASSIGN_OR_RETURN(std::optional<std::string> version, h.String(kRpmTagVersion, "VERSION"));
  DW_ASSIGN_OR_RETURN(std::optional<std::string> release, h.String(kRpmTagRelease, "RELEASE"));
  DW_ASSIGN_OR_RETURN(std::optional<std::string> arch, h.String(kRpmTagArch, "ARCH"));
  DW_ASSIGN_OR_RETURN(std::vector<uint32_t> epoch, h.Int32Array(kRpmTagEpoch, "EPOCH"));
  if (!epoch.empty()) pkg.version = std::to_string(epoch[0]) + ":";
  pkg.version += version.value_or("");
  if (release && !release->empty()) pkg.version += "-" + *release;
  pkg.architecture = arch.value_or("");

  std::vector<std::string> paths;
  DW_ASSIGN_OR_RETURN(std::vector<std::string> basenames,
                      h.StringArray(kRpmTagBasenames, "BASENAMES"));
  if (!basenames.empty()) {
    DW_ASSIGN_OR_RETURN(std::vector<std::string> dirnames,
                        h.StringArray(kRpmTagDirnames, "DIRNAMES"));
    DW_ASSIGN_OR_RETURN(std::vector<uint32_t> dirindexes,
                        h.Int32Array(kRpmTagDirIndexes, "DIRINDEXES"));
    if (dirindexes.size() != basenames.size()) {
      return Status::Corruption("DIRINDEXES has " + std::to_string(dirindexes.size()) +
                                " entries, BASENAMES " + std::to_string(basenames.size()));
    }
    paths.reserve(basenames.size());
    for (size_t i = 0; i < basenames.size(); ++i) {
      if (dirindexes[i] >= dirnames.size()) {
        return Status::Corruption("DIRINDEXES[" + std::to_string(i) +
                                  "] = " + std::to_string(dirindexes[i]) + " is past DIRNAMES (" +
                                  std::to_string(dirnames.size()) + ")");
      }
      paths.push_back(dirnames[dirindexes[i]] + basenames[i]);
    }
  } else {
    DW_ASSIGN_OR_RETURN(paths, h.StringArray(kRpmTagOldFilenames, "OLDFILENAMES"));
  }
  if (paths.empty()) return out;

  DigestAlgo algo = DigestAlgo::kMd5;
  DW_ASSIGN_OR_RETURN(std::vector<uint32_t> algo_tag,
                      h.Int32Array(kRpmTagFileDigestAlgo, "FILEDIGESTALGO"));
  if (!algo_tag.empty()) {
    DW_ASSIGN_OR_RETURN(algo, DigestAlgoFromRpm(algo_tag[0]));
  }
  DW_ASSIGN_OR_RETURN(std::vector<std::string> digests,
                      h.StringArray(kRpmTagFileDigests, "FILEDIGESTS"));
  DW_ASSIGN_OR_RETURN(std::vector<uint32_t> flags, h.Int32Array(kRpmTagFileFlags, "FILEFLAGS"));
  if (!digests.empty() && digests.size() != paths.size()) {
    return Status::Corruption("FILEDIGESTS has " + std::to_string(digests.size()) +
                              " entries for " + std::to_string(paths.size()) + " files");
  }
  if (!flags.empty() && flags.size() != paths.size()) {
    return Status::Corruption("FILEFLAGS has " + std::to_string(flags.size()) + " entries for " +
                              std::to_string(paths.size()) + " files");
  }
  for (size_t i = 0; i < paths.size(); ++i) {
    RpmFile f;
    f.path = std::move(paths[i]);
    if (!f.path.starts_with('/'))
      return Status::Corruption("file name '" + f.path + "' is not absolute");
    f.flags = flags.empty() ? 0 : flags[i];
    if (!digests.empty() && !digests[i].empty()) {
      auto d = FileDigest::FromHex(algo, digests[i]);
      if (!d.ok()) return Status::Corruption(f.path + ": " + d.status().message());
      f.digest = std::move(d).value();
    }
    out.files.push_back(std::move(f));
  }
  return out;
}

namespace {

bool Exists(Host& host, const std::string& path) {
  struct stat st;
  return host.StatAt(AT_FDCWD, path, &st).ok();
}

Result<std::vector<RpmHeader>> ReadHeaders(const std::string& file, const std::string& source,
                                           bool immutable) {
  sqlite::DbOptions options;
  options.read_only = true;
  options.uri = true;
  options.busy_timeout_ms = 0;  // rpm holds its lock while it writes: fail, do not wait
  options.name = source;
  options.codes = sqlite::ErrorCodes::kIoError;
  DW_ASSIGN_OR_RETURN(
      auto db, sqlite::Db::Open("file:" + file + (immutable ? "?mode=ro&immutable=1" : "?mode=ro"),
                                options));
  auto q = db->Prepare("SELECT hnum, blob FROM Packages ORDER BY hnum");
  // Not an rpm database: no Packages table, or not SQLite at all.
  if (!q.ok()) return Status::Corruption(q.status().message());
  std::vector<RpmHeader> out;
  for (;;) {
    DW_ASSIGN_OR_RETURN(bool row, q->Step());
    if (!row) break;
    auto header = ParseRpmHeader(q->Blob(1));
    if (!header.ok()) {
      return Status::Corruption(source + ": package " + std::to_string(q->Int(0)) + ": " +
                                header.status().message());
    }
    out.push_back(std::move(header).value());
  }
  return out;
}

}  // namespace

Result<PackageDb> ReadRpmDb(Host& host, const std::string& root, bool with_files) {
  std::string source;
  for (const char* rel : {"var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite"}) {
    if (Exists(host, UnderRoot(root, rel))) {
      source = rel;
      break;
    }
  }
  if (source.empty()) {
    for (const char* rel :
         {"var/lib/rpm/Packages", "var/lib/rpm/Packages.db", "usr/lib/sysimage/rpm/Packages.db"}) {
      if (Exists(host, UnderRoot(root, rel))) {
        return Status::Unsupported(std::string(rel) +
                                   ": Berkeley DB and ndb rpm databases are not supported "
                                   "(only rpmdb.sqlite, rpm >= 4.16)");
      }
    }
    return PackageDb();
  }
  // A read-only open still wants to create the -shm file of a WAL database;
  // on a read-only root fall back to treating the database as immutable.
  auto headers = ReadHeaders(UnderRoot(root, source), source, /*immutable=*/false);
  if (!headers.ok() && headers.status().code() == StatusCode::kIoError) {
    headers = ReadHeaders(UnderRoot(root, source), source, /*immutable=*/true);
  }
  if (!headers.ok()) return headers.status();
  std::vector<RpmHeader>& list = *headers;
  std::stable_sort(list.begin(), list.end(), [](const RpmHeader& a, const RpmHeader& b) {
    return PackageLess(a.package, b.package);
  });
  PackageDb db;
  for (RpmHeader& h : list) {
    size_t index = db.packages.size();
    db.packages.push_back(h.package);
    if (!with_files) continue;
    for (RpmFile& f : h.files) {
      if (f.flags & kRpmFileGhost) continue;
      OwnedFile o;
      o.path = std::move(f.path);
      o.package = h.package.name;
      o.package_index = index;
      o.expected = std::move(f.digest);
      o.conffile = (f.flags & kRpmFileConfig) != 0;
      o.rule = "rpm filedigests";
      db.files.push_back(std::move(o));
    }
  }
  return db;
}

}  // namespace driftwatch::packages
