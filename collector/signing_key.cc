#include "collector/signing_key.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

#include "collector/store_url.h"
#include "core/private_file.h"

namespace driftwatch::collector {
namespace {

std::string DirOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// The retired public keys, sorted by file name (their ids).
Result<std::vector<sign::PublicKey>> LoadRetired(Host& host, const std::string& dir) {
  std::vector<sign::PublicKey> out;
  const std::string retired = dir + "/" + kRetiredKeysDir;
  auto fd = host.OpenAt(AT_FDCWD, retired, O_RDONLY | O_DIRECTORY);
  if (!fd.ok() && fd.status().code() == StatusCode::kNotFound) return out;
  if (!fd.ok()) return fd.status();
  DW_ASSIGN_OR_RETURN(auto names, host.ReadDir(fd->get()));
  std::sort(names.begin(), names.end(),
            [](const DirEntryName& a, const DirEntryName& b) { return a.name < b.name; });
  for (const DirEntryName& n : names) {
    if (n.name.size() < 5 || n.name.substr(n.name.size() - 4) != ".pub") continue;
    const std::string path = retired + "/" + n.name;
    DW_ASSIGN_OR_RETURN(std::string pem, host.ReadFile(path, sign::kMaxKeyFileBytes));
    auto key = sign::PublicKey::FromPem(pem);
    if (!key.ok()) return key.status().WithContext(path);
    out.push_back(std::move(key).value());
  }
  return out;
}

Status WriteKey(Host& host, const std::string& path, const sign::PrivateKey& key) {
  const std::string pem = key.Pem();
  if (pem.empty()) return Status::Internal(path + ": cannot encode the signing key");
  return host.WriteFileAtomic(path, pem, 0600);
}

}  // namespace

std::string StateDir(const CollectorConfig& config, const std::string& state_dir) {
  if (!state_dir.empty()) return state_dir;
  if (!config.store.empty()) {
    auto url = ParseStoreUrl(config.store);
    if (url.ok() && url->kind == StoreUrl::Kind::kSqlite) return DirOf(url->target);
    return kDefaultStateDir;
  }
  if (!config.db.empty()) return DirOf(config.db);
  return kDefaultStateDir;
}

Result<SigningKeys> SigningKeys::Load(Host& host, const std::string& dir, bool create) {
  const std::string path = dir + "/" + kSigningKeyFile;
  struct stat st {};
  Status stat = host.StatAt(AT_FDCWD, path, &st);
  if (!stat.ok() && stat.code() == StatusCode::kNotFound && create) {
    DW_ASSIGN_OR_RETURN(sign::PrivateKey key, sign::PrivateKey::Generate());
    DW_RETURN_IF_ERROR(WriteKey(host, path, key).WithContext("creating the signing key"));
    DW_ASSIGN_OR_RETURN(auto retired, LoadRetired(host, dir));
    return SigningKeys(std::move(key), std::move(retired), path);
  }
  if (!stat.ok()) {
    if (stat.code() == StatusCode::kNotFound) {
      return Status::NotFound(path + ": no signing key; the collector makes it at its first start");
    }
    return stat;
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(path + ": not a regular file (" + FileTypeName(st.st_mode) +
                                   ")");
  }
  DW_RETURN_IF_ERROR(CheckPrivate(st, path, "the collector's signing key", "use"));
  DW_ASSIGN_OR_RETURN(std::string pem, host.ReadFile(path, sign::kMaxKeyFileBytes));
  auto key = sign::PrivateKey::FromPem(pem);
  if (!key.ok()) return key.status().WithContext(path);
  DW_ASSIGN_OR_RETURN(auto retired, LoadRetired(host, dir));
  return SigningKeys(std::move(key).value(), std::move(retired), path);
}

Result<SigningKeys> SigningKeys::Rotate(Host& host, const std::string& dir) {
  DW_ASSIGN_OR_RETURN(SigningKeys old, Load(host, dir, false));
  const std::string retired = dir + "/" + kRetiredKeysDir;
  Status made = host.MakeDir(retired, 0700);
  if (!made.ok() && made.code() != StatusCode::kAlreadyExists) return made;
  // The old public key is kept before the new key replaces it: a crash in
  // between leaves both known.
  const sign::PublicKey& old_public = old.key().Public();
  DW_RETURN_IF_ERROR(
      host.WriteFileAtomic(retired + "/" + old_public.Id() + ".pub", old_public.Pem(), 0644));
  DW_ASSIGN_OR_RETURN(sign::PrivateKey key, sign::PrivateKey::Generate());
  DW_RETURN_IF_ERROR(WriteKey(host, dir + "/" + kSigningKeyFile, key));
  return Load(host, dir, false);
}

}  // namespace driftwatch::collector
