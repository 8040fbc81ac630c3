#include "agent/chain_verify.h"

#include <deque>
#include <map>
#include <set>

#include "agent/store.h"
#include "agent/store_chain.h"
#include "agent/store_file.h"
#include "core/chain.h"
#include "core/entry.h"
#include "core/sqlite.h"

namespace driftwatch::agent {
namespace {

using sqlite::Db;
using sqlite::Stmt;

using Fields = std::map<std::string, std::string>;

// A parsed record that stands for a row.
struct Rec {
  int64_t seq = 0;
  std::string kind;
  int64_t time_ns = 0;
  Fields f;
};

class Verifier {
 public:
  Verifier(Db& db, StoreVerification& out) : db_(db), out_(out) {}

  Status Run() {
    DW_RETURN_IF_ERROR(WalkChain());
    DW_RETURN_IF_ERROR(Baselines());
    DW_RETURN_IF_ERROR(Checks());
    DW_RETURN_IF_ERROR(Restores());
    for (const auto& [key, r] : baselines_) {
      Find(r, "baseline '" + key.first + "' revision " + std::to_string(key.second) +
                  " is in the chain but not in the baselines table (deleted?)");
    }
    for (const auto& [id, r] : checks_) {
      Find(r, "check " + std::to_string(id) +
                  " is in the chain but not in the checks table (deleted?)");
    }
    for (const auto& [id, r] : restores_) {
      Find(r, "restore " + std::to_string(id) +
                  " is in the chain but not in the restores table (deleted?)");
    }
    return Trees();
  }

 private:
  void Find(const Rec& r, std::string what) {
    out_.findings.push_back({r.seq, r.kind, r.time_ns, std::move(what)});
  }
  void FindRow(const std::string& table, std::string what) {
    out_.findings.push_back({0, table, 0, std::move(what)});
  }
  // Compares one field of a row with its record.
  void Expect(const Rec& r, const std::string& row, const std::string& field,
              const std::string& table_value) {
    auto it = r.f.find(field);
    const std::string recorded = it == r.f.end() ? "(none)" : it->second;
    if (recorded == table_value) return;
    Find(r, row + ": " + field + " is '" + table_value + "' in the table, '" + recorded +
                "' in the chain");
  }

  Status WalkChain() {
    DW_ASSIGN_OR_RETURN(
        Stmt q, db_.Prepare("SELECT seq, kind, time_ns, body, head FROM chain ORDER BY seq"));
    std::string prev = chain::GenesisHead();
    int64_t prev_seq = 0;
    for (;;) {
      DW_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      chain::Record r{q.Int(0), q.Text(1), q.Int(2), q.Text(3)};
      const std::string stored = q.Text(4);
      Rec rec{r.seq, r.kind, r.time_ns, {}};
      if (r.seq != prev_seq + 1) {
        Find(rec, "follows record " + std::to_string(prev_seq) + ": record(s) " +
                      std::to_string(prev_seq + 1) +
                      (r.seq - 1 > prev_seq + 1 ? ".." + std::to_string(r.seq - 1) : "") +
                      " are missing (deleted?)");
      } else if (std::string head = chain::NextHead(prev, chain::RecordHash(r)); head != stored) {
        Find(rec, "stored head " + stored + ", recomputed " + head +
                      ": this record, or the head before it, was changed");
      }
      prev = stored;
      prev_seq = r.seq;
      ++out_.length;
      out_.head = stored;
      auto fields = chain::ParseBody(r.body);
      if (!fields.ok()) {
        Find(rec, fields.status().message());
        continue;
      }
      rec.f = std::move(*fields);
      Index(std::move(rec));
    }
    if (out_.length == 0) out_.head = chain::GenesisHead();
    return Status::Ok();
  }

  static int64_t Int(const Fields& f, const char* key) {
    auto it = f.find(key);
    return it == f.end() ? -1 : std::strtoll(it->second.c_str(), nullptr, 10);
  }

