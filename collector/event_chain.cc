// The collector's own event chain (event_chain.h).
#include "collector/event_chain.h"

#include "collector/event_body.h"

namespace driftwatch::collector {

chain::Record EventChainRecord(int64_t seq, int64_t detected_ns, std::string_view report_id,
                               std::string_view event_json, std::string_view diff) {
  return {seq, "event", detected_ns,
          chain::BodyBuilder()
              .Str("report", report_id)
              .Str("event", event_json)
              .Str("diff", diff.empty() ? std::string() : chain::Sha256Hex(diff))
              .Build()};
}

EventChainVerifier::EventChainVerifier(std::string host_id, EventChainHead want,
                                       std::optional<ExportedHead> exported)
    : host_(std::move(host_id)),
      want_(std::move(want)),
      exported_(std::move(exported)),
      seq_(want_.anchor_seq),
      head_(want_.anchor_head) {
  CheckExported(seq_, head_);
  if (exported_ && exported_->length < want_.anchor_seq) {
    out_.push_back({host_, 0, exported_->length,
                    "the exported head at seq " + std::to_string(exported_->length) +
                        " is before the anchor (seq " + std::to_string(want_.anchor_seq) +
                        ", moved by pruning): it cannot be checked"});
  }
}

void EventChainVerifier::CheckExported(int64_t at, const std::string& got) {
  if (!exported_ || exported_->length != at || got == exported_->head) return;
  out_.push_back({host_, 0, at,
                  "the event chain's head at seq " + std::to_string(at) + " is " + got +
                      ", the exported copy says " + exported_->head});
}

void EventChainVerifier::Add(const StoredChainEvent& e) {
  const std::string id = std::to_string(e.id);
  if (e.seq != seq_ + 1) {
    out_.push_back({host_, e.id, e.seq,
                    "event " + id + " has chain seq " + std::to_string(e.seq) + ", after seq " +
                        std::to_string(seq_) + ": " +
                        (e.seq <= seq_ ? "a seq given twice" : "events were deleted")});
  } else {
    const std::string got = chain::NextHead(
        head_, chain::RecordHash(EventChainRecord(e.seq, e.detected_ns, e.report_id,
                                                  StoredEventJson(e.body), e.diff)));
    if (got != e.head) {
      out_.push_back({host_, e.id, e.seq,
                      "event " + id + " (chain seq " + std::to_string(e.seq) +
                          ") does not fit: stored head " + e.head + ", recomputed " + got +
                          ": the row was changed"});
    }
    CheckExported(e.seq, got);
  }
  // Go on from the stored head, so that one edit is one finding.
  seq_ = e.seq;
  head_ = e.head;
}

std::vector<EventChainFinding> EventChainVerifier::Finish() {
  if (seq_ != want_.length || head_ != want_.head) {
    out_.push_back({host_, 0, seq_,
                    "the host's event chain says length " + std::to_string(want_.length) +
                        " head " + want_.head + "; its events end at seq " + std::to_string(seq_) +
                        " head " + head_ + (seq_ < want_.length ? ": events were deleted" : "")});
  }
  if (exported_ && exported_->length > seq_) {
    out_.push_back({host_, 0, exported_->length,
                    "the exported head is at seq " + std::to_string(exported_->length) +
                        ", past the stored chain's end (seq " + std::to_string(seq_) +
                        "): events were removed"});
  }
  return std::move(out_);
}

}  // namespace driftwatch::collector
