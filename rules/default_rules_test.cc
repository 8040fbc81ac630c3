// The rule files shipped in rules/default/ load and say what they promise.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rules/attr_sets.h"
#include "rules/policy.h"

#ifndef DW_RULES_DEFAULT_DIR
#error "DW_RULES_DEFAULT_DIR must name rules/default"
#endif

namespace driftwatch::rules {
namespace {

Policy Load(const std::string& name) {
  const std::string path = std::string(DW_RULES_DEFAULT_DIR) + "/" + name;
  Result<Policy> p = LoadPolicyFile(DefaultHost(), path);
  EXPECT_TRUE(p.ok()) << p.status().message();
  if (!p.ok()) return std::move(Policy::Create({})).value();
  EXPECT_EQ(p->files(), std::vector<std::string>{path});
  return std::move(p).value();
}

// What a path gets: "none", "ignore", or "SET/SEVERITY[/sha256]".
std::string Outcome(const Policy& p, std::string_view path) {
  const Rule* r = p.Match(path);
  if (!r) return "none";
  if (r->ignore) return "ignore";
  std::string set = "custom";
  for (const AttrSet& s : BuiltinSets()) {
    if (s.mask == r->mask) set = std::string(s.name);
  }
  std::string out = set + "/" + std::string(SeverityName(r->severity));
  if (r->hash == HashAlgo::kSha256) out += "/sha256";
  return out;
}

TEST(DefaultRulesTest, Host) {
  const Policy p = Load("host.yaml");
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"/etc", "content/high"},
      {"/etc/hosts", "content/high"},
      {"/etc/passwd", "content/critical"},
      {"/etc/shadow", "content/critical/sha256"},
      {"/etc/sudoers.d/90-cloud-init-users", "content/critical"},
      {"/etc/ssh/sshd_config", "content/critical"},
      {"/etc/pam.d/common-auth", "content/critical"},
      {"/etc/ld.so.preload", "content/critical"},
      {"/etc/mtab", "ignore"},
      {"/etc/ld.so.cache", "ignore"},
      {"/etc/adjtime", "ignore"},
      {"/etc/lvm/archive/vg0_00001.vg", "ignore"},
      {"/etc/resolv.conf", "permissions/medium"},
      {"/etc/cron.daily/logrotate", "content/high"},
      {"/etc/systemd/system/multi-user.target.wants/ssh.service", "content/high"},
      {"/var/spool/cron/crontabs/root", "content/high"},
      {"/boot/vmlinuz-6.1.0-13-amd64", "content/high"},
      {"/boot/grub/grubenv", "ignore"},
      {"/bin", "content/high"},
      {"/usr/bin/ls", "content/high"},
      {"/usr/sbin/sshd", "content/high"},
      {"/usr/lib/x86_64-linux-gnu/libc.so.6", "content/medium"},
      {"/usr/lib/systemd/system/ssh.service", "content/high"},
      {"/usr/lib/python3/dist-packages/yaml/__pycache__/a.cpython-311.pyc", "ignore"},
      {"/usr/lib/python3/dist-packages/yaml/a.pyc", "ignore"},
      {"/usr/lib/python3/dist-packages/yaml/__init__.py", "content/medium"},
      {"/usr/local/bin/tool", "content/high"},
      {"/usr/local/lib/python3.11/__pycache__/x.pyc", "ignore"},
      {"/usr/share/doc/bash/README", "none"},
      {"/root/.ssh", "content/critical"},
      {"/root/.ssh/authorized_keys", "content/critical"},
      {"/root/.bash_history", "none"},
      {"/home/alice/.ssh/authorized_keys", "content/critical"},
      {"/home/alice/.bashrc", "none"},
      {"/var/log/dpkg.log", "log/low"},
      {"/var/log/apt/history.log", "none"},
      {"/var/cache/apt/pkgcache.bin", "ignore"},
      {"/tmp/x", "ignore"},
      {"/srv/data", "none"},
  };
  for (const auto& [path, want] : cases) EXPECT_EQ(Outcome(p, path), want) << path;
  EXPECT_EQ(p.Roots(),
            (std::vector<std::string>{"/bin", "/boot", "/etc", "/home", "/lib", "/lib64",
                                      "/root/.ssh", "/sbin", "/usr/bin", "/usr/lib", "/usr/libexec",
                                      "/usr/local", "/usr/sbin", "/var/log", "/var/spool/cron"}));
  const std::vector<std::pair<const char*, bool>> below = {
      {"/", true},
      {"/etc", true},
      {"/home", true},
      {"/home/alice", true},
      {"/home/alice/src", false},
      {"/var", true},
      {"/var/cache", false},
      {"/tmp", false},
      {"/usr/share", false},
      {"/usr/lib/python3.11/__pycache__", false},
  };
  for (const auto& [dir, want] : below) EXPECT_EQ(p.CouldMatchBelow(dir), want) << dir;
  EXPECT_EQ(p.package_upgrades(), Severity::kLow);
}

