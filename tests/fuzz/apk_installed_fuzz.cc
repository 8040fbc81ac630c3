// libFuzzer entry point: the apk_installed target (see tests/fuzz/targets.h).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return driftwatch::fuzz::RunOrAbort("apk_installed", &driftwatch::fuzz::FuzzApkInstalled, data,
                                      size);
}
