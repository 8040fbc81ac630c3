// Signed baselines in the agent store (docs/integrity.md, "Signed
// baselines").
//
// A baseline revision's statement (core/signed_statement.h) names its
// target, baseline, revision, snapshot root and rules fingerprint, all read
// from the store. A signature of it is kept as a `baseline-signature` record
// of the store's chain (never in a table of its own), so that it is as hard
// to forge or remove as the rest of the history, and so that the collector
// escrows it with the chain.
//
// With `require_signed_baselines` a check refuses a baseline revision that
// no trusted key signed: RequireSignedBaseline says why.
//
// Thread-safety: functions on one Store, which serializes.
#ifndef DRIFTWATCH_AGENT_BASELINE_STATEMENT_H_
#define DRIFTWATCH_AGENT_BASELINE_STATEMENT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/store.h"
#include "core/sign.h"
#include "core/signed_statement.h"

namespace driftwatch::agent {

// The statement of revision `revision` of baseline `name` (0: its latest).
// kNotFound when there is no such baseline or revision.
Result<sign::Statement> StatementOf(Store& store, const std::string& name, int64_t revision = 0);

// A `baseline-signature` record of the chain.
struct StoredSignature {
  int64_t seq = 0;
  int64_t time_ns = 0;
  std::string name;
  int64_t revision = 0;
  std::string root;
  std::string key;        // key id
  std::string signature;  // base64
  std::string statement;  // the statement's text
  // The signed file again: statement + signature line.
  std::string SignedFile() const;
};

// Every baseline-signature record, oldest first. A record whose body does
// not parse is kCorruption naming its seq.
Result<std::vector<StoredSignature>> BaselineSignatures(Store& store);

// Verifies `signed_file` (a signature by one of `trusted`, about a revision
// this store holds, for exactly its target, root and rules) and appends it
// to the chain. kPermissionDenied / kInvalidArgument say why it was refused;
// nothing is stored then. A signature already attached is not stored twice
// (its existing record is returned).
Result<StoredSignature> AttachSignature(Store& store, std::string_view signed_file,
                                        const std::vector<sign::PublicKey>& trusted,
                                        int64_t now_ns);

// Ok when the latest revision of baseline `name` has a stored signature by
// one of `trusted` for exactly its statement. kPermissionDenied otherwise,
// naming the revision, the reason (no signature, or why each stored one was
// refused) and how to sign it; kNotFound when there is no such baseline.
Status RequireSignedBaseline(Store& store, const std::string& name,
                             const std::vector<sign::PublicKey>& trusted);

// Reads PEM public key files through `host` (each at most
// sign::kMaxKeyFileBytes); an unreadable or malformed one is an error that
// names the file.
Result<std::vector<sign::PublicKey>> LoadPublicKeys(Host& host,
                                                    const std::vector<std::string>& files);

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_BASELINE_STATEMENT_H_
