// libFuzzer entry point: the dpkg_list target (see tests/fuzz/targets.h).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return driftwatch::fuzz::RunOrAbort("dpkg_list", &driftwatch::fuzz::FuzzDpkgList, data, size);
}
