// libFuzzer entry point: the upper_diff target (see tests/fuzz/targets.h).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return driftwatch::fuzz::RunOrAbort("upper_diff", &driftwatch::fuzz::FuzzUpperDiff, data, size);
}
