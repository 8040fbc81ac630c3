#include "collector/tree_walk.h"

#include <algorithm>
#include <map>
#include <utility>

#include "core/normal_path.h"

namespace driftwatch::collector {
namespace {

// Entries compare equal when they differ in their subtree alone. Within a
// row of a Level's table the names are equal already, so they are not
// compared, and the fixed-size fields go first: this runs once per distinct
// object for every name of a directory (1,000 hosts' own /etc), the hot loop
// of /fleet/outliers. It is operator== of Entry but for `name` and `subtree`:
// a field added to Entry must be added here (the sizeof below trips).
bool SameBesidesSubtree(const Entry& a, const Entry& b) {
#if defined(__GLIBCXX__) && defined(__x86_64__)
  // Entry's size when this was written: a tripwire for a new field.
  static_assert(sizeof(Entry) == 208, "Entry changed: compare its new fields here");
#endif
  return a.type == b.type && a.mask == b.mask && a.structural == b.structural && a.mode == b.mode &&
         a.uid == b.uid && a.gid == b.gid && a.size == b.size && a.mtime_ns == b.mtime_ns &&
         a.ctime_ns == b.ctime_ns && a.inode == b.inode && a.nlink == b.nlink && a.rdev == b.rdev &&
         a.xattrs == b.xattrs && a.content == b.content && a.link_target == b.link_target;
}

// The canonical bytes of `e` without its subtree: SerializeTree of a tree
// holding it alone, so the order of keys is stable across builds.
std::string EntryKey(const Entry& e) {
  Tree t;
  t.entries.push_back(e);
  t.entries.back().subtree = Hash128();
  return SerializeTree(t);
}

// Sorts hosts ascending, keeping `subtrees` (empty, or one per host) in step.
void SortHosts(std::vector<uint32_t>* hosts, std::vector<Hash128>* subtrees) {
  if (subtrees->empty()) {
    std::sort(hosts->begin(), hosts->end());
    return;
  }
  std::vector<std::pair<uint32_t, Hash128>> both;
  both.reserve(hosts->size());
  for (size_t i = 0; i < hosts->size(); ++i) both.emplace_back((*hosts)[i], (*subtrees)[i]);
  std::sort(both.begin(), both.end());
  for (size_t i = 0; i < both.size(); ++i) {
    (*hosts)[i] = both[i].first;
    (*subtrees)[i] = both[i].second;
  }
}

}  // namespace

std::vector<TreeGroup> GroupRoots(const std::vector<Hash128>& roots) {
  std::map<Hash128, std::vector<uint32_t>> by_id;
  for (size_t i = 0; i < roots.size(); ++i) by_id[roots[i]].push_back(static_cast<uint32_t>(i));
  std::vector<TreeGroup> out;
  out.reserve(by_id.size());
  for (auto& [id, hosts] : by_id) out.push_back({id, std::move(hosts)});
  return out;
}

Result<Level> Level::Load(TreeStore& store, std::vector<TreeGroup> groups, TreeCache* cache) {
  Level level;
  const size_t k = groups.size();
  level.trees_.resize(k);
  // Objects the cache lacks are read with one GetTrees call.
  std::vector<Hash128> ids;
  std::vector<size_t> slots;
  for (size_t g = 0; g < k; ++g) {
    if (cache != nullptr) level.trees_[g] = cache->Get(groups[g].id);
    if (level.trees_[g] == nullptr) {
      ids.push_back(groups[g].id);
      slots.push_back(g);
    }
  }
  if (!ids.empty()) {
    DW_ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> data, store.GetTrees(ids));
    if (data.size() != ids.size()) {
      return Status::Internal("tree store answered " + std::to_string(data.size()) +
                              " objects for " + std::to_string(ids.size()));
    }
    for (size_t j = 0; j < ids.size(); ++j) {
      if (!data[j]) return Status::Corruption("tree object " + ids[j].Hex() + " is not stored");
      auto tree = ParseTree(*data[j]);
      if (!tree.ok()) {
        return Status::Corruption("tree object " + ids[j].Hex() + ": " + tree.status().message());
      }
      if (cache != nullptr) {
        const size_t cost = TreeCost(*tree, data[j]->size());
        level.trees_[slots[j]] = cache->Put(ids[j], std::move(tree).value(), cost);
      } else {
        level.trees_[slots[j]] = std::make_shared<const Tree>(std::move(tree).value());
      }
    }
  }
  level.groups_ = std::move(groups);
  // The names of all trees, merged: each tree's entries are sorted by name
  // and the trees of one directory mostly hold the same names, so one merge
  // pass per tree against the union so far (no sort of every name of every
  // tree). The trees are immutable and shared: the views stay valid.
  std::vector<std::string_view> merged;
  for (const auto& t : level.trees_) {
    std::vector<std::string_view>& names = level.names_;
    size_t i = 0;
    bool fresh = false;
    for (const Entry& e : t->entries) {
      int c = -1;
      while (i < names.size() && (c = names[i].compare(e.name)) < 0) ++i;
      if (c != 0) {
        fresh = true;
        break;
      }
      ++i;
    }
    if (!fresh) continue;
    merged.clear();
    merged.reserve(names.size() + t->entries.size());
    size_t a = 0;
    for (const Entry& e : t->entries) {
      const std::string_view n = e.name;
      while (a < names.size() && names[a] < n) merged.push_back(names[a++]);
      if (a < names.size() && names[a] == n) ++a;
      merged.push_back(n);
    }
    while (a < names.size()) merged.push_back(names[a++]);
    names.swap(merged);
  }
  const size_t n = level.names_.size();
  level.table_.assign(n * k, nullptr);
  level.holders_.assign(n, 0);
  level.differ_.assign(n, 0);
  level.split_.assign(n, 0);
  std::vector<const Entry*> first(n, nullptr), first_dir(n, nullptr);
  for (size_t g = 0; g < k; ++g) {
    // Both lists are sorted: one merge pass per tree.
    size_t i = 0;
    for (const Entry& e : level.trees_[g]->entries) {
      int c = -1;
      while (i < n && (c = level.names_[i].compare(e.name)) < 0) ++i;
      if (c != 0) continue;
      level.table_[i * k + g] = &e;
      ++level.holders_[i];
      if (first[i] == nullptr) {
        first[i] = &e;
      } else if (level.differ_[i] == 0 && !SameBesidesSubtree(*first[i], e)) {
        level.differ_[i] = 1;
      }
      if (e.type != EntryType::kDir) continue;
      if (first_dir[i] == nullptr) {
        first_dir[i] = &e;
      } else if (first_dir[i]->subtree != e.subtree) {
        level.split_[i] = 1;
      }
    }
  }
  return level;
}

