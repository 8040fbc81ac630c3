// libFuzzer entry point: the proc_ids target (see tests/fuzz/targets.h).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return driftwatch::fuzz::RunOrAbort("proc_ids", &driftwatch::fuzz::FuzzProcIds, data, size);
}
