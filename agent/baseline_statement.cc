#include "agent/baseline_statement.h"

#include "core/base64.h"
#include "core/chain.h"

namespace driftwatch::agent {
namespace {

Result<int64_t> ToInt(const std::string& text, std::string_view what) {
  if (text.empty() || text.size() > 18) return Status::Corruption(std::string(what));
  int64_t n = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return Status::Corruption(std::string(what));
    n = n * 10 + (c - '0');
  }
  return n;
}

Result<StoredSignature> FromRecord(const chain::Record& r) {
  auto bad = [&](std::string_view why) {
    return Status::Corruption("chain record " + std::to_string(r.seq) +
                              " (baseline-signature): " + std::string(why));
  };
  auto body = chain::ParseBody(r.body);
  if (!body.ok()) return bad(body.status().message());
  StoredSignature s;
  s.seq = r.seq;
  s.time_ns = r.time_ns;
  for (const char* key : {"name", "revision", "root", "key", "signature", "statement"}) {
    if (!body->count(key)) return bad(std::string("no \"") + key + "\"");
  }
  s.name = body->at("name");
  auto rev = ToInt(body->at("revision"), "revision");
  if (!rev.ok()) return bad("bad revision");
  s.revision = *rev;
  s.root = body->at("root");
  s.key = body->at("key");
  s.signature = body->at("signature");
  s.statement = body->at("statement");
  return s;
}

// Chain records are read in pages so that memory stays bounded by the page.
constexpr size_t kPage = 512;

}  // namespace

std::string StoredSignature::SignedFile() const {
  return statement + "signature: ed25519 " + key + " " + signature + "\n";
}

Result<sign::Statement> StatementOf(Store& store, const std::string& name, int64_t revision) {
  DW_ASSIGN_OR_RETURN(auto rows, store.Baselines(name));
  if (rows.empty()) return Status::NotFound("no baseline named '" + name + "'");
  const BaselineRow* row = &rows.back();
  if (revision != 0) {
    row = nullptr;
    for (const BaselineRow& r : rows) {
      if (r.revision == revision) row = &r;
    }
    if (row == nullptr) {
      return Status::NotFound("baseline '" + name + "' has no revision " +
                              std::to_string(revision));
    }
  }
  DW_ASSIGN_OR_RETURN(SnapshotRow snap, store.GetSnapshot(row->snapshot_id));
  sign::Statement s;
  s.target = snap.target;
  s.baseline = row->name;
  s.revision = row->revision;
  s.root = snap.root.Hex();
  s.rules = snap.rules_hash;
  DW_RETURN_IF_ERROR(ValidateStatement(s).WithContext("baseline '" + name + "' revision " +
                                                      std::to_string(row->revision)));
  return s;
}

Result<std::vector<StoredSignature>> BaselineSignatures(Store& store) {
  std::vector<StoredSignature> out;
  int64_t after = 0;
  for (;;) {
    DW_ASSIGN_OR_RETURN(auto page, store.ChainRecords(after, kPage));
    for (const auto& [record, head] : page) {
      after = record.seq;
      if (record.kind != chain::kBaselineSignature) continue;
      DW_ASSIGN_OR_RETURN(StoredSignature s, FromRecord(record));
      out.push_back(std::move(s));
    }
    if (page.size() < kPage) break;
  }
  return out;
}

Result<StoredSignature> AttachSignature(Store& store, std::string_view signed_file,
                                        const std::vector<sign::PublicKey>& trusted,
                                        int64_t now_ns) {
  DW_ASSIGN_OR_RETURN(sign::SignedStatement parsed, sign::ParseSignedStatement(signed_file));
  const sign::Statement& claimed = parsed.statement;
  DW_ASSIGN_OR_RETURN(sign::Statement actual,
                      StatementOf(store, claimed.baseline, claimed.revision));
  DW_ASSIGN_OR_RETURN(sign::SignedStatement ok,
                      sign::VerifySignedFile(signed_file, trusted, actual));
  const std::string signature = Base64Encode(ok.signature);
  DW_ASSIGN_OR_RETURN(auto existing, BaselineSignatures(store));
  for (const StoredSignature& s : existing) {
    if (s.statement == ok.text && s.key == ok.key_id && s.signature == signature) return s;
  }
  const std::string body = chain::BodyBuilder()
                               .Str("name", actual.baseline)
                               .Int("revision", actual.revision)
                               .Str("root", actual.root)
                               .Str("key", ok.key_id)
                               .Str("signature", signature)
                               .Str("statement", ok.text)
                               .Build();
  DW_ASSIGN_OR_RETURN(chain::Record record,
                      store.AppendRecord(chain::kBaselineSignature, now_ns, body));
  return FromRecord(record);
}

Status RequireSignedBaseline(Store& store, const std::string& name,
                             const std::vector<sign::PublicKey>& trusted) {
  DW_ASSIGN_OR_RETURN(sign::Statement expected, StatementOf(store, name));
  DW_ASSIGN_OR_RETURN(auto stored, BaselineSignatures(store));
  std::string reasons;
  for (const StoredSignature& s : stored) {
    if (s.name != expected.baseline || s.revision != expected.revision) continue;
    auto verified = sign::VerifySignedFile(s.SignedFile(), trusted, expected);
    if (verified.ok()) return Status::Ok();
    reasons += "; the signature of chain record " + std::to_string(s.seq) +
               " is refused: " + verified.status().message();
  }
  if (trusted.empty())
    reasons += "; no key is trusted (trusted_keys is empty, no collector key pinned)";
  return Status::PermissionDenied(
      "baseline '" + name + "' revision " + std::to_string(expected.revision) + " of " +
      expected.target +
      " has no valid signature by a trusted key, and require_signed_baselines "
      "is on" +
      (reasons.empty() ? std::string("; no signature is attached") : reasons) +
      ". Sign it: driftwatch baseline statement --name " + name +
      " > statement; on the signing machine: driftwatch baseline sign --key KEY statement -o "
      "signed; here: driftwatch baseline attach signed");
}

Result<std::vector<sign::PublicKey>> LoadPublicKeys(Host& host,
                                                    const std::vector<std::string>& files) {
  std::vector<sign::PublicKey> out;
  for (const std::string& f : files) {
    DW_ASSIGN_OR_RETURN(std::string pem, host.ReadFile(f, sign::kMaxKeyFileBytes));
    auto key = sign::PublicKey::FromPem(pem);
    if (!key.ok()) return key.status().WithContext(f);
    out.push_back(std::move(key).value());
  }
  return out;
}

}  // namespace driftwatch::agent
