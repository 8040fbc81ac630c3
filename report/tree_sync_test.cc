// SyncTree against a loopback collector that keeps tree objects the way the
// wire contract says (docs/wire.md "Trees") and records every request.
#include "report/tree_sync.h"

#include <cpprest/json.h>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/base64.h"
#include "core/entry.h"
#include "gtest/gtest.h"
#include "tests/collector/scripted_collector.h"

namespace driftwatch::report {
namespace {

using collector_it::ScriptedCollector;
using collector_it::ScriptedRequest;
using web::json::value;

std::string HttpAnswer(int status, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// The collector's side of endpoints 1-3, in memory: objects by id, the
// host's root and host-specific paths, and what each request carried.
class TreeCollector {
 public:
  std::string Serve(const ScriptedRequest& r) {
    std::lock_guard<std::mutex> lock(mu_);
    value b = value::parse(r.body.empty() ? "{}" : r.body);
    if (r.head.rfind("POST /api/v1/trees/offer ", 0) == 0) {
      value want = value::array();
      size_t n = 0;
      for (const value& id : b.at("ids").as_array()) {
        ++offered;
        if (!objects.count(id.as_string())) want[n++] = id;
      }
      value out = value::object();
      out["want"] = want;
      return HttpAnswer(200, out.serialize());
    }
    if (r.head.rfind("POST /api/v1/trees/objects ", 0) == 0) {
      std::map<std::string, std::string> batch;
      std::vector<std::string> missing;
      for (const value& o : b.at("objects").as_array()) {
        const std::string id = o.at("id").as_string();
        std::string data = *Base64Decode(o.at("data").as_string());
        EXPECT_EQ(TreeHash(data).Hex(), id);
        Result<Tree> t = ParseTree(data);
        EXPECT_TRUE(t.ok());
        // Children before parents: each subtree held or earlier in the batch.
        for (const Entry& e : t->entries) {
          if (e.type != EntryType::kDir || e.subtree.IsZero()) continue;
          const std::string sub = e.subtree.Hex();
          if (!objects.count(sub) && !batch.count(sub)) missing.push_back(sub);
        }
        batch[id] = std::move(data);
      }
      if (!missing.empty()) {
        value out = value::object();
        out["error"] = value("missing_objects");
        value want = value::array();
        for (size_t i = 0; i < missing.size(); ++i) want[i] = value(missing[i]);
        out["want"] = want;
        return HttpAnswer(409, out.serialize());
      }
      int64_t stored = 0;
      for (auto& [id, data] : batch) stored += objects.emplace(id, data).second ? 1 : 0;
      uploaded += static_cast<int64_t>(batch.size());
      value out = value::object();
      out["stored"] = value::number(stored);
      out["held"] = value::number(static_cast<int64_t>(batch.size()) - stored);
      return HttpAnswer(200, out.serialize());
    }
    if (r.head.rfind("POST /api/v1/agents/tree ", 0) == 0) {
      const std::string root_hex = b.at("root").as_string();
      if (!objects.count(root_hex)) {
        return HttpAnswer(409, R"({"error":"missing_objects","message":"root not held","want":[")" +
                                   root_hex + "\"]}");
      }
      root = root_hex;
      host_specific.clear();
      for (const value& p : b.at("host_specific").as_array()) {
        host_specific.push_back(p.as_string());
      }
      return HttpAnswer(200, R"({"root":")" + root_hex + "\"}");
    }
    return HttpAnswer(404, R"({"error":"not_found"})");
  }

  std::mutex mu_;
  std::map<std::string, std::string> objects;
  std::string root;
  std::vector<std::string> host_specific;
  int64_t offered = 0;
  int64_t uploaded = 0;
};

// A tree built from file paths and contents, stored in `store`.
class TreeBuilder {
 public:
  void File(const std::string& path, const std::string& content) { files_[path] = content; }
  void Dir(const std::string& path) { dirs_.insert(path); }

  // Stores every directory's object; returns the root id.
  Hash128 Build(MemoryTreeStore& store) { return BuildDir("", store); }

