// The integrity fields of a report, "chain" and "self" (docs/wire.md,
// "Integrity"); part of the CheckResult codec (core/drift_json.h).
#ifndef DRIFTWATCH_CORE_CHAIN_JSON_H_
#define DRIFTWATCH_CORE_CHAIN_JSON_H_

#include <cpprest/json.h>

#include "core/drift.h"
#include "core/status.h"

namespace driftwatch {

// Adds "chain" and "self" to the report object `o` when r has them.
void ChainToJson(const CheckResult& r, web::json::value& o);
// Reads them from `v` into r (each optional): a chain's records must be
// numbered from+1 .. length, at most chain::kMaxReportRecords, each body at
// most chain::kMaxBodyBytes; digests are 64 lowercase hex digits or "".
Status ChainFromJson(const web::json::value& v, CheckResult* r);

}  // namespace driftwatch

#endif  // DRIFTWATCH_CORE_CHAIN_JSON_H_
