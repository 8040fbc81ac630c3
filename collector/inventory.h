// Pure helpers shared by the fleet stores for host inventories
// (docs/collector.md): the JSON text of command paths, why a command cannot
// take an acknowledgement, and the fleet image view built from container rows.
//
// Thread-safety: pure functions.
#ifndef DRIFTWATCH_COLLECTOR_INVENTORY_H_
#define DRIFTWATCH_COLLECTOR_INVENTORY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collector/store.h"

namespace driftwatch::collector {

// A command's raw paths as stored: a JSON array of escaped paths.
std::string PathsToJson(const std::vector<std::string>& paths);
// The inverse; text that is not such an array gives no paths.
std::vector<std::string> PathsFromJson(const std::string& text);
// A restore command's options as stored (the commands' `args` column):
// {"all", "remove_added", "dry_run", "reason"}; "{}" for other kinds.
std::string RestoreArgsToJson(const CommandRecord& c);
// Sets those fields of *c from the stored text (unreadable text sets none).
void RestoreArgsFromJson(const std::string& text, CommandRecord* c);

// Why an ack of command `command_id` by `host_id` was refused, given the
// stored row (nullopt when there is no such command of that host):
// kNotFound for no row, kFailedPrecondition for a command not handed out
// yet (handed_out_ns == 0) or acknowledged already (acked_ns != 0).
struct CommandState {
  int64_t handed_out_ns = 0;
  int64_t acked_ns = 0;
};
Status AckRefusal(const std::string& host_id, int64_t command_id,
                  const std::optional<CommandState>& row);

// One container row of a host's latest inventory.
struct ImageRow {
  std::string image;
  std::string digest;
  std::string host_id;
  int64_t events = 0;
  std::string runtime;
  std::string image_id;
  std::string image_tree;
};
// Groups rows by (image, digest): distinct hosts, runtimes, image ids and
// image trees, containers, and how many containers have drift events.
// Sorted by image, then digest (bytewise).
std::vector<ImageUsage> AggregateImages(const std::vector<ImageRow>& rows);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_INVENTORY_H_
