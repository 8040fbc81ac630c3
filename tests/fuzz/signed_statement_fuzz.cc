// libFuzzer entry point: the signed_statement target (see tests/fuzz/targets.h).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return driftwatch::fuzz::RunOrAbort("signed_statement", &driftwatch::fuzz::FuzzSignedStatement,
                                      data, size);
}