  void Index(Rec rec) {
    if (rec.kind == chain::kBaseline || rec.kind == chain::kAccept) {
      auto key = std::make_pair(rec.f["name"], Int(rec.f, "revision"));
      Keep(baselines_, key, std::move(rec),
           "baseline '" + key.first + "' revision " + std::to_string(key.second));
    } else if (rec.kind == chain::kCheck) {
      const int64_t id = Int(rec.f, "check");
      Keep(checks_, id, std::move(rec), "check " + std::to_string(id));
    } else if (rec.kind == chain::kRestore) {
      const int64_t id = Int(rec.f, "restore");
      Keep(restores_, id, std::move(rec), "restore " + std::to_string(id));
    }
  }

  template <typename Key>
  void Keep(std::map<Key, Rec>& index, const Key& key, Rec rec, const std::string& name) {
    auto [it, added] = index.emplace(key, rec);
    if (!added) {
      Find(rec, name + " was already recorded at seq " + std::to_string(it->second.seq));
    }
  }

  Status Baselines() {
    DW_ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT b.name, b.revision, b.snapshot_id, b.author,"
                                            " b.reason, s.root, s.rules_hash, s.id IS NULL"
                                            " FROM baselines b"
                                            " LEFT JOIN snapshots s ON s.id = b.snapshot_id"
                                            " ORDER BY b.name, b.revision"));
    for (;;) {
      DW_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      ++out_.baselines;
      const std::string name = q.Text(0);
      const int64_t revision = q.Int(1);
      const std::string label = "baseline '" + name + "' revision " + std::to_string(revision);
      auto root = Hash128::FromBytes(q.Blob(5));
      const std::string root_hex = root.ok() ? root->Hex() : "";
      if (q.Int(7) == 0 && root.ok()) baseline_roots_.emplace_back(*root, label);
      auto it = baselines_.find({name, revision});
      if (it == baselines_.end()) {
        FindRow("baselines", label + " (snapshot " + std::to_string(q.Int(2)) + ", root " +
                                 root_hex + ", by '" + q.Text(3) +
                                 "') has no chain record: it was added outside driftwatch");
        continue;
      }
      const Rec& r = it->second;
      Expect(r, label, "snapshot", std::to_string(q.Int(2)));
      Expect(r, label, "root", root_hex);
      Expect(r, label, "rules", q.Text(6));
      Expect(r, label, "author", q.Text(3));
      Expect(r, label, "reason", q.Text(4));
      baselines_.erase(it);
    }
    return Status::Ok();
  }

