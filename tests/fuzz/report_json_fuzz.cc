// libFuzzer entry point: the report_json target (see tests/fuzz/targets.h).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return driftwatch::fuzz::RunOrAbort("report_json", &driftwatch::fuzz::FuzzReportJson, data, size);
}
