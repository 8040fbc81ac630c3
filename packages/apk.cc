#include "packages/apk.h"

#include <algorithm>
#include <numeric>

#include "core/base64.h"
#include "packages/db_file.h"

namespace driftwatch::packages {
namespace {

constexpr std::string_view kInstalledFile = "lib/apk/db/installed";

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

struct ApkStanza {
  Package package;
  std::vector<OwnedFile> files;
  int first_line = 0;
  bool has_name = false;
};

}  // namespace

Result<FileDigest> ParseApkChecksum(std::string_view text) {
  if (text.starts_with("Q1") || text.starts_with("Q2")) {
    DigestAlgo algo = text[1] == '1' ? DigestAlgo::kSha1 : DigestAlgo::kSha256;
    auto raw = Base64Decode(text.substr(2));
    if (!raw.ok())
      return Status::Corruption("checksum '" + std::string(text) + "': " + raw.status().message());
    if (raw->size() != DigestAlgoSize(algo)) {
      return Status::Corruption("checksum '" + std::string(text) + "' has " +
                                std::to_string(raw->size()) + " bytes, expected " +
                                std::to_string(DigestAlgoSize(algo)));
    }
    return FileDigest{algo, std::move(raw).value()};
  }
  if ((text.size() == 32 || text.size() == 40) && IsHex(text)) {
    return FileDigest::FromHex(text.size() == 32 ? DigestAlgo::kMd5 : DigestAlgo::kSha1, text);
  }
  return Status::Corruption("unsupported checksum '" + std::string(text) + "'");
}

Result<PackageDb> ParseApkInstalled(std::string_view text, std::string_view source) {
  std::vector<ApkStanza> stanzas;
  ApkStanza cur;
  std::string dir;
  bool have_dir = false;
  auto finish = [&]() -> Status {
    if (cur.first_line == 0) return Status::Ok();
    if (!cur.has_name) return LineError(source, cur.first_line, "package has no P: field");
    stanzas.push_back(std::move(cur));
    cur = ApkStanza();
    have_dir = false;
    dir.clear();
    return Status::Ok();
  };
  Status s = ForEachLine(text, [&](std::string_view line, int n) -> Status {
    if (line.empty()) return finish();
    if (line.size() < 2 || line[1] != ':') {
      return LineError(source, n, "expected 'X:value', got '" + std::string(line) + "'");
    }
    if (cur.first_line == 0) cur.first_line = n;
    std::string_view value = line.substr(2);
    switch (line[0]) {
      case 'P':
        if (value.empty()) return LineError(source, n, "empty package name");
        cur.package.manager = "apk";
        cur.package.name = std::string(value);
        cur.package.status = "installed";
        cur.has_name = true;
        break;
      case 'V':
        cur.package.version = std::string(value);
        break;
      case 'A':
        cur.package.architecture = std::string(value);
        break;
      case 'F':
        while (value.starts_with('/')) value.remove_prefix(1);
        while (value.ends_with('/')) value.remove_suffix(1);
        dir = std::string(value);
        have_dir = true;
        break;
      case 'R': {
        if (value.empty() || value.find('/') != std::string_view::npos) {
          return LineError(source, n, "bad file name '" + std::string(value) + "'");
        }
        OwnedFile f;
        f.path = (have_dir && !dir.empty() ? "/" + dir : std::string()) + "/" + std::string(value);
        f.link_digest = true;
        f.rule = "apk installed";
        cur.files.push_back(std::move(f));
        break;
      }
      case 'Z': {
        if (cur.files.empty()) return LineError(source, n, "Z: without a preceding R:");
        if (!cur.files.back().expected.empty()) return LineError(source, n, "second Z: for one R:");
        auto digest = ParseApkChecksum(value);
        if (!digest.ok()) return LineError(source, n, digest.status().message());
        cur.files.back().expected = std::move(digest).value();
        break;
      }
      default:
        break;  // other fields (C, S, I, T, U, L, o, m, t, c, D, p, M, a, ...)
    }
    return Status::Ok();
  });
  DW_RETURN_IF_ERROR(s);
  DW_RETURN_IF_ERROR(finish());

  std::vector<size_t> order(stanzas.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return PackageLess(stanzas[a].package, stanzas[b].package);
  });
  PackageDb db;
  for (size_t i : order) {
    size_t index = db.packages.size();
    db.packages.push_back(stanzas[i].package);
    for (OwnedFile& f : stanzas[i].files) {
      f.package = stanzas[i].package.name;
      f.package_index = index;
      db.files.push_back(std::move(f));
    }
  }
  return db;
}

Result<PackageDb> ReadApkDb(Host& host, const std::string& root) {
  DW_ASSIGN_OR_RETURN(std::optional<std::string> text, ReadDbFile(host, root, kInstalledFile));
  if (!text) return PackageDb();
  return ParseApkInstalled(*text, kInstalledFile);
}

}  // namespace driftwatch::packages