TEST(DefaultRulesTest, Container) {
  const Policy p = Load("container.yaml");
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"/", "content/medium"},
      {"/usr/bin/python3", "content/medium"},
      {"/app/server.py", "content/medium"},
      {"/app/__pycache__/server.cpython-311.pyc", "ignore"},
      {"/etc/passwd", "content/high"},
      {"/etc/ssh/sshd_config", "content/high"},
      {"/etc/hosts", "ignore"},
      {"/etc/resolv.conf", "ignore"},
      {"/etc/hostname", "ignore"},
      {"/proc", "ignore"},
      {"/proc/1/status", "ignore"},
      {"/sys/fs/cgroup", "ignore"},
      {"/dev/null", "ignore"},
      {"/run/nginx.pid", "ignore"},
      {"/tmp/upload", "ignore"},
      {"/var/cache/apt/archives/x.deb", "ignore"},
      {"/var/log/nginx/access.log", "log/low"},
  };
  for (const auto& [path, want] : cases) EXPECT_EQ(Outcome(p, path), want) << path;
  EXPECT_EQ(p.Roots(), std::vector<std::string>{"/"});
  for (const char* dir : {"/proc", "/sys", "/dev", "/run", "/tmp", "/var/cache"}) {
    EXPECT_FALSE(p.CouldMatchBelow(dir)) << dir;
  }
  for (const char* dir : {"/", "/etc", "/usr/lib", "/var", "/var/log"}) {
    EXPECT_TRUE(p.CouldMatchBelow(dir)) << dir;
  }
}

// /etc is kept, secrets redacted, nothing else kept; the content rules do
// not change what is checked (the cases above).
void ExpectContent(const Policy& p) {
  const std::vector<std::pair<const char*, ContentMode>> cases = {
      {"/etc/hosts", ContentMode::kKeep},
      {"/etc/passwd", ContentMode::kKeep},
      {"/etc/ssh/sshd_config", ContentMode::kKeep},
      {"/etc/ssh/ssh_host_ed25519_key.pub", ContentMode::kKeep},
      {"/etc/pam.d/common-password", ContentMode::kKeep},
      {"/etc/nginx/sites-enabled/default", ContentMode::kKeep},
      {"/etc/shadow", ContentMode::kRedact},
      {"/etc/gshadow", ContentMode::kRedact},
      {"/etc/shadow-", ContentMode::kRedact},
      {"/etc/gshadow-", ContentMode::kRedact},
      {"/etc/security/opasswd", ContentMode::kRedact},
      {"/etc/ssh/ssh_host_ed25519_key", ContentMode::kRedact},
      {"/etc/ssh/ssh_host_rsa_key", ContentMode::kRedact},
      {"/etc/ssl/private/ssl-cert-snakeoil.key", ContentMode::kRedact},
      {"/etc/ssl/private/sub/x.pem", ContentMode::kRedact},
      {"/etc/nginx/private/site.pem", ContentMode::kRedact},
      {"/etc/nginx/ssl/site.key", ContentMode::kRedact},
      {"/etc/site.key", ContentMode::kRedact},
      {"/etc/letsencrypt/archive/example.org/privkey1.pem", ContentMode::kRedact},
      {"/etc/krb5.keytab", ContentMode::kRedact},
      {"/etc/driftwatch/token", ContentMode::kRedact},
      {"/etc/driftwatch/enroll-token.txt", ContentMode::kRedact},
      {"/etc/app/api_token", ContentMode::kRedact},
      {"/etc/ppp/chap-secrets", ContentMode::kRedact},
      {"/etc/ipsec.secrets", ContentMode::kRedact},
      {"/etc/app/credentials.json", ContentMode::kRedact},
      {"/etc/wireguard/wg0.conf", ContentMode::kRedact},
      {"/etc/NetworkManager/system-connections/home.nmconnection", ContentMode::kRedact},
      {"/usr/bin/ls", ContentMode::kNone},
      {"/var/log/dpkg.log", ContentMode::kNone},
  };
  for (const auto& [path, want] : cases) {
    EXPECT_EQ(ContentModeName(p.Content(path).mode), ContentModeName(want)) << path;
  }
  EXPECT_EQ(p.Content("/etc/hosts").max_bytes, kDefaultContentMaxBytes);
  for (const Rule& r : p.rules()) {
    if (r.content) {
      EXPECT_TRUE(r.content_only) << r.Describe();
    }
  }
}

TEST(DefaultRulesTest, HostContent) { ExpectContent(Load("host.yaml")); }

TEST(DefaultRulesTest, ContainerContent) { ExpectContent(Load("container.yaml")); }

}  // namespace
}  // namespace driftwatch::rules
