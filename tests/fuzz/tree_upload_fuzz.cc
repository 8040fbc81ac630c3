// libFuzzer entry point: the tree_upload target (see tests/fuzz/targets.h).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return driftwatch::fuzz::RunOrAbort("tree_upload", &driftwatch::fuzz::FuzzTreeUpload, data, size);
}
