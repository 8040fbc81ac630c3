// The fuzz targets of driftwatch's parsers of untrusted input, as plain
// functions so that the libFuzzer entry points (tests/fuzz/*_fuzz.cc) and the
// regression test (tests/fuzz/regressions_test.cc) run exactly the same code.
//
// Each target feeds arbitrary bytes to one pure parser and then checks the
// properties that must hold for every input: the parser returns a value or a
// Status (never crashes, hangs or allocates without bound), and where an
// encoder exists, decoding what it wrote gives the same value back. A target
// returns "" when every property held, else a description of the first one
// that failed (the fuzz entry point turns that into an abort).
//
// Thread-safety: pure functions.
#ifndef DRIFTWATCH_TESTS_FUZZ_TARGETS_H_
#define DRIFTWATCH_TESTS_FUZZ_TARGETS_H_

#include <string>
#include <string_view>
#include <vector>

namespace driftwatch::fuzz {

using TargetFn = std::string (*)(std::string_view input);

struct Target {
  const char* name;  // directory name under tests/fuzz/corpus and regressions
  TargetFn run;
};

std::string FuzzRules(std::string_view input);         // rules::ParsePolicy
std::string FuzzDpkgStatus(std::string_view input);    // ParseDpkgStatus
std::string FuzzDpkgMd5sums(std::string_view input);   // ParseDpkgMd5sums
std::string FuzzDpkgList(std::string_view input);      // ParseDpkgList, ParseDpkgDiversions
std::string FuzzApkInstalled(std::string_view input);  // ParseApkInstalled, ParseApkChecksum
std::string FuzzRpmHeader(std::string_view input);     // ParseRpmHeader
std::string FuzzPackagesBlob(std::string_view input);  // ParsePackages round trip
std::string FuzzMountInfo(std::string_view input);     // ParseMountInfo, OverlayLayersOf
std::string FuzzCgroup(std::string_view input);        // ParseProcCgroup, IdentifyContainer
std::string FuzzProcIds(std::string_view input);       // ProcStatField, userns id ranges
std::string FuzzReportJson(std::string_view input);    // JsonDepthWithin, CheckResultFromJson
std::string FuzzTree(std::string_view input);          // ParseTree round trip
std::string FuzzPathEscape(std::string_view input);    // EscapePath / UnescapePath
std::string FuzzBolt(std::string_view input);          // bolt::BoltDb::Open, every bucket walked
std::string FuzzDockerConfig(
    std::string_view input);                          // ParseDockerConfig, HostConfig, Repositories
std::string FuzzStorageJson(std::string_view input);  // containers/images/layers.json, libpod JSON
// tests/fuzz/service_targets.cc (FuzzAgentConfig also runs ParseEnrollFile):
std::string FuzzAgentConfig(std::string_view input);  // ParseDaemonConfig, ParseCollectorConfig
std::string FuzzApiQuery(std::string_view input);     // collector Api::Handle, GET + query string
std::string FuzzUpperDiff(std::string_view input);    // DiffUpperLayer over generated layers
// tests/fuzz/log_targets.cc:
std::string FuzzRequestLog(std::string_view input);  // RouteTemplate, FormatLogLine of a path
// tests/fuzz/realtime_targets.cc:
std::string FuzzProcessInfo(std::string_view input);  // ParseProcStat, ParseProcStatus, ...
std::string FuzzMountPoints(std::string_view input);  // ParseMountPoints, MountChangeGap
// tests/fuzz/content_targets.cc:
std::string FuzzUnifiedDiff(std::string_view input);  // UnifiedDiff applies, within its cap
std::string FuzzBlobCodec(std::string_view input);    // DecompressBlob within its cap
// tests/fuzz/signing_targets.cc:
std::string FuzzSignedStatement(std::string_view input);  // ParseSignedStatement, Base64Decode
// tests/fuzz/tree_targets.cc:
std::string FuzzTreeUpload(
    std::string_view input);  // Api POST /trees/objects and the trees' bodies

// Every target above, in a fixed order.
std::vector<Target> AllTargets();

// Runs `fn` on the fuzzer's bytes and aborts with a message when a
// property failed. Used by every LLVMFuzzerTestOneInput.
int RunOrAbort(const char* name, TargetFn fn, const unsigned char* data, size_t size);

}  // namespace driftwatch::fuzz

#endif  // DRIFTWATCH_TESTS_FUZZ_TARGETS_H_
