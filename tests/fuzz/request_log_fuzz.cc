// libFuzzer entry point: the request_log target (see tests/fuzz/targets.h).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return driftwatch::fuzz::RunOrAbort("request_log", &driftwatch::fuzz::FuzzRequestLog, data, size);
}
