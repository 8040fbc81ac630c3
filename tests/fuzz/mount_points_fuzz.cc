// libFuzzer entry point: the mount_points target (see tests/fuzz/targets.h).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return driftwatch::fuzz::RunOrAbort("mount_points", &driftwatch::fuzz::FuzzMountPoints, data,
                                      size);
}
