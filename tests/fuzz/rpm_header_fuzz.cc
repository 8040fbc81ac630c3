// libFuzzer entry point: the rpm_header target (see tests/fuzz/targets.h).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return driftwatch::fuzz::RunOrAbort("rpm_header", &driftwatch::fuzz::FuzzRpmHeader, data, size);
}
