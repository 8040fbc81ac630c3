// What the end-to-end tests of the driftwatch binary take from their
// environment (tests/e2e/meson.build sets it).
#ifndef DRIFTWATCH_TESTS_E2E_E2E_ENV_H_
#define DRIFTWATCH_TESTS_E2E_E2E_ENV_H_

#include <cstdlib>
#include <string>

namespace driftwatch::e2e {

// The driftwatch executable: $DRIFTWATCH_BIN, else the one on $PATH.
inline std::string Bin() {
  const char* b = std::getenv("DRIFTWATCH_BIN");
  return b ? b : "driftwatch";
}

// tests/e2e/rules.yaml of the source tree ($DRIFTWATCH_SOURCE_DIR).
inline std::string Rules() {
  const char* s = std::getenv("DRIFTWATCH_SOURCE_DIR");
  return std::string(s ? s : ".") + "/tests/e2e/rules.yaml";
}

}  // namespace driftwatch::e2e

#endif  // DRIFTWATCH_TESTS_E2E_E2E_ENV_H_
