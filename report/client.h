// CollectorClient: the agent's side of the collector API (docs/api.md):
// enroll, send one report, poll commands, acknowledge a command, and the
// host's tree (docs/wire.md "Trees": offer, upload, set, fetch, and the
// group's baseline).
//
// Every request is one bounded exchange (http_exchange.h): one deadline for
// the whole of it (timeout_ms) and answers of at most kMaxAnswerBytes.
//
// Errors: a collector that cannot be reached, misses the deadline, answers
// too much, answers 5xx or 429 is kUnavailable (retry later); 401/403 are
// kPermissionDenied. For a report (docs/wire.md "Agent side"): 413 is
// kResourceExhausted (shrink it and send again); only 400 or 422 with
// {"error": "invalid_report"} is kInvalidArgument (the collector validated
// it and will never take it); any other 4xx is kUnavailable. For the other
// calls any other 4xx is kInvalidArgument. The collector's {"detail"} text
// is part of the message.
//
// Thread-safety: one client per thread.
#ifndef DRIFTWATCH_REPORT_CLIENT_H_
#define DRIFTWATCH_REPORT_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/hash.h"
#include "core/status.h"

namespace driftwatch::report {

// The error code with which a collector refuses a report it validated
// (docs/api.md); the one refusal the agent treats as final.
inline constexpr const char* kInvalidReportError = "invalid_report";
// The largest answer body the agent reads from a collector.
inline constexpr size_t kMaxAnswerBytes = size_t{1} << 20;

struct EnrollAnswer {
  std::string host_id;
  std::string token;
  std::string group;
  std::string signing_key;  // the collector's public key (PEM); "" when it has none
};

struct AgentCommand {
  int64_t id = 0;
  std::string kind;                // "baseline", "check-now", "accept" or "restore"
  std::vector<std::string> paths;  // accept: the exact paths; restore: paths or globs
  // restore (docs/api.md "Restore"): every drifted path, also remove added
  // paths, only say what would be done, and why.
  bool all = false;
  bool remove_added = false;
  bool dry_run = false;
  std::string reason;
  std::string signature;  // "ed25519 KEYID BASE64" over sign::CommandText; "" when unsigned
};

// What the collector holds of this host's chain after a report
// (docs/wire.md, "Integrity"): `held` records ending in `head`; `state` is
// "ok", "adopted", "resend" or "alert".
struct ChainAnswer {
  int64_t held = 0;
  std::string head;
  std::string state;
};

struct BaselineAck {
  std::string name;
  int64_t revision = 0;
  int64_t created_ns = 0;
  Hash128 root;
  std::string target;  // the snapshot's target and rules fingerprint, so that the
  std::string rules;   // collector can sign the revision's statement
};

// One tree object (SerializeTree bytes, core/entry.h) and its id.
struct TreeObjectData {
  Hash128 id;
  std::string data;
};

// The answer to an upload of tree objects: how many were new and how many
// the collector held already; or, when it refused them (409), the subtrees
// it lacks (`missing`, then stored and held are 0).
struct TreeUploadAnswer {
  int64_t stored = 0;
  int64_t held = 0;
  std::vector<Hash128> missing;
};

// The answer to a fetch of tree objects: those sent, those the collector
// does not hold, and those left for the next call (its answer's size cap).
struct TreeFetchAnswer {
  std::vector<TreeObjectData> objects;
  std::vector<Hash128> missing;
  std::vector<Hash128> more;
};

// The baseline of the caller's group (GET /api/v1/agents/group-baseline).
struct GroupBaselineInfo {
  std::string group;
  int64_t revision = 0;
  Hash128 root;
  std::string source;  // "host:ID" or "majority"
  std::string by;
  std::string why;
  int64_t created_ns = 0;
};

// Limits of the tree endpoints (docs/wire.md "Trees").
inline constexpr size_t kMaxOfferIds = 10000;
inline constexpr size_t kMaxUploadObjects = 4096;
inline constexpr size_t kMaxFetchIds = 1000;
inline constexpr size_t kMaxHostSpecificPaths = 4096;

class CollectorClient {
 public:
  // url: "http://HOST:PORT" or "https://...", or several comma-separated
  // collectors sharing one store: a request that cannot connect or gets a
  // 5xx moves on to the next one (and later requests stay there); only when
  // every collector failed is the call kUnavailable. ca_file verifies https peers
  // ("" = the system store). timeout_ms bounds each request as a whole.
  CollectorClient(std::string url, std::string token, std::string ca_file = "",
                  int timeout_ms = 10000);
  ~CollectorClient();
  CollectorClient(const CollectorClient&) = delete;
  CollectorClient& operator=(const CollectorClient&) = delete;

  Result<EnrollAnswer> Enroll(const std::string& host, const std::string& group);
  // Sends one report body (the JSON text). Ok means acknowledged (stored now
  // or earlier: a duplicate is also an acknowledgement). *packages_needed
  // (may be null) is set when the collector asks for the full package list
  // because it does not hold the one the report's digest names. *chain
  // (may be null) receives the answer's "chain" (nullopt when absent or
  // unreadable: the report is acknowledged all the same).
  Status SendReport(const std::string& body, bool* packages_needed = nullptr,
                    std::optional<ChainAnswer>* chain = nullptr);
  Result<std::vector<AgentCommand>> PollCommands();
  // GET /healthz (no token): ok when the collector answers 200.
  Status Healthz();
  // *baseline_signature (may be null) receives the signed statement the
  // collector answers for a revision it signed ("" when none).
  Status Ack(int64_t command_id, bool ok, const std::string& detail,
             const std::optional<BaselineAck>& baseline, std::string* baseline_signature = nullptr);

  // The tree endpoints. Each adds the size of the request body it sent to
  // *sent_bytes (may be null), whatever the answer.
  // The offered ids (1..kMaxOfferIds) the collector lacks, in offered order.
  Result<std::vector<Hash128>> OfferTrees(const std::vector<Hash128>& ids, int64_t* sent_bytes);
  // Uploads 1..kMaxUploadObjects objects, children before parents. A 409
  // missing_objects is an answer (TreeUploadAnswer::missing), not an error;
  // 400 (bad_object) is kInvalidArgument.
  Result<TreeUploadAnswer> UploadTrees(const std::vector<TreeObjectData>& objects,
                                       int64_t* sent_bytes);
  // Sets the host's tree: its root and host-specific raw paths (at most
  // kMaxHostSpecificPaths). Empty: set; else the objects the collector
  // lacks (409: the root is not held).
  Result<std::vector<Hash128>> SetHostTree(const Hash128& root,
                                           const std::vector<std::string>& host_specific,
                                           int64_t* sent_bytes);
  // nullopt when the caller's group has no baseline (404 no_group_baseline).
  Result<std::optional<GroupBaselineInfo>> GetGroupBaseline();
  // 1..kMaxFetchIds ids. Answers up to 4 MiB of object data at once; each
  // object is checked against its id (kCorruption otherwise).
  Result<TreeFetchAnswer> FetchTrees(const std::vector<Hash128>& ids);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace driftwatch::report

#endif  // DRIFTWATCH_REPORT_CLIENT_H_
