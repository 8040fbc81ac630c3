// Fuzz target of signed baseline statements (core/signed_statement.h).
#include "core/base64.h"
#include "core/sign.h"
#include "core/signed_statement.h"
#include "tests/fuzz/targets.h"

namespace driftwatch::fuzz {

// A signed file parses only in its one canonical form: whatever parses is
// written back byte for byte. Base64 likewise has one encoding per value.
std::string FuzzSignedStatement(std::string_view input) {
  auto s = sign::ParseStatement(input);
  if (s.ok() && sign::FormatStatement(*s) != input)
    return "a statement parsed but is not canonical";
  auto f = sign::ParseSignedStatement(input);
  if (f.ok()) {
    if (sign::FormatStatement(f->statement) != f->text) return "the statement is not canonical";
    const std::string again =
        f->text + "signature: ed25519 " + f->key_id + " " + Base64Encode(f->signature) + "\n";
    if (again != input) return "a signed file parsed but is not written back the same";
  }
  auto b = Base64Decode(input);
  if (b.ok() && Base64Encode(*b) != input) return "base64 decoded a non-canonical text";
  return "";
}

}  // namespace driftwatch::fuzz
