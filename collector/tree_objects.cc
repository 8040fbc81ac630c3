// Checks on tree objects and the GC mark (tree_objects.h).
#include "collector/tree_objects.h"

#include <cpprest/json.h>

#include <deque>

#include "core/drift.h"
#include "core/entry.h"

namespace driftwatch::collector {

Result<Hash128> ParseTreeId(std::string_view hex) {
  const Status bad = Status::InvalidArgument("tree id: expected 32 lowercase hex digits");
  if (hex.size() != 32) return bad;
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return bad;
  }
  auto id = Hash128::FromHex(hex);
  if (!id.ok()) return bad;
  return *id;
}

Result<std::vector<Hash128>> TreeChildren(std::string_view data) {
  auto tree = ParseTree(data);
  if (!tree.ok()) return Status::InvalidArgument("not a tree object: " + tree.status().message());
  std::vector<Hash128> out;
  for (const Entry& e : tree->entries) {
    if (e.type == EntryType::kDir && !e.subtree.IsZero()) out.push_back(e.subtree);
  }
  return out;
}

Result<std::vector<Hash128>> MissingChildren(const std::vector<TreeObject>& objects,
                                             const HeldFn& held) {
  Hash128Set earlier;
  Hash128Set asked;
  std::vector<Hash128> candidates;
  for (const TreeObject& o : objects) {
    DW_ASSIGN_OR_RETURN(std::vector<Hash128> children, TreeChildren(o.data));
    for (const Hash128& c : children) {
      if (earlier.count(c) != 0 || !asked.insert(c).second) continue;
      candidates.push_back(c);
    }
    earlier.insert(o.id);
  }
  std::vector<Hash128> missing;
  if (candidates.empty()) return missing;
  DW_ASSIGN_OR_RETURN(std::vector<bool> has, held(candidates));
  if (has.size() != candidates.size()) return Status::Internal("HasTrees answered a wrong count");
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (!has[i]) missing.push_back(candidates[i]);
  }
  return missing;
}

Result<Hash128Set> MarkTrees(const std::vector<Hash128>& roots, const LoadFn& load, size_t batch) {
  if (batch == 0) batch = 1;
  Hash128Set seen;
  std::deque<Hash128> queue;
  for (const Hash128& r : roots) {
    if (!r.IsZero() && seen.insert(r).second) queue.push_back(r);
  }
  Hash128Set reached;
  std::vector<Hash128> ids;
  while (!queue.empty()) {
    ids.clear();
    while (!queue.empty() && ids.size() < batch) {
      ids.push_back(queue.front());
      queue.pop_front();
    }
    DW_ASSIGN_OR_RETURN(auto data, load(ids));
    if (data.size() != ids.size()) return Status::Internal("GetTrees answered a wrong count");
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!data[i]) continue;  // not held: nothing to keep
      reached.insert(ids[i]);
      auto children = TreeChildren(*data[i]);
      if (!children.ok()) continue;
      for (const Hash128& c : *children) {
        if (seen.insert(c).second) queue.push_back(c);
      }
    }
  }
  return reached;
}

std::string HostSpecificToText(const std::vector<std::string>& paths) {
  web::json::value a = web::json::value::array(paths.size());
  for (size_t i = 0; i < paths.size(); ++i) a[i] = web::json::value(EscapePath(paths[i]));
  return a.serialize();
}

Result<std::vector<std::string>> HostSpecificFromText(const std::string& text) {
  std::vector<std::string> out;
  try {
    web::json::value a = web::json::value::parse(text);
    for (const web::json::value& v : a.as_array()) {
      DW_ASSIGN_OR_RETURN(std::string raw, UnescapePath(v.as_string()));
      out.push_back(std::move(raw));
    }
  } catch (const web::json::json_exception& e) {
    return Status::Corruption(std::string("host_trees.host_specific: ") + e.what());
  }
  return out;
}

Status MissingObjectsError(const std::vector<Hash128>& missing) {
  std::string ids;
  for (size_t i = 0; i < missing.size() && i < 8; ++i) ids += (i ? ", " : "") + missing[i].Hex();
  if (missing.size() > 8) ids += ", ...";
  return Status::FailedPrecondition("missing_objects: the store does not hold " + ids);
}

}  // namespace driftwatch::collector