std::optional<size_t> Level::Find(std::string_view name) const {
  auto it = std::lower_bound(names_.begin(), names_.end(), name);
  if (it == names_.end() || *it != name) return std::nullopt;
  return static_cast<size_t>(it - names_.begin());
}

bool Level::Agree(size_t i) const {
  // Every group holds the name (so the first holder is group 0) and no
  // entry differs from group 0's.
  return absent_.empty() && holders_[i] == groups_.size() && differ_[i] == 0;
}

const Entry& Level::First(size_t i) const {
  for (size_t g = 0; g < groups_.size(); ++g) {
    if (const Entry* e = At(i, g)) return *e;
  }
  // Every name comes from some tree: unreachable.
  return *At(i, 0);
}

std::vector<PathSide> Level::Sides(size_t i) const {
  std::map<std::string, PathSide> by_key;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const Entry* e = At(i, g);
    std::string key = e ? EntryKey(*e) : std::string();
    auto [it, fresh] = by_key.try_emplace(key);
    PathSide& side = it->second;
    if (fresh) {
      side.key = std::move(key);
      if (e) side.entry = *e;
    }
    side.hosts.insert(side.hosts.end(), groups_[g].hosts.begin(), groups_[g].hosts.end());
    if (e && e->type == EntryType::kDir) {
      side.subtrees.insert(side.subtrees.end(), groups_[g].hosts.size(), e->subtree);
      if (side.entry->subtree != e->subtree) side.entry->subtree = Hash128();
    }
  }
  if (!absent_.empty()) {
    PathSide& side = by_key[std::string()];
    side.hosts.insert(side.hosts.end(), absent_.begin(), absent_.end());
  }
  std::vector<PathSide> out;
  out.reserve(by_key.size());
  for (auto& [key, side] : by_key) {
    SortHosts(&side.hosts, &side.subtrees);
    out.push_back(std::move(side));
  }
  return out;
}

std::vector<TreeGroup> Level::Children(size_t i) const {
  std::map<Hash128, std::vector<uint32_t>> by_id;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const Entry* e = At(i, g);
    if (e == nullptr || e->type != EntryType::kDir) continue;
    auto& hosts = by_id[e->subtree];
    hosts.insert(hosts.end(), groups_[g].hosts.begin(), groups_[g].hosts.end());
  }
  std::vector<TreeGroup> out;
  out.reserve(by_id.size());
  for (auto& [id, hosts] : by_id) {
    std::sort(hosts.begin(), hosts.end());
    out.push_back({id, std::move(hosts)});
  }
  return out;
}

