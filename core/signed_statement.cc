#include "core/signed_statement.h"

#include <array>

#include "core/base64.h"
#include "core/chain.h"

namespace driftwatch::sign {
namespace {

bool IsLowerHex(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// A value on a line of its own: not empty, no control bytes (a newline
// would let a name forge the next line), no leading or trailing space.
Status CheckText(std::string_view field, std::string_view v) {
  if (v.empty()) return Status::InvalidArgument("statement: empty " + std::string(field));
  for (const char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      return Status::InvalidArgument("statement: " + std::string(field) +
                                     " contains a control character");
    }
  }
  if (v.front() == ' ' || v.back() == ' ') {
    return Status::InvalidArgument("statement: " + std::string(field) +
                                   " starts or ends with a space");
  }
  return Status::Ok();
}

Result<int64_t> ParseRevision(std::string_view v) {
  if (v.empty() || v.size() > 18 || v[0] == '0') {
    return Status::InvalidArgument("statement: revision \"" + std::string(v) +
                                   "\" is not a positive number without leading zeros");
  }
  int64_t n = 0;
  for (const char c : v) {
    if (c < '0' || c > '9') {
      return Status::InvalidArgument("statement: revision \"" + std::string(v) +
                                     "\" is not a number");
    }
    n = n * 10 + (c - '0');
  }
  return n;
}

// Cuts "<prefix><value>\n" off the front of `rest`.
Result<std::string_view> TakeLine(std::string_view& rest, std::string_view prefix, int line) {
  const size_t nl = rest.find('\n');
  if (nl == std::string_view::npos) {
    return Status::InvalidArgument("line " + std::to_string(line) +
                                   ": missing (or not ended by a newline); expected \"" +
                                   std::string(prefix) + "...\"");
  }
  const std::string_view text = rest.substr(0, nl);
  if (text.substr(0, prefix.size()) != prefix) {
    return Status::InvalidArgument("line " + std::to_string(line) + ": expected \"" +
                                   std::string(prefix) + "...\"");
  }
  rest.remove_prefix(nl + 1);
  return text.substr(prefix.size());
}

}  // namespace

Status ValidateStatement(const Statement& s) {
  DW_RETURN_IF_ERROR(CheckText("target", s.target));
  DW_RETURN_IF_ERROR(CheckText("baseline", s.baseline));
  if (s.revision < 1) return Status::InvalidArgument("statement: revision must be >= 1");
  if (s.root.size() != 32 || !IsLowerHex(s.root)) {
    return Status::InvalidArgument("statement: root \"" + s.root +
                                   "\" is not 32 lowercase hex digits");
  }
  if (s.rules.size() > 128 || !IsLowerHex(s.rules)) {
    return Status::InvalidArgument("statement: rules \"" + s.rules +
                                   "\" is not a lowercase hex fingerprint");
  }
  return Status::Ok();
}

std::string FormatStatement(const Statement& s) {
  std::string out(kStatementHeader);
  out += "\ntarget: " + s.target;
  out += "\nbaseline: " + s.baseline;
  out += "\nrevision: " + std::to_string(s.revision);
  out += "\nroot: " + s.root;
  out += "\nrules: " + s.rules;
  out += '\n';
  return out;
}

Result<Statement> ParseStatement(std::string_view text) {
  std::string_view rest = text;
  Statement s;
  auto fail = [](const Status& st) { return st.WithContext("statement"); };
  auto header = TakeLine(rest, kStatementHeader, 1);
  if (!header.ok()) return fail(header.status());
  if (!header->empty()) {
    return Status::InvalidArgument("statement: line 1: expected exactly \"" +
                                   std::string(kStatementHeader) +
                                   "\" (an unknown statement version?)");
  }
  auto target = TakeLine(rest, "target: ", 2);
  if (!target.ok()) return fail(target.status());
  auto baseline = TakeLine(rest, "baseline: ", 3);
  if (!baseline.ok()) return fail(baseline.status());
  auto revision = TakeLine(rest, "revision: ", 4);
  if (!revision.ok()) return fail(revision.status());
  auto root = TakeLine(rest, "root: ", 5);
  if (!root.ok()) return fail(root.status());
  auto rules = TakeLine(rest, "rules: ", 6);
  if (!rules.ok()) return fail(rules.status());
  if (!rest.empty()) return Status::InvalidArgument("statement: unexpected bytes after line 6");
  s.target = std::string(*target);
  s.baseline = std::string(*baseline);
  DW_ASSIGN_OR_RETURN(s.revision, ParseRevision(*revision));
  s.root = std::string(*root);
  s.rules = std::string(*rules);
  DW_RETURN_IF_ERROR(ValidateStatement(s));
  return s;
}

Result<std::string> SignStatement(const PrivateKey& key, std::string_view statement_text) {
  DW_RETURN_IF_ERROR(ParseStatement(statement_text).status());
  DW_ASSIGN_OR_RETURN(std::string sig, key.Sign(statement_text));
  std::string out(statement_text);
  out += "signature: ed25519 " + key.Public().Id() + " " + Base64Encode(sig) + "\n";
  return out;
}

Result<SignedStatement> ParseSignedStatement(std::string_view file) {
  if (file.size() > kMaxSignedStatementBytes) {
    return Status::InvalidArgument("signed statement: larger than " +
                                   std::to_string(kMaxSignedStatementBytes) + " bytes");
  }
  // The statement is the first six lines; the signature line follows.
  size_t end = 0;
  for (int i = 0; i < 6; ++i) {
    const size_t nl = file.find('\n', end);
    if (nl == std::string_view::npos) {
      return Status::InvalidArgument("signed statement: ends after " + std::to_string(i) +
                                     " lines; a statement has 6, then the signature line");
    }
    end = nl + 1;
  }
  SignedStatement out;
  out.text = std::string(file.substr(0, end));
  auto statement = ParseStatement(out.text);
  if (!statement.ok()) return statement.status().WithContext("signed statement");
  out.statement = std::move(statement).value();

  std::string_view rest = file.substr(end);
  auto line = TakeLine(rest, "signature: ed25519 ", 7);
  if (!line.ok()) return line.status().WithContext("signed statement");
  if (!rest.empty()) {
    return Status::InvalidArgument("signed statement: unexpected bytes after the signature line");
  }
  const size_t space = line->find(' ');
  if (space == std::string_view::npos) {
    return Status::InvalidArgument(
        "signed statement: line 7: expected \"signature: ed25519 "
        "<key id> <base64>\"");
  }
  out.key_id = std::string(line->substr(0, space));
  if (out.key_id.size() != 16 || !IsLowerHex(out.key_id)) {
    return Status::InvalidArgument("signed statement: line 7: key id \"" + out.key_id +
                                   "\" is not 16 lowercase hex digits");
  }
  auto sig = Base64Decode(line->substr(space + 1));
  if (!sig.ok()) return sig.status().WithContext("signed statement: line 7: signature");
  if (sig->size() != kSignatureBytes) {
    return Status::InvalidArgument("signed statement: line 7: the signature is " +
                                   std::to_string(sig->size()) + " bytes, not 64");
  }
  out.signature = std::move(sig).value();
  return out;
}

Status VerifySignedStatement(const SignedStatement& s, const std::vector<PublicKey>& trusted) {
  for (const PublicKey& key : trusted) {
    if (key.Id() != s.key_id) continue;
    if (key.Verify(s.text, s.signature)) return Status::Ok();
    return Status::PermissionDenied("the signature by key " + s.key_id +
                                    " does not verify: the statement or the signature was "
                                    "changed after signing");
  }
  return Status::PermissionDenied("signed by key " + s.key_id + ", which is not trusted");
}

Result<SignedStatement> VerifySignedFile(std::string_view file,
                                         const std::vector<PublicKey>& trusted,
                                         const Statement& expected) {
  DW_ASSIGN_OR_RETURN(SignedStatement s, ParseSignedStatement(file));
  DW_RETURN_IF_ERROR(VerifySignedStatement(s, trusted));
  const Statement& got = s.statement;
  auto differs = [](std::string_view field, const std::string& signed_value,
                    const std::string& actual) {
    return Status::PermissionDenied("the signed statement is about " + std::string(field) + " " +
                                    signed_value + ", not " + actual);
  };
  if (got.target != expected.target) return differs("target", got.target, expected.target);
  if (got.baseline != expected.baseline) {
    return differs("baseline", got.baseline, expected.baseline);
  }
  if (got.revision != expected.revision) {
    return differs("revision", std::to_string(got.revision), std::to_string(expected.revision));
  }
  if (got.root != expected.root) return differs("root", got.root, expected.root);
  if (got.rules != expected.rules) return differs("rules", got.rules, expected.rules);
  return s;
}

std::string CommandText(const CommandFields& c) {
  return "driftwatch command 1\n" +
         chain::BodyBuilder()
             .Int("id", c.id)
             .Str("host", c.host)
             .Str("command", c.kind)
             .StrList("paths", c.paths)
             .Bool("all", c.all)
             .Bool("remove_added", c.remove_added)
             .Bool("dry_run", c.dry_run)
             .Str("reason", c.reason)
             .Build() +
         "\n";
}

Result<std::string> SignCommand(const PrivateKey& key, const CommandFields& c) {
  DW_ASSIGN_OR_RETURN(std::string sig, key.Sign(CommandText(c)));
  return "ed25519 " + key.Public().Id() + " " + Base64Encode(sig);
}

Status VerifyCommand(const PublicKey& key, const CommandFields& c, std::string_view signature) {
  if (signature.empty()) {
    return Status::PermissionDenied("the command is not signed, and a collector key is pinned");
  }
  constexpr std::string_view kPrefix = "ed25519 ";
  const size_t space = signature.find(' ', kPrefix.size());
  if (signature.substr(0, kPrefix.size()) != kPrefix || space == std::string_view::npos) {
    return Status::PermissionDenied("the command's signature is malformed");
  }
  const std::string_view id = signature.substr(kPrefix.size(), space - kPrefix.size());
  if (id != key.Id()) {
    return Status::PermissionDenied("the command is signed by key " + std::string(id) +
                                    ", not by the pinned collector key " + key.Id());
  }
  auto sig = Base64Decode(signature.substr(space + 1));
  if (!sig.ok() || !key.Verify(CommandText(c), *sig)) {
    return Status::PermissionDenied("the command's signature by key " + key.Id() +
                                    " does not verify");
  }
  return Status::Ok();
}

}  // namespace driftwatch::sign
