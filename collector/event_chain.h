// The collector's own per-host event chain (docs/integrity.md "At the
// collector"): every stored event is a record of its host's chain, so that
// an edit of the store is found by recomputing it (`driftwatch-collector
// verify`), and a copy of the heads exported earlier (GET
// /hosts/{host}/chain) shows a rewrite that recomputed every head.
//
// Pure; thread-compatible.
#ifndef DRIFTWATCH_COLLECTOR_EVENT_CHAIN_H_
#define DRIFTWATCH_COLLECTOR_EVENT_CHAIN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/chain.h"

namespace driftwatch::collector {

// The record of a stored event: kind "event", the detection time, and a
// body naming the report, the event's wire JSON and the SHA-256 of its
// diff ("" when none).
chain::Record EventChainRecord(int64_t seq, int64_t detected_ns, std::string_view report_id,
                               std::string_view event_json, std::string_view diff);

// A host's event chain as its store row says: chained from the anchor
// (the latest pruned event; seq 0 and the genesis head before any pruning).
struct EventChainHead {
  int64_t length = 0;
  std::string head = chain::GenesisHead();
  int64_t anchor_seq = 0;
  std::string anchor_head = chain::GenesisHead();
};

// A host's event chain head as GET /hosts/{host}/chain exported it.
struct ExportedHead {
  int64_t length = 0;
  std::string head;
};

// A place where a stored event chain does not fit.
struct EventChainFinding {
  std::string host_id;
  int64_t event_id = 0;  // 0 when the finding is about the host's head
  int64_t seq = 0;
  std::string detail;
};

// One stored event as the verifier reads it.
struct StoredChainEvent {
  int64_t id = 0;
  int64_t seq = 0;
  int64_t detected_ns = 0;
  std::string report_id;
  std::string body;  // as stored: plain or packed (event_body.h)
  std::string diff;
  std::string head;  // as stored
};

// Walks one host's events with seq > the anchor, in seq order, and says
// where they do not fit: a seq out of order (events deleted), a stored
// head that the row does not give (the row edited), a host head or length
// the events do not end in, and a head differing from the exported one.
class EventChainVerifier {
 public:
  EventChainVerifier(std::string host_id, EventChainHead want,
                     std::optional<ExportedHead> exported);
  void Add(const StoredChainEvent& e);
  // The findings; call once, after the last Add.
  std::vector<EventChainFinding> Finish();

 private:
  void CheckExported(int64_t at, const std::string& got);

  std::string host_;
  EventChainHead want_;
  std::optional<ExportedHead> exported_;
  int64_t seq_;
  std::string head_;
  std::vector<EventChainFinding> out_;
};

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_EVENT_CHAIN_H_
