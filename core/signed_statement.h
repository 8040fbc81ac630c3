// Baseline statements and their signed files (docs/integrity.md, "Signed
// baselines").
//
// A statement names one baseline revision of one target in canonical text,
// and is signed as those exact bytes:
//
//   driftwatch baseline statement 1
//   target: <hostname or container:id>
//   baseline: <name>
//   revision: <n>
//   root: <32 hex>
//   rules: <rules fingerprint hex>
//
// A signed statement file is the statement followed by one line
//   signature: ed25519 <key id> <base64 of the 64-byte signature>
//
// Parsing is strict: exactly these lines in this order, each ending in
// '\n', lowercase hex, a revision without leading zeros, nothing after the
// signature line. A file with any byte changed is therefore either refused
// by the parser or fails verification; each refusal says why.
//
// Thread-safety: pure functions.
#ifndef DRIFTWATCH_CORE_SIGNED_STATEMENT_H_
#define DRIFTWATCH_CORE_SIGNED_STATEMENT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/sign.h"
#include "core/status.h"

namespace driftwatch::sign {

inline constexpr std::string_view kStatementHeader = "driftwatch baseline statement 1";
// Larger files are refused before parsing.
inline constexpr size_t kMaxSignedStatementBytes = 8 << 10;

struct Statement {
  std::string target;    // hostname, or "container:<id>"
  std::string baseline;  // the baseline's name
  int64_t revision = 0;  // >= 1
  std::string root;      // the snapshot's Merkle root, 32 lowercase hex
  std::string rules;     // the rules fingerprint, lowercase hex
  friend bool operator==(const Statement&, const Statement&) = default;
};

// kInvalidArgument naming the field when `s` cannot be written as a
// statement (an empty field, a control byte, a bad hex or revision).
Status ValidateStatement(const Statement& s);
// The canonical text; `s` must be valid.
std::string FormatStatement(const Statement& s);
// The inverse of FormatStatement; refuses every other text.
Result<Statement> ParseStatement(std::string_view text);

struct SignedStatement {
  Statement statement;
  std::string text;       // the statement's exact bytes, what was signed
  std::string key_id;     // 16 hex
  std::string signature;  // 64 raw bytes
};

// The signed file of `statement_text` (a canonical statement) by `key`.
Result<std::string> SignStatement(const PrivateKey& key, std::string_view statement_text);
// Splits and checks the form of a signed file; does not verify the signature.
Result<SignedStatement> ParseSignedStatement(std::string_view file);
// Ok when the signature is valid under the trusted key whose id it names;
// kPermissionDenied "signed by unknown key ID" or "signature by key ID does
// not verify" otherwise.
Status VerifySignedStatement(const SignedStatement& signed_statement,
                             const std::vector<PublicKey>& trusted);
// ParseSignedStatement, VerifySignedStatement, then that the statement is
// about exactly `expected` (every field); each failure says which.
Result<SignedStatement> VerifySignedFile(std::string_view file,
                                         const std::vector<PublicKey>& trusted,
                                         const Statement& expected);

// Commands the collector hands out are signed over a canonical text
// (docs/api.md, "Commands"): "driftwatch command 1\n" then the canonical
// JSON object (chain::BodyBuilder) of the fields below as they travel (paths
// escaped as on the wire), then "\n". The host is in it so that a command
// for one host cannot be replayed to another.
struct CommandFields {
  int64_t id = 0;
  std::string host;
  std::string kind;
  std::vector<std::string> paths;  // as on the wire (EscapePath'd)
  bool all = false;
  bool remove_added = false;
  bool dry_run = false;
  std::string reason;
};
std::string CommandText(const CommandFields& c);
// The "signature" field of a command: "ed25519 <key id> <base64>".
Result<std::string> SignCommand(const PrivateKey& key, const CommandFields& c);
// Ok when `signature` (the field's text) is `key`'s over CommandText(c);
// kPermissionDenied saying why not (missing, malformed, another key, does
// not verify).
Status VerifyCommand(const PublicKey& key, const CommandFields& c, std::string_view signature);

}  // namespace driftwatch::sign

#endif  // DRIFTWATCH_CORE_SIGNED_STATEMENT_H_
