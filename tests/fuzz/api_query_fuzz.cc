// libFuzzer entry point: the api_query target (see tests/fuzz/targets.h).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return driftwatch::fuzz::RunOrAbort("api_query", &driftwatch::fuzz::FuzzApiQuery, data, size);
}
