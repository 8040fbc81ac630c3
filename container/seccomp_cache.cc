#include "container/seccomp_cache.h"

#include <seccomp.h>

#include "core/hash.h"

namespace driftwatch::container {
namespace {

constexpr char kFormat[] = "driftwatch seccomp program 1";
constexpr size_t kDigestBytes = 16;
// BPF_MAXINSNS instructions of 8 bytes, plus the digest.
constexpr size_t kMaxFileBytes = 4096 * 8 + kDigestBytes;

std::string CacheDir(const StateDir& state) { return state.root() + "/seccomp"; }

}  // namespace

std::string SeccompCacheName(const std::vector<SeccompRule>& rules) {
  std::string key = kFormat;
  key += '\n';
  key += DRIFTWATCH_VERSION;
  const struct scmp_version* v = seccomp_version();
  if (v != nullptr) {
    key += "\nlibseccomp " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
           std::to_string(v->micro);
  }
  for (const SeccompRule& r : rules) {
    key += "\n" + std::string(r.group) + " " + std::string(r.syscall) + " " +
           std::to_string(r.arg) + " " + std::to_string(r.mask) + " " + std::to_string(r.value) +
           " " + std::to_string(r.err);
  }
  return HashBytes(key).Hex() + ".bpf";
}

Result<SeccompFilter> CachedContainerSeccomp(const StateDir& state, const std::string& mode,
                                             const std::vector<std::string>& allowed) {
  DW_RETURN_IF_ERROR(ValidateSeccomp(mode, allowed));
  if (mode == "unconfined") return SeccompFilter();
  DW_ASSIGN_OR_RETURN(std::vector<SeccompRule> rules, SeccompRules(allowed));
  const std::string path = CacheDir(state) + "/" + SeccompCacheName(rules);
  auto kept = ReadSmallFile(state.host(), path, kMaxFileBytes);
  if (kept.ok() && kept->size() > kDigestBytes) {
    std::string_view bytes(*kept);
    std::string_view program = bytes.substr(0, bytes.size() - kDigestBytes);
    if (HashBytes(program).Bytes() == bytes.substr(program.size())) {
      auto filter = SeccompFilter::FromProgram(program);
      if (filter.ok()) return filter;
    }
  }
  DW_ASSIGN_OR_RETURN(SeccompFilter built, SeccompFilter::Build(rules));
  // Best effort: without the cache the next start compiles again.
  if (MakeDirs(state.host(), CacheDir(state), 0700).ok()) {
    std::string file(built.program());
    file += HashBytes(built.program()).Bytes();
    state.host().WriteFileAtomic(path, file, 0600).IgnoreError();
  }
  return built;
}

}  // namespace driftwatch::container