 private:
  Hash128 BuildDir(const std::string& dir, MemoryTreeStore& store) {
    std::map<std::string, Entry> entries;
    const std::string prefix = dir + "/";
    auto child_of = [&](const std::string& path) -> std::string {
      if (path.rfind(prefix, 0) != 0) return "";
      std::string rest = path.substr(prefix.size());
      return rest.substr(0, rest.find('/'));
    };
    auto add_dir = [&](const std::string& name) {
      if (name.empty() || entries.count(name)) return;
      Entry e;
      e.name = name;
      e.type = EntryType::kDir;
      e.mask = kAttrType | kAttrPerm;
      e.mode = 0755;
      e.subtree = BuildDir(prefix + name, store);
      entries[name] = e;
    };
    for (const auto& [path, content] : files_) {
      const std::string name = child_of(path);
      if (name.empty()) continue;
      if (path == prefix + name) {
        Entry e;
        e.name = name;
        e.type = EntryType::kFile;
        e.mask = kAttrType | kAttrPerm | kAttrHash;
        e.mode = 0644;
        e.content = *Digest::Parse("xxh128:" + HashBytes(content).Hex());
        entries[name] = e;
      } else {
        add_dir(name);
      }
    }
    for (const std::string& d : dirs_) {
      add_dir(child_of(d));  // the directory itself or one on its way
    }
    Tree t;
    for (auto& [name, e] : entries) t.entries.push_back(e);
    std::string bytes = SerializeTree(t);
    const Hash128 id = TreeHash(bytes);
    EXPECT_TRUE(store.Put(id, std::move(bytes)).ok());
    return id;
  }

  std::map<std::string, std::string> files_;
  std::set<std::string> dirs_;
};

TreeBuilder Fleet() {
  TreeBuilder b;
  b.File("/etc/hostname", "web-1\n");
  b.File("/etc/passwd", "root:x:0:0\n");
  b.File("/etc/ssh/sshd_config", "PermitRootLogin no\n");
  b.File("/etc/ssh/ssh_host_ed25519_key", "secret\n");
  b.File("/etc/app/conf.d/a/b/deep.conf", "x=1\n");
  b.File("/usr/bin/ls", "ELF");
  b.Dir("/etc/empty");
  b.Dir("/var/empty");  // the same (empty) object as /etc/empty
  return b;
}

class TreeSyncTest : public ::testing::Test {
 protected:
  TreeCollector fake;
  ScriptedCollector server{[this](const ScriptedRequest& r) { return fake.Serve(r); }};
};

TEST_F(TreeSyncTest, FirstSyncSendsEachObjectOnceThenNothingButTheRoot) {
  ASSERT_TRUE(server.ok());
  MemoryTreeStore store;
  TreeBuilder b = Fleet();
  const Hash128 root = b.Build(store);
  CollectorClient client(server.url(), "agent-token");
  // Directories: /, /etc, /etc/ssh, /etc/app, conf.d, a, b, /usr, /usr/bin,
  // /var, and one empty directory object shared by /etc/empty and /var/empty.
  const int64_t objects = 11;
  ASSERT_EQ(static_cast<int64_t>(store.size()), objects);

  auto first = SyncTree(client, store, root, std::nullopt, {"/etc/hostname"});
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->offered, objects);
  EXPECT_EQ(first->sent_objects, objects);
  EXPECT_EQ(first->rounds, 3);  // offer, upload, set
  EXPECT_FALSE(first->full);
  EXPECT_GT(first->sent_bytes, 0);
  EXPECT_EQ(fake.objects.size(), static_cast<size_t>(objects));
  EXPECT_EQ(fake.root, root.Hex());
  EXPECT_EQ(fake.host_specific, std::vector<std::string>{"/etc/hostname"});
  for (const ScriptedRequest& r : server.requests()) {
    EXPECT_NE(r.head.find("Bearer agent-token"), std::string::npos) << r.head;
  }

  // Unchanged: only the root is set again.
  const size_t before = server.requests().size();
  auto again = SyncTree(client, store, root, root, {"/etc/hostname"});
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->offered, 0);
  EXPECT_EQ(again->sent_objects, 0);
  EXPECT_EQ(again->rounds, 1);
  std::vector<ScriptedRequest> reqs = server.requests();
  ASSERT_EQ(reqs.size(), before + 1);
  EXPECT_EQ(reqs.back().head.rfind("POST /api/v1/agents/tree ", 0), 0u);
  EXPECT_EQ(again->sent_bytes, static_cast<int64_t>(reqs.back().body.size()));
}

