// driftwatch-collector key show | rotate: the collector's signing key
// (collector/signing_key.h; rotation in docs/operations.md).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>

#include "collector/cli.h"
#include "collector/signing_key.h"

namespace driftwatch::collector::cli {
namespace {

Result<std::string> KeyDir(Host& host, const Flags& flags) {
  DW_ASSIGN_OR_RETURN(CollectorConfig config, LoadConfig(host, flags));
  return StateDir(config, flags.count("state-dir") ? flags.at("state-dir") : "");
}

// Root rotating the key of a collector that runs as its own user: the new
// key and the retired ones go to the owner of the state directory, or the
// service could no longer read its key.
void GiveToDirOwner(const std::string& dir) {
  if (geteuid() != 0) return;
  struct stat d {};
  if (stat(dir.c_str(), &d) != 0 || d.st_uid == 0) return;
  std::vector<std::string> files = {dir + "/" + kSigningKeyFile, dir + "/" + kRetiredKeysDir};
  for (const std::string& f : files) {
    if (fchownat(AT_FDCWD, f.c_str(), d.st_uid, d.st_gid, AT_SYMLINK_NOFOLLOW) != 0 &&
        errno != ENOENT) {
      std::cerr << "driftwatch-collector: " << ErrnoStatus("chown " + f, errno).message() << "\n";
    }
  }
}

int KeyShow(Host& host, const Flags& flags) {
  auto dir = KeyDir(host, flags);
  if (!dir.ok()) return Fail(dir.status());
  auto keys = SigningKeys::Load(host, *dir, false);
  if (!keys.ok()) return Fail(keys.status());
  const sign::PublicKey& pub = keys->key().Public();
  std::cout << "key " << pub.Id() << " (" << keys->path() << ")\n" << pub.Pem();
  for (const sign::PublicKey& old : keys->retired()) {
    std::cout << "retired key " << old.Id() << " (still verifies what it signed)\n";
  }
  return kExitOk;
}

int KeyRotate(Host& host, const Flags& flags) {
  auto dir = KeyDir(host, flags);
  if (!dir.ok()) return Fail(dir.status());
  auto before = SigningKeys::Load(host, *dir, false);
  if (!before.ok()) return Fail(before.status());
  const std::string old_id = before->key().Public().Id();
  auto keys = SigningKeys::Rotate(host, *dir);
  GiveToDirOwner(*dir);
  if (!keys.ok()) return Fail(keys.status());
  std::cout << "new key " << keys->key().Public().Id() << "; retired key " << old_id
            << " is kept in " << *dir << "/" << kRetiredKeysDir << "\n"
            << "restart the collector, then re-pin the agents (docs/operations.md, "
               "\"Rotating the signing key\")\n";
  return kExitOk;
}

void AddKeyFlags(CLI::App* cmd, Flags* flags) {
  AddStoreFlags(cmd, flags);
  AddFlag(cmd, flags, "state-dir", "DIR",
          std::string("where signing.key is (default: the SQLite store's directory, else ") +
              kDefaultStateDir + ")");
}

}  // namespace

void AddKeyCommand(CLI::App& root, Host& host) {
  CLI::App* key = cmdline::AddGroup(root, "key", "the collector's signing key: show, rotate");
  auto s = std::make_shared<Flags>();
  CLI::App* show = cmdline::AddCommand(*key, "show", "print the signing key's id and public key",
                                       [s, &host] { return KeyShow(host, *s); });
  AddKeyFlags(show, s.get());
  auto r = std::make_shared<Flags>();
  CLI::App* rotate = cmdline::AddCommand(
      *key, "rotate", "make a new signing key; the old public key is kept for verification",
      [r, &host] { return KeyRotate(host, *r); });
  AddKeyFlags(rotate, r.get());
}

}  // namespace driftwatch::collector::cli
