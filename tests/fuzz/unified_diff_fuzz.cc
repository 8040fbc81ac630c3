// libFuzzer entry point: the unified_diff target (see tests/fuzz/targets.h).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return driftwatch::fuzz::RunOrAbort("unified_diff", &driftwatch::fuzz::FuzzUnifiedDiff, data,
                                      size);
}
