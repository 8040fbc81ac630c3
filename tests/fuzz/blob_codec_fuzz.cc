// libFuzzer entry point: the blob_codec target (see tests/fuzz/targets.h).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return driftwatch::fuzz::RunOrAbort("blob_codec", &driftwatch::fuzz::FuzzBlobCodec, data, size);
}
