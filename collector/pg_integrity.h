// Integrity in the PostgreSQL fleet store: the escrow of agent chains,
// integrity alerts, trust resets and the collector's own per-host event
// chain (schema in pg_schema.cc version 8, docs/store-postgresql.md;
// verdicts in escrow.h). The twin of sqlite_integrity.h: the same rows,
// the same verdicts.
//
// Thread-safety: none; each call uses the one connection it is given.
#ifndef DRIFTWATCH_COLLECTOR_PG_INTEGRITY_H_
#define DRIFTWATCH_COLLECTOR_PG_INTEGRITY_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "collector/pg_conn.h"
#include "collector/store.h"

namespace driftwatch::collector {

// Inside the ingest transaction, after the ingest lock: locks the host's
// chain_hosts row (made when missing), judges rep's chain and self and
// stores what the verdicts say; sets out->chain and out->integrity_alerts.
// Then fills `seqs`/`heads` with each event's place in the
// host's event chain and stores the chain's new head.
// `stored_package_version`: the driftwatch package's version in the host's
// package list before this report's inventory was written
// (PgStoredDriftwatchVersion, read first).
Status PgIngestIntegrity(PgConn& c, const ReportEnvelope& rep,
                         const std::string& stored_package_version, IngestResult* out,
                         std::vector<int64_t>* seqs, std::vector<std::string>* heads);
// The version of the driftwatch package in the host's stored package list,
// "" when none.
Result<std::string> PgStoredDriftwatchVersion(PgConn& c, const std::string& host_id);

Result<std::vector<IntegrityAlert>> PgListIntegrityAlerts(PgConn& c, const IntegrityQuery& q);
Result<HostChain> PgGetHostChain(PgConn& c, const std::string& host_id);
// In its own transaction, the host row locked.
Result<int64_t> PgTrustReset(PgConn& c, const std::string& host_id, const std::string& by,
                             const std::string& reason, int64_t now_ns);
Result<std::vector<EventChainFinding>> PgVerifyEventChains(
    PgConn& c, const std::string& host_id, const std::map<std::string, ExportedHead>& expected);

}  // namespace driftwatch::collector

#endif  // DRIFTWATCH_COLLECTOR_PG_INTEGRITY_H_
