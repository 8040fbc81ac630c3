// Hand-made tree objects for tests of the fleet's trees at the collector:
// entries and directories serialized with core's SerializeTree and named by
// TreeHash, children made before their parents (the order agents upload).
#ifndef DRIFTWATCH_TESTS_TESTING_TREE_OBJECTS_H_
#define DRIFTWATCH_TESTS_TESTING_TREE_OBJECTS_H_

#include <algorithm>
#include <string>
#include <vector>

#include "collector/tree_store.h"
#include "core/entry.h"
#include "core/hash.h"

namespace driftwatch::testing {

// A regular file whose content digest is the XXH3-128 of `content`.
inline Entry FileEntry(const std::string& name, const std::string& content, uint32_t mode = 0644) {
  Entry e;
  e.name = name;
  e.type = EntryType::kFile;
  e.mask = kAttrType | kAttrPerm | kAttrSize | kAttrHash;
  e.mode = mode;
  e.size = content.size();
  e.content = Hasher::Of(HashAlgo::kXxh128, content);
  return e;
}

// A directory entry naming the object `subtree`.
inline Entry DirEntry(const std::string& name, const collector::TreeObject& subtree) {
  Entry e;
  e.name = name;
  e.type = EntryType::kDir;
  e.mask = kAttrType | kAttrPerm;
  e.mode = 0755;
  e.subtree = subtree.id;
  return e;
}

// The object of a directory holding `entries` (sorted here by name).
inline collector::TreeObject Dir(std::vector<Entry> entries) {
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.name < b.name; });
  Tree t{std::move(entries)};
  collector::TreeObject o;
  o.data = SerializeTree(t);
  o.id = TreeHash(o.data);
  return o;
}

}  // namespace driftwatch::testing

#endif  // DRIFTWATCH_TESTS_TESTING_TREE_OBJECTS_H_
