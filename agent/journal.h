// Journal: the logical paths the realtime watcher saw change since the last
// check, kept in the agent store (tables journal_paths and journal_state,
// schema v3, docs/store.md; behaviour in docs/realtime.md).
//
// The watcher writes it: BeginEpoch when it starts (the journal is invalid
// until a check walks everything), AddDirty in batches, Invalidate on any
// gap, Heartbeat now and then (a clock jump between two heartbeats
// invalidates it) and AnswerCookie for checks that sync with it.
//
// A check reads it: Consult first syncs with the watcher, so that every
// event that happened before the check started is in the journal, then
// answers the dirty set or why the check must walk everything. Commit, after
// the check was recorded, drops the consulted paths, makes the check's
// snapshot the new base, and makes the journal valid when the check walked
// everything while the watcher ran.
//
// Errors: store failures are passed through; a sync that times out is not an
// error but a reason for a full walk.
//
// Thread-safety: one Journal is used by one thread at a time; several
// Journals (processes) on one store are serialized by SQLite's locking.
#ifndef DRIFTWATCH_AGENT_JOURNAL_H_
#define DRIFTWATCH_AGENT_JOURNAL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/check.h"
#include "core/host.h"
#include "core/sqlite.h"
#include "core/status.h"

namespace driftwatch::agent {

// A watcher whose last heartbeat is older than this is taken for gone.
constexpr int64_t kJournalHeartbeatTimeoutNs = 5'000'000'000;
// The watcher writes a heartbeat at least this often.
constexpr int64_t kJournalHeartbeatNs = 1'000'000'000;
// More dirty paths than this between two checks invalidate the journal.
constexpr int64_t kMaxJournalPaths = 200'000;

struct JournalState {
  int64_t epoch = 0;  // CLOCK_REALTIME ns the watcher started at; 0: never ran
  int64_t watcher_pid = 0;
  int64_t base_snapshot_id = 0;  // the check the dirty paths are relative to
  bool valid = false;
  std::string reason;  // why not valid
  int64_t clock = 0;   // the last AddDirty batch
  int64_t heartbeat_ns = 0;
  int64_t heartbeat_mono_ns = 0;
  std::string rules_hash;  // fingerprint of the rules the watcher filters with
  int64_t synced_cookie = 0;
  int64_t invalidations = 0;  // times it was made invalid
  int64_t dirty_paths = 0;    // rows in journal_paths
};

struct DirtyPath {
  std::string path;   // logical path
  bool tree = false;  // a directory created or moved in: everything under it
};

// What a check learns from the journal.
struct Consultation {
  std::optional<DirtySet> dirty;  // set: examine only these paths
  std::string full_reason;        // otherwise: why everything is walked
  bool watcher_alive = false;
  int64_t epoch = 0;  // of the watcher consulted
  int64_t clock = 0;  // paths up to this clock are consumed by the check
  int64_t invalidations = 0;
};

// The name of a sync cookie for the store at db_path: db_path + ".sync-N".
std::string JournalCookiePath(const std::string& db_path, int64_t cookie);
// The cookie number of a path named like JournalCookiePath (a temporary
// file of WriteFileAtomic included); 0 when it is none.
int64_t ParseJournalCookie(const std::string& db_path, const std::string& path);

class Journal {
 public:
  // Opens the store at db_path (creating and migrating it, agent/store.h)
  // and a connection of its own to it.
  static Result<std::unique_ptr<Journal>> Open(Host& host, const std::string& db_path);

  // --- The watcher.
  // A new epoch: paths dropped, invalid with "the watcher started at T; the
  // next check walks everything".
  Status BeginEpoch(int64_t now_ns, int64_t mono_ns, int64_t pid, const std::string& rules_hash);
  // Records paths as dirty (a new clock). Past kMaxJournalPaths the journal
  // is invalidated instead.
  Status AddDirty(const std::vector<DirtyPath>& paths);
  Status Invalidate(const std::string& reason);
  // Writes the heartbeat; a clock jump (realtime and monotonic time moved
  // apart by more than a second since the last one) invalidates.
  Status Heartbeat(int64_t now_ns, int64_t mono_ns);
  Status AnswerCookie(int64_t cookie);
  // The watcher stops: no heartbeat any more, invalid.
  Status EndEpoch(const std::string& reason);

  // --- Checks.
  // `sync` makes the watcher record every event read so far (in the
  // watcher's process); null: syncs through a cookie file next to the store
  // and waits up to `timeout_ns` for the watcher to answer it.
  // `rules_hash`: the fingerprint of the check's rules.
  Result<Consultation> Consult(const std::string& rules_hash,
                               const std::function<Status()>& sync = nullptr,
                               int64_t timeout_ns = 2'000'000'000);
  // After the check was recorded: drops the paths up to c.clock, the
  // latest check of `baseline` becomes the base, and the journal becomes
  // valid when `walked_everything` and the consulted watcher still runs.
  Status Commit(const Consultation& c, const std::string& baseline, bool walked_everything);

  Result<JournalState> State();

 private:
  Journal(Host& host, std::unique_ptr<sqlite::Db> db, std::string db_path)
      : host_(host), db_(std::move(db)), db_path_(std::move(db_path)) {}
  Status EnsureRow();
  Status SetInvalid(const std::string& reason);
  Status CookieSync(int64_t timeout_ns, bool* answered);

  Host& host_;
  std::unique_ptr<sqlite::Db> db_;
  std::string db_path_;
};

// RunCheck with the journal (agent/journal_check.cc): consults it (with
// `sync`, as Journal::Consult), passes its dirty set as options.dirty,
// records in result.walk.full_reason why everything was walked while a
// watcher runs, and commits the journal once the check is recorded.
// Journal failures never fail the check: the check walks everything and
// says why.
Result<CheckResult> RunJournaledCheck(CheckOptions options,
                                      const std::function<Status()>& sync = nullptr,
                                      Status* not_recorded = nullptr);

}  // namespace driftwatch::agent

#endif  // DRIFTWATCH_AGENT_JOURNAL_H_
