// Defaults of check and accept from what the baseline recorded (check.h).
#include <fcntl.h>

#include "agent/check.h"
#include "agent/store.h"
#include "agent/store_file.h"

namespace driftwatch::agent {

Status ApplyBaselineDefaults(CheckOptions* options, bool root_given, bool rules_given) {
  if (root_given && rules_given) return Status::Ok();
  if (options->host == nullptr) return Status::InvalidArgument("check: no host given");
  Host& host = *options->host;
  const std::string db = options->db_path.empty() ? DefaultDbPath() : options->db_path;
  Status there = CheckStoreFile(host, db);
  if (there.code() == StatusCode::kNotFound) return Status::Ok();  // nothing recorded yet
  DW_RETURN_IF_ERROR(there);
  DW_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(host, db));
  DW_ASSIGN_OR_RETURN(std::optional<BaselineRow> row, store->LatestBaseline(options->baseline));
  if (!row) return Status::Ok();
  DW_ASSIGN_OR_RETURN(SnapshotRow snap, store->GetSnapshot(row->snapshot_id));
  if (!root_given && !snap.root_path.empty()) options->root = snap.root_path;
  if (!rules_given && !snap.rules_path.empty()) {
    struct stat st;
    Status s = host.StatAt(AT_FDCWD, snap.rules_path, &st);
    if (s.code() == StatusCode::kNotFound) {
      return Status::NotFound("the rule file " + snap.rules_path + " recorded with baseline '" +
                              row->name + "' rev " + std::to_string(row->revision) +
                              " is gone; pass --rules FILE to check with another");
    }
    options->rules_path = snap.rules_path;
  }
  return Status::Ok();
}

}  // namespace driftwatch::agent
