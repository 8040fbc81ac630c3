// The compiled seccomp programs of a state dir (docs/containers.md,
// "Seccomp"): <state>/seccomp/<key>.bpf.
//
// Compiling the default filter with libseccomp (its rule database, then the
// BPF generation for three ABIs) cost 2-5 ms of CPU on every start and
// exec; the program only changes with the rules and libseccomp. So the
// program is kept, named by the XXH3-128 of everything it is made from (a
// format tag, driftwatch's version, libseccomp's version, every rule with
// its argument test and errno), and read back by the next start with the
// same settings. A file carries the program and the XXH3-128 of the
// program; a file that is missing, unreadable or does not match is rebuilt
// and replaced (written atomically, mode 0600, in a 0700 directory of the
// state dir, which only root can change).
//
// Errors: those of building the filter (seccomp_filter.h); a cache that
// cannot be read or written only costs the compile.
// Thread-safety: reentrant; concurrent starts write the same bytes.
#ifndef DRIFTWATCH_CONTAINER_SECCOMP_CACHE_H_
#define DRIFTWATCH_CONTAINER_SECCOMP_CACHE_H_

#include <string>
#include <vector>

#include "container/seccomp_filter.h"
#include "container/state.h"

namespace driftwatch::container {

// The cache file's name for these rules ("<32 hex digits>.bpf"). Pure.
std::string SeccompCacheName(const std::vector<SeccompRule>& rules);

// ContainerSeccomp() through the state dir's cache.
Result<SeccompFilter> CachedContainerSeccomp(const StateDir& state, const std::string& mode,
                                             const std::vector<std::string>& allowed);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_SECCOMP_CACHE_H_
