// The seccomp filter every container process runs under: the init, the
// command and every `exec` (docs/containers.md, "Seccomp").
//
// The policy is a deny list on top of the capability bounding set: system
// calls that reach kernel state shared with the host (keyrings, namespaces,
// mounts, file handles, BPF, perf, userfaultfd, kexec, modules, terminal
// input injection, host-wide administration) fail with EPERM (clone3 with
// ENOSYS, so that libc falls back to clone, whose flags the filter can see).
// Everything else is allowed. Rules come in named groups; an operator relaxes
// a container with `--seccomp-allow GROUP` (repeatable) or turns the filter
// off with `--seccomp unconfined`. The filter covers x86-64, and the i386 and
// x32 ABIs with the same rules.
//
// SeccompRules() is pure (the table the docs list and the tests walk);
// SeccompFilter compiles rules with libseccomp into a BPF program and loads
// it. A filter is built once in the launcher (or read from the state dir's
// cache, seccomp_cache.h) and loaded in each child (fork keeps it).
//
// Errors: kInvalidArgument for an unknown group (naming the known ones);
// kIoError from libseccomp with the step named.
// Thread-safety: SeccompRules is reentrant; a SeccompFilter belongs to one
// thread; Load() affects the calling thread only (no TSYNC), so call it in
// the single-threaded child before it execs.
#ifndef DRIFTWATCH_CONTAINER_SECCOMP_FILTER_H_
#define DRIFTWATCH_CONTAINER_SECCOMP_FILTER_H_

#include <linux/filter.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace driftwatch::container {

struct SeccompRule {
  std::string_view group;    // what --seccomp-allow names
  std::string_view syscall;  // libseccomp's name
  // When arg >= 0 the rule applies only if (argument[arg] & mask) == value;
  // -1: always.
  int arg = -1;
  uint64_t mask = 0;
  uint64_t value = 0;
  std::string_view arg_text;  // "CLONE_NEWUSER", "TIOCSTI" (docs, messages)
  int err = 0;                // errno returned instead of running the call
};

struct SeccompGroup {
  std::string_view name;
  std::string_view what;  // one line for docs and --help
};

// Every group, in the order the docs list them.
const std::vector<SeccompGroup>& SeccompGroups();

// Every rule, minus those of the `allowed` groups. Unknown group names are
// refused.
Result<std::vector<SeccompRule>> SeccompRules(const std::vector<std::string>& allowed);

// A compiled filter.
class SeccompFilter {
 public:
  // An empty filter: Load() does nothing (`--seccomp unconfined`).
  SeccompFilter();
  ~SeccompFilter();
  SeccompFilter(SeccompFilter&&) noexcept;
  SeccompFilter& operator=(SeccompFilter&&) noexcept;

  // Compiles the rules with libseccomp into the BPF program the kernel runs.
  static Result<SeccompFilter> Build(const std::vector<SeccompRule>& rules);
  // A program Build() made before (program()); kCorruption when the bytes
  // cannot be a BPF program (empty, not whole instructions, too long).
  static Result<SeccompFilter> FromProgram(std::string_view program);
  // The BPF instructions as bytes, "" for the empty filter.
  std::string_view program() const;
  // Sets no_new_privs and installs the program in the calling thread (the
  // seccomp system call; no libseccomp work left for the child).
  Status Load() const;
  bool empty() const { return program_.empty(); }

 private:
  std::vector<struct sock_filter> program_;
};

// Checks the settings without building anything (pure): mode "default" or
// "unconfined", known groups, and no groups with "unconfined".
Status ValidateSeccomp(const std::string& mode, const std::vector<std::string>& allowed);

// The filter a container with these settings runs under: mode "default"
// (the rules minus `allowed`) or "unconfined" (none).
Result<SeccompFilter> ContainerSeccomp(const std::string& mode,
                                       const std::vector<std::string>& allowed);

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_SECCOMP_FILTER_H_
