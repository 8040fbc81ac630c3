// libFuzzer entry point: the docker_config target (see tests/fuzz/targets.h).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return driftwatch::fuzz::RunOrAbort("docker_config", &driftwatch::fuzz::FuzzDockerConfig, data,
                                      size);
}
