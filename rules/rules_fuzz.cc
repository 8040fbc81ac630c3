// libFuzzer entry point for the rule parser: any bytes must yield a Policy or
// a Status, never a crash, a hang or unbounded memory. Includes are refused.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "rules/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace driftwatch;  // NOLINT: fuzz entry point only
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<rules::Policy> p = rules::ParsePolicy(
      text, "fuzz.yaml",
      [](const std::string&) -> Result<std::string> { return Status::NotFound("no includes"); });
  if (p.ok()) {
    // Exercise the matcher on a few paths derived from the rules.
    for (const rules::Rule& r : p->rules()) {
      (void)p->Match(r.glob);
      (void)p->CouldMatchBelow(r.glob);
      (void)p->Content(r.glob);
    }
    (void)p->Match("/etc/passwd");
    (void)p->Content("/etc/passwd");
    (void)p->ContentFingerprint();
    (void)p->Roots();
    (void)p->Fingerprint();
  }
  return 0;
}
