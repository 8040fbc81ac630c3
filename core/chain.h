// Hash chains: the tamper-evident history of an agent store and of the
// collector's per-host events (docs/integrity.md).
//
// A chain is a sequence of records, numbered from 1. Each record has a kind,
// a time and a body, a canonical JSON object (BodyBuilder) that travels and
// is hashed as the exact bytes stored. The chain's head after record n is
//   head(n) = SHA-256(head(n-1) || RecordHash(record n)),  head(0) = 32 zero bytes
// and RecordHash covers the record's number, kind, time and body, so a
// record cannot be moved, retyped, redated or edited without changing every
// head after it. Hashes travel and are stored as 64 lowercase hex digits.
#ifndef DRIFTWATCH_CORE_CHAIN_H_
#define DRIFTWATCH_CORE_CHAIN_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace driftwatch::chain {

// The head of an empty chain: 64 zeros.
const std::string& GenesisHead();

struct Record {
  int64_t seq = 0;   // 1-based position in the chain
  std::string kind;  // the kinds below; unknown kinds are kept and hashed as they are
  int64_t time_ns = 0;
  std::string body;  // canonical JSON object, hashed byte for byte
  friend bool operator==(const Record&, const Record&) = default;
};

// The kinds driftwatch writes (docs/integrity.md lists their bodies).
inline constexpr std::string_view kAgentStart = "agent-start";
inline constexpr std::string_view kConfig = "config";
inline constexpr std::string_view kRules = "rules";
inline constexpr std::string_view kEnroll = "enroll";
inline constexpr std::string_view kBaseline = "baseline";
inline constexpr std::string_view kAccept = "accept";
inline constexpr std::string_view kCheck = "check";
inline constexpr std::string_view kRestore = "restore";
inline constexpr std::string_view kBaselineSignature = "baseline-signature";

// SHA-256 (hex) of "driftwatch-chain-1\n<seq>\n<kind>\n<time_ns>\n<body>".
std::string RecordHash(const Record& r);
// SHA-256 (hex) of the 32 bytes of prev_head followed by the 32 bytes of
// record_hash; both must be 64 hex digits (else the result is "").
std::string NextHead(std::string_view prev_head, std::string_view record_hash);
// SHA-256 (hex) of arbitrary bytes, for the digests record bodies carry.
std::string Sha256Hex(std::string_view bytes);

// Where a sequence of records stops fitting: recomputes heads from
// `start_head` (the head before records[0]) and returns the index of the
// first record whose seq is not the previous one + 1 or whose recomputed
// head differs from `expected_heads[i]` (when expected_heads is not empty);
// records.size() when all fit. `heads_out`, when not null, receives the
// recomputed head after each record.
size_t FirstMismatch(std::string_view start_head, int64_t start_seq,
                     const std::vector<Record>& records,
                     const std::vector<std::string>& expected_heads,
                     std::vector<std::string>* heads_out = nullptr);

// Builds a canonical JSON object: keys sorted bytewise, no whitespace,
// strings escaped as JSON requires (control bytes as \u00XX, '"' and '\\'
// escaped, everything else, including bytes that are not UTF-8, as is:
// paths go in escaped with EscapePath first). Keys set twice keep the last.
class BodyBuilder {
 public:
  BodyBuilder& Str(std::string_view key, std::string_view value);
  BodyBuilder& Int(std::string_view key, int64_t value);
  BodyBuilder& Bool(std::string_view key, bool value);
  BodyBuilder& StrList(std::string_view key, const std::vector<std::string>& values);
  std::string Build() const;

 private:
  std::map<std::string, std::string, std::less<>> fields_;  // key -> encoded value
};

// What a report carries for the collector's escrow (docs/wire.md,
// "Integrity"): the store's records after the length the agent last saw the
// collector hold, at most kMaxReportRecords of them.
inline constexpr size_t kMaxReportRecords = 1000;
inline constexpr size_t kMaxBodyBytes = 16 << 10;
struct ReportChain {
  int64_t from = 0;             // the length the agent last saw the collector hold
  int64_t length = 0;           // seq of the last record carried (from when none)
  std::string head;             // the head after record `length` (64 hex)
  std::vector<Record> records;  // seq from+1 .. length, in order
  friend bool operator==(const ReportChain&, const ReportChain&) = default;
};

// SHA-256 digests (64 hex, "" when unknown) of the running agent's
// executable, its rule file and its configuration file, and its version.
struct SelfDigests {
  std::string exe;
  std::string rules;
  std::string config;
  std::string version;
  friend bool operator==(const SelfDigests&, const SelfDigests&) = default;
};

// Parses a body written by BodyBuilder (or any flat JSON object of strings,
// integers, booleans and string arrays) into key -> value as text: strings
// unescaped, integers and booleans as written, arrays joined with '\n'.
// kInvalidArgument for anything else.
Result<std::map<std::string, std::string>> ParseBody(std::string_view body);

}  // namespace driftwatch::chain

#endif  // DRIFTWATCH_CORE_CHAIN_H_