  Status Checks() {
    DW_ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT id, COALESCE(snapshot_id, 0), baseline,"
                                            " revision FROM checks ORDER BY id"));
    for (;;) {
      DW_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      ++out_.checks;
      const int64_t id = q.Int(0), snapshot = q.Int(1), revision = q.Int(3);
      const std::string baseline = q.Text(2);
      const std::string label = "check " + std::to_string(id);
      auto it = checks_.find(id);
      if (it == checks_.end()) {
        FindRow("checks", label + " (baseline '" + baseline +
                              "') has no chain record: it was added outside driftwatch");
        continue;
      }
      const Rec& r = it->second;
      Expect(r, label, "baseline", baseline);
      Expect(r, label, "revision", std::to_string(revision));
      DW_ASSIGN_OR_RETURN(RowsDigest events, CheckEventsDigest(db_, id));
      Expect(r, label, "events", std::to_string(events.count));
      Expect(r, label, "events_digest", events.digest);
      // A pruned snapshot leaves no root to compare.
      DW_ASSIGN_OR_RETURN(std::string root, SnapshotRootHex(db_, snapshot));
      if (!root.empty()) Expect(r, label, "root", root);
      DW_ASSIGN_OR_RETURN(std::string base_root, BaselineRootHex(db_, baseline, revision));
      if (!base_root.empty()) Expect(r, label, "baseline_root", base_root);
      checks_.erase(it);
    }
    return Status::Ok();
  }

  Status Restores() {
    DW_ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT id, baseline, revision, author, reason,"
                                            " refused FROM restores ORDER BY id"));
    for (;;) {
      DW_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      ++out_.restores;
      const int64_t id = q.Int(0);
      const std::string label = "restore " + std::to_string(id);
      auto it = restores_.find(id);
      if (it == restores_.end()) {
        FindRow("restores", label + " has no chain record: it was added outside driftwatch");
        continue;
      }
      const Rec& r = it->second;
      Expect(r, label, "baseline", q.Text(1));
      Expect(r, label, "revision", std::to_string(q.Int(2)));
      Expect(r, label, "author", q.Text(3));
      Expect(r, label, "reason", q.Text(4));
      Expect(r, label, "refused", std::to_string(q.Int(5)));
      DW_ASSIGN_OR_RETURN(RowsDigest actions, RestoreActionsDigest(db_, id));
      Expect(r, label, "actions", std::to_string(actions.count));
      Expect(r, label, "actions_digest", actions.digest);
      restores_.erase(it);
    }
    return Status::Ok();
  }

  // Every tree a baseline reaches: present, and hashing to its id.
  Status Trees() {
    DW_ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT data FROM trees WHERE id = ?"));
    std::set<Hash128> seen;
    std::deque<std::pair<Hash128, const std::string*>> todo;
    for (const auto& [root, label] : baseline_roots_) {
      if (seen.insert(root).second) todo.emplace_back(root, &label);
    }
    while (!todo.empty()) {
      auto [id, label] = todo.front();
      todo.pop_front();
      q.Reset();
      q.BindBlob(1, id.Bytes());
      DW_ASSIGN_OR_RETURN(bool found, q.Step());
      ++out_.trees;
      if (!found) {
        FindRow("trees", "tree " + id.Hex() + " (of " + *label + ") is missing");
        continue;
      }
      const std::string data = q.Blob(0);
      if (Hash128 actual = TreeHash(data); actual != id) {
        FindRow("trees", "tree " + id.Hex() + " (of " + *label +
                             ") is damaged: its bytes hash to " + actual.Hex());
        continue;
      }
      auto tree = ParseTree(data);
      if (!tree.ok()) {
        FindRow("trees", "tree " + id.Hex() + " (of " + *label + "): " + tree.status().message());
        continue;
      }
      for (const Entry& e : tree->entries) {
        if (e.type == EntryType::kDir && !e.subtree.IsZero() && seen.insert(e.subtree).second) {
          todo.emplace_back(e.subtree, label);
        }
      }
    }
    return Status::Ok();
  }

  Db& db_;
  StoreVerification& out_;
  // Records not yet matched with a row (matched ones are erased).
  std::map<std::pair<std::string, int64_t>, Rec> baselines_;
  std::map<int64_t, Rec> checks_;
  std::map<int64_t, Rec> restores_;
  std::vector<std::pair<Hash128, std::string>> baseline_roots_;
};

}  // namespace

Result<StoreVerification> VerifyStore(Host& host, const std::string& path) {
  DW_RETURN_IF_ERROR(CheckStoreFile(host, path));
  DW_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(path, AgentDbOptions(/*read_only=*/true)));
  auto v = db->Prepare("SELECT version FROM schema_versions WHERE component = 'store'");
  if (!v.ok()) return v.status().WithContext(path + " is not a driftwatch store");
  DW_ASSIGN_OR_RETURN(bool found, v->Step());
  const int64_t version = found ? v->Int(0) : 0;
  v->Reset();
  if (version < 6) {
    return Status::Unsupported(path + ": store schema version " + std::to_string(version) +
                               " has no chain; any driftwatch command that opens the store "
                               "(driftwatch status) upgrades it");
  }
  if (version > kStoreSchemaVersion) {
    return Status::Unsupported(path + ": store schema version " + std::to_string(version) +
                               " is newer than this driftwatch supports; upgrade driftwatch");
  }
  StoreVerification out;
  // One read transaction: the tables and the chain as of one moment.
  DW_RETURN_IF_ERROR(db->Exec("BEGIN"));
  Status s = Verifier(*db, out).Run();
  db->Exec("COMMIT").IgnoreError();
  DW_RETURN_IF_ERROR(s.WithContext(path));
  return out;
}

}  // namespace driftwatch::agent
