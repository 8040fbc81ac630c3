// WalkTree: a whole tree as one flat listing, for tests that compare what
// driftwatch reports with what is on disk (tests/container/).
//
// Every object under root_fd as absolute path -> entry (masked with
// DiffMask, content hashed). Directories on another filesystem than the
// root (mount points) are listed but not entered; paths under `excluded`
// are left out. The root itself is not listed. Iterative; symlinks are never
// followed (container/layer_fs.h, OpenBeneath).
//
// Thread-safety: a free function, safe to call concurrently.
#ifndef DRIFTWATCH_TESTS_TESTING_WALK_TREE_H_
#define DRIFTWATCH_TESTS_TESTING_WALK_TREE_H_

#include <map>
#include <string>
#include <vector>

#include "core/entry.h"
#include "core/status.h"

namespace driftwatch::testutil {

Result<std::map<std::string, Entry>> WalkTree(int root_fd,
                                              const std::vector<std::string>& excluded);

}  // namespace driftwatch::testutil

#endif  // DRIFTWATCH_TESTS_TESTING_WALK_TREE_H_