HostSpecificPaths::HostSpecificPaths(const std::vector<HostTree>& hosts) {
  for (const HostTree& h : hosts) {
    for (const std::string& p : h.host_specific) {
      // "/" would leave everything out; a trailing '/' names the same path.
      std::string_view v = p;
      while (v.size() > 1 && v.back() == '/') v.remove_suffix(1);
      if (!v.empty()) paths_.emplace(v);
    }
  }
}

bool HostSpecificPaths::Covers(std::string_view path) const {
  if (paths_.empty()) return false;
  if (paths_.count("/") > 0) return true;
  while (!path.empty()) {
    if (paths_.find(path) != paths_.end()) return true;
    const size_t slash = path.rfind('/');
    if (slash == std::string_view::npos || slash == 0) break;
    path = path.substr(0, slash);
  }
  return false;
}

bool HostSpecificPaths::AnyBeneath(std::string_view dir) const {
  if (dir.empty() || dir == "/") return !paths_.empty();
  std::string under(dir);
  under += '/';
  auto it = paths_.lower_bound(under);
  return it != paths_.end() && std::string_view(*it).substr(0, under.size()) == under;
}

Result<WalkStats> WalkDisagreements(TreeStore& store, const std::vector<Hash128>& roots,
                                    const WalkOptions& options, const DisagreementFn& visit) {
  WalkStats stats;
  if (Status s = CheckNormalPath(options.prefix); !s.ok()) {
    return Status::InvalidArgument("path '" + options.prefix + "': " + s.message());
  }
  const std::vector<std::string> comps = PathComponents(options.prefix);
  std::vector<TreeGroup> groups = GroupRoots(roots);
  std::string dir;  // "" for the root
  // Hosts that lost a component on the way down: they lack the prefix.
  std::vector<uint32_t> dropped;
  // Hosts that share one tree cannot disagree beneath it.
  auto settled = [&] { return groups.empty() || (groups.size() == 1 && dropped.empty()); };
  // Down to the prefix's directory, one object per distinct id at each
  // level.
  for (size_t c = 0; c + 1 < comps.size(); ++c) {
    if (settled()) return stats;
    stats.objects_loaded += static_cast<int64_t>(groups.size());
    std::vector<uint32_t> before;
    for (const TreeGroup& g : groups) before.insert(before.end(), g.hosts.begin(), g.hosts.end());
    DW_ASSIGN_OR_RETURN(Level level, Level::Load(store, std::move(groups), options.cache));
    std::optional<size_t> i = level.Find(comps[c]);
    groups = i ? level.Children(*i) : std::vector<TreeGroup>();
    std::set<uint32_t> kept;
    for (const TreeGroup& g : groups) kept.insert(g.hosts.begin(), g.hosts.end());
    for (uint32_t h : before) {
      if (kept.count(h) == 0) dropped.push_back(h);
    }
    dir = JoinPath(dir, comps[c]);
  }
  if (settled()) return stats;
  std::sort(dropped.begin(), dropped.end());

  struct Frame {
    Level level;
    std::string dir;
    size_t next = 0;
    size_t end = 0;
  };
  std::vector<Frame> stack;
  {
    stats.objects_loaded += static_cast<int64_t>(groups.size());
    DW_ASSIGN_OR_RETURN(Level level, Level::Load(store, std::move(groups), options.cache));
    level.SetAbsent(std::move(dropped));
    size_t begin = 0, end = level.size();
    if (!comps.empty()) {
      std::optional<size_t> i = level.Find(comps.back());
      if (!i) return stats;
      begin = *i;
      end = *i + 1;
    }
    stack.push_back(Frame{std::move(level), dir, begin, end});
  }
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next >= f.end) {
      stack.pop_back();
      continue;
    }
    const size_t i = f.next++;
    const bool agree = f.level.Agree(i);
    const bool descend = f.level.Splits(i);
    if (agree && !descend) continue;
    std::string path = JoinPath(f.dir, f.level.name(i));
    if (options.skip != nullptr && options.skip->Covers(path)) {
      ++stats.ignored;
      continue;
    }
    if (!agree && !visit(Disagreement{path, f.level.Sides(i)})) {
      stats.stopped = true;
      return stats;
    }
    if (descend) {
      std::vector<TreeGroup> children = f.level.Children(i);
      // `f` is not used past this point: the push may move it.
      stats.objects_loaded += static_cast<int64_t>(children.size());
      DW_ASSIGN_OR_RETURN(Level child, Level::Load(store, std::move(children), options.cache));
      const size_t n = child.size();
      stack.push_back(Frame{std::move(child), std::move(path), 0, n});
    }
  }
  return stats;
}

}  // namespace driftwatch::collector
