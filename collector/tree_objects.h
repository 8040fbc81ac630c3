// Tree objects at the collector (tree_store.h; docs/collector.md "Fleet
// trees"): the checks every backend and the API share, and the mark phase
// of the stores' garbage collection.
//
// Everything here is bounded by its input: no recursion on tree depth (the
// mark walks with an explicit queue and a visited set, so a cycle or a
// shared subtree costs one visit).
//
// Thread-safety: pure functions; MarkTrees calls `load` from its caller's
// thread only.
#ifndef DRIFTWATCH_COLLECTOR_TREE_OBJECTS_H_
#define DRIFTWATCH_COLLECTOR_TREE_OBJECTS_H_

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "collector/tree_store.h"
#include "core/hash.h"
#include "core/status.h"

namespace driftwatch::collector {

struct Hash128Hasher {
  size_t operator()(const Hash128& h) const noexcept {
    return static_cast<size_t>(h.low ^ (h.high * 0x9e3779b97f4a7c15ULL));
  }
};
using Hash128Set = std::unordered_set<Hash128, Hash128Hasher>;

// A tree id as the wire and the stores write it: exactly 32 lowercase hex
// digits (kInvalidArgument otherwise).
Result<Hash128> ParseTreeId(std::string_view hex);

// The child objects a serialized tree names: the non-zero `subtree` of each
// directory entry (a directory the agent did not descend has none), in entry
// order. kInvalidArgument when the bytes are not a tree (ParseTree).
Result<std::vector<Hash128>> TreeChildren(std::string_view data);

// The children of `objects` that come neither earlier in `objects` nor
// among the ids `held` says are held, each once, in the order first named.
// `held` answers for a list of ids (TreeStore::HasTrees). An empty answer
// means the objects close (tree_store.h "Closure"). kInvalidArgument when an
// object does not parse.
using HeldFn = std::function<Result<std::vector<bool>>(const std::vector<Hash128>&)>;
Result<std::vector<Hash128>> MissingChildren(const std::vector<TreeObject>& objects,
                                             const HeldFn& held);

// Every object reachable from `roots` (roots included), loading objects in
// batches of at most `batch` ids with `load` (TreeStore::GetTrees: nullopt
// for an object not held, which is left out and not descended). Objects that
// do not parse are kept (reached) but not descended: GC never removes what
// it cannot read past.
using LoadFn =
    std::function<Result<std::vector<std::optional<std::string>>>(const std::vector<Hash128>&)>;
Result<Hash128Set> MarkTrees(const std::vector<Hash128>& roots, const LoadFn& load,
                             size_t batch = 512);

// A host's `host_specific` paths as both stores keep them: a JSON array of
// escaped paths (EscapePath), and back (kCorruption when it is not one).
std::string HostSpecificToText(const std::vector<std::string>& paths);
Result<std::vector<std::string>> HostSpecificFromText(const std::string& text);

// The stores' refusal of a write that names objects they do not hold:
// kFailedPrecondition "missing_objects: ..." naming the first eight.
Status MissingObjectsError(const std::vector<Hash128>& missing);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_TREE_OBJECTS_H_
