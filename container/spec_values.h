// The values a container is specified with, parsed from the command line
// and from records: volumes, byte sizes, names and user-namespace id ranges.
// Pure functions; errors are kInvalidArgument saying what was expected.
//
// Thread-safety: reentrant.
#ifndef DRIFTWATCH_CONTAINER_SPEC_VALUES_H_
#define DRIFTWATCH_CONTAINER_SPEC_VALUES_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace driftwatch::container {

struct VolumeSpec {
  std::string source;       // host path (absolute, not a symlink)
  std::string destination;  // absolute, clean path inside the container
  bool read_only = false;
  friend bool operator==(const VolumeSpec&, const VolumeSpec&) = default;
};

// "SRC:DST[:ro|:rw]". Both absolute; DST without "." or ".." components.
Result<VolumeSpec> ParseVolume(std::string_view text);
// "256M", "1G", "512k", "1048576" (binary units). 0 and overflow refused.
Result<uint64_t> ParseByteSize(std::string_view text);
// Names of containers, images and services: [A-Za-z0-9][A-Za-z0-9_.-]{0,63}.
Status ValidateName(std::string_view kind, std::string_view name);

// A range of host ids a user namespace maps container ids 0..count-1 onto
// (host, host+1, ... host+count-1). count 0: no user namespace.
struct IdRange {
  uint32_t host = 0;
  uint32_t count = 0;
  bool enabled() const { return count != 0; }
  friend bool operator==(const IdRange&, const IdRange&) = default;
};

}  // namespace driftwatch::container

#endif  // DRIFTWATCH_CONTAINER_SPEC_VALUES_H_