TEST_F(TreeSyncTest, ChangedFileSendsExactlyTheObjectsOnItsPath) {
  ASSERT_TRUE(server.ok());
  MemoryTreeStore store;
  TreeBuilder b = Fleet();
  const Hash128 root = b.Build(store);
  CollectorClient client(server.url(), "t");
  ASSERT_TRUE(SyncTree(client, store, root, std::nullopt, {}).ok());
  const int64_t uploaded = fake.uploaded;

  b.File("/etc/app/conf.d/a/b/deep.conf", "x=2\n");
  const Hash128 changed = b.Build(store);
  auto s = SyncTree(client, store, changed, root, {});
  ASSERT_TRUE(s.ok()) << s.status().message();
  // /, /etc, /etc/app, conf.d, a, b: six objects, each new to the collector.
  EXPECT_EQ(s->offered, 6);
  EXPECT_EQ(s->sent_objects, 6);
  EXPECT_EQ(fake.uploaded - uploaded, 6);
  EXPECT_EQ(fake.root, changed.Hex());
  EXPECT_EQ(fake.objects.size(), 17u);

  // A second host with the first tree offers everything and sends nothing.
  TreeCollector& f = fake;
  const int64_t up = f.uploaded;
  auto other = SyncTree(client, store, root, std::nullopt, {});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->offered, 11);
  EXPECT_EQ(other->sent_objects, 0);
  EXPECT_EQ(f.uploaded, up);
}

TEST_F(TreeSyncTest, CollectorThatLostObjectsGetsTheWholeTree) {
  ASSERT_TRUE(server.ok());
  MemoryTreeStore store;
  TreeBuilder b = Fleet();
  const Hash128 root = b.Build(store);
  CollectorClient client(server.url(), "t");
  ASSERT_TRUE(SyncTree(client, store, root, std::nullopt, {}).ok());
  {
    std::lock_guard<std::mutex> lock(fake.mu_);
    fake.objects.clear();  // a new collector, or one that pruned them
  }
  b.File("/usr/bin/ls", "ELF2");
  const Hash128 changed = b.Build(store);
  auto s = SyncTree(client, store, changed, root, {});
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_TRUE(s->full);
  // The changed path's three objects are refused (their siblings are
  // missing), then all eleven are offered and sent.
  EXPECT_EQ(s->offered, 3 + 11);
  EXPECT_EQ(s->sent_objects, 11);
  EXPECT_EQ(fake.root, changed.Hex());
  EXPECT_EQ(fake.objects.size(), 11u);
}

TEST_F(TreeSyncTest, UnreachableCollectorIsAnError) {
  MemoryTreeStore store;
  const Hash128 root = Fleet().Build(store);
  server.Stop();
  CollectorClient client(server.url(), "t", "", 2000);
  auto s = SyncTree(client, store, root, std::nullopt, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable) << s.status().message();
}

TEST(HostSpecificPathsTest, ListsWhatThePeerRulesMark) {
  MemoryTreeStore store;
  TreeBuilder b = Fleet();
  b.File("/etc/ssh/ssh_host_rsa_key.pub", "pub\n");
  b.File("/etc/local/x/y", "1\n");
  const Hash128 root = b.Build(store);
  auto policy = rules::ParsePolicy(
      R"(version: 1
rules:
  - {path: /**, check: content}
  - {path: /etc/hostname, peer: ignore}
  - {path: /etc/ssh/ssh_host_*, peer: ignore}
  - {path: /etc/local, peer: ignore}
  - {path: /var/lib/dbus/machine-id, peer: ignore}
)",
      "t.yaml", [](const std::string&) -> Result<std::string> { return Status::NotFound("none"); });
  ASSERT_TRUE(policy.ok()) << policy.status().message();
  auto paths = HostSpecificPaths(store, root, *policy);
  ASSERT_TRUE(paths.ok()) << paths.status().message();
  EXPECT_EQ(*paths, (std::vector<std::string>{"/etc/hostname", "/etc/local",
                                              "/etc/ssh/ssh_host_ed25519_key",
                                              "/etc/ssh/ssh_host_rsa_key.pub"}));
}

}  // namespace
}  // namespace driftwatch::report
