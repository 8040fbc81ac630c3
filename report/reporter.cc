#include "report/reporter.h"

#include <cpprest/json.h>

#include <algorithm>

#include "core/drift_json.h"
#include "core/host.h"

namespace driftwatch::report {

std::string StampReport(const std::string& body, const std::string& host_id, int64_t sent_ns) {
  std::string head = "{\"host_id\":" + web::json::value(host_id).serialize() + ",\"sent\":\"" +
                     FormatRfc3339Nanos(sent_ns) + "\"";
  // body is "{...}" as written by the outbox; keep its fields after ours.
  if (body.size() > 2) return head + "," + body.substr(1);
  return head + "}";
}

std::string DeliveryOutcome::Note() const {
  std::string note = "delivered " + std::to_string(sent) + " report(s)";
  if (shrunk) note += ", " + std::to_string(shrunk) + " shrunk to the collector's size limit";
  if (rejected) note += ", " + std::to_string(rejected) + " rejected by the collector";
  if (remaining) note += ", " + std::to_string(remaining) + " kept in the outbox";
  if (!error.ok()) note += " (" + error.message() + ")";
  for (const std::string& w : warnings) note += "; " + w;
  return note;
}

bool ReportDue(int64_t next_attempt_ns, int64_t now_ns, const DeliveryOptions& options) {
  // A next attempt further away than the longest backoff was scheduled
  // before the wall clock was set back: it is due now, or the queue would
  // stall for as long as the clock jumped.
  return !options.respect_backoff || next_attempt_ns <= now_ns ||
         next_attempt_ns - now_ns > options.max_backoff_ns;
}

int64_t ReportBackoffNs(int attempts, int64_t max_backoff_ns) {
  return std::min(max_backoff_ns, int64_t{1000000000} << std::min(attempts - 1, 30));
}

namespace {

// Moves chain_acked on as the collector's answer allows (outbox.h), and
// keeps what a person must hear of it.
Status NoteChainAnswer(Outbox& outbox, const ChainAnswer& chain, DeliveryOutcome* out) {
  DW_ASSIGN_OR_RETURN(std::string warning, outbox.AckChain(chain.held, chain.head));
  if (!warning.empty()) out->warnings.push_back(std::move(warning));
  if (chain.state == "alert") {
    out->warnings.push_back(
        "the collector raised an integrity alert on this host's chain (it holds " +
        std::to_string(chain.held) + " records, head " + chain.head +
        "); see driftwatch store verify and the collector's host page");
  }
  return Status::Ok();
}

}  // namespace

Result<DeliveryOutcome> DeliverOutbox(Host& host, Outbox& outbox, CollectorClient& client,
                                      const Enrollment& enrollment, const DeliveryOptions& options,
                                      int64_t now_ns) {
  DeliveryOutcome out;
  int handled = 0;
  bool again = true;
  // A shrink rewrites the head report (and may append parts): read the
  // queue again after one.
  while (again && handled < options.batch) {
    again = false;
    DW_ASSIGN_OR_RETURN(auto pending, outbox.Pending(options.batch - handled));
    for (const QueuedReport& q : pending) {
      if (!ReportDue(q.next_attempt_ns, now_ns, options)) {
        out.error =
            Status::Unavailable("backing off until " + FormatRfc3339Nanos(q.next_attempt_ns));
        break;
      }
      bool packages_needed = false;
      std::optional<ChainAnswer> chain;
      Status s = client.SendReport(StampReport(q.body, enrollment.host_id, host.NowNs()),
                                   &packages_needed, &chain);
      if (s.ok()) {
        DW_RETURN_IF_ERROR(outbox.Remove(q.seq));
        if (packages_needed) DW_RETURN_IF_ERROR(outbox.ForgetPackagesDigest());
        if (chain) DW_RETURN_IF_ERROR(NoteChainAnswer(outbox, *chain, &out));
        ++out.sent;
        ++handled;
        continue;
      }
      if (s.code() == StatusCode::kInvalidArgument) {
        DW_RETURN_IF_ERROR(outbox.MarkRejected(q.seq, s.message()));
        ++out.rejected;
        ++handled;
        continue;
      }
      if (s.code() == StatusCode::kResourceExhausted && out.shrunk < options.max_shrinks) {
        DW_ASSIGN_OR_RETURN(bool shrunk, outbox.Shrink(q.seq));
        if (shrunk) {
          ++out.shrunk;
          again = true;
          break;
        }
        s = Status::Unavailable(s.message() + " (the report cannot be made smaller)");
      }
      const int attempts = q.attempts + 1;
      const int64_t backoff = ReportBackoffNs(attempts, options.max_backoff_ns);
      DW_RETURN_IF_ERROR(outbox.RecordFailure(q.seq, attempts, now_ns + backoff, s.message()));
      out.error = s;
      break;
    }
  }
  DW_ASSIGN_OR_RETURN(out.remaining, outbox.PendingCount());
  return out;
}

Result<std::string> QueueAndDeliver(Host& host, const std::string& db_path,
                                    const CheckResult& result, std::string* delivery_note,
                                    bool* delivered) {
  DW_ASSIGN_OR_RETURN(auto outbox, Outbox::Open(db_path));
  DW_ASSIGN_OR_RETURN(std::string id, outbox->Enqueue(result, host.NowNs()));
  std::string note;
  bool all_taken = false;
  auto enrollment = outbox->LoadEnrollment();
  if (!enrollment.ok()) {
    note = "report kept in the outbox: " + enrollment.status().message();
  } else if (!enrollment->has_value()) {
    note = "not enrolled with a collector (run driftwatch enroll); report kept in the outbox";
  } else {
    const Enrollment& e = **enrollment;
    CollectorClient client(e.collector, e.token, e.ca_file);
    auto outcome = DeliverOutbox(host, *outbox, client, e, DeliveryOptions{}, host.NowNs());
    note = outcome.ok() ? outcome->Note() : "delivery failed: " + outcome.status().message();
    all_taken = outcome.ok() && outcome->error.ok() && outcome->remaining == 0;
  }
  if (delivery_note != nullptr) *delivery_note = note;
  if (delivered != nullptr) *delivered = all_taken;
  return id;
}

}  // namespace driftwatch::report
