#include "agent/journal.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

#include "agent/store.h"

namespace driftwatch::agent {

using sqlite::InTransaction;
using sqlite::Stmt;

namespace {

constexpr const char* kStateColumns =
    "epoch, watcher_pid, base_snapshot_id, valid, reason, clock, heartbeat_ns, "
    "heartbeat_mono_ns, rules_hash, synced_cookie, invalidations";

std::string Seconds(int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ns) / 1e9);
  return buf;
}

std::string FormatTime(int64_t ns) {
  time_t t = static_cast<time_t>(ns / 1'000'000'000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

std::string JournalCookiePath(const std::string& db_path, int64_t cookie) {
  return db_path + ".sync-" + std::to_string(cookie);
}

int64_t ParseJournalCookie(const std::string& db_path, const std::string& path) {
  const std::string prefix = db_path + ".sync-";
  if (path.size() <= prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return 0;
  int64_t n = 0;
  size_t i = prefix.size();
  for (; i < path.size() && path[i] >= '0' && path[i] <= '9' && n < (int64_t{1} << 56); ++i) {
    n = n * 10 + (path[i] - '0');
  }
  return i == prefix.size() ? 0 : n;
}

Result<std::unique_ptr<Journal>> Journal::Open(Host& host, const std::string& db_path) {
  { DW_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(host, db_path)); }
  DW_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Db> db, sqlite::Db::Open(db_path, AgentDbOptions()));
  std::unique_ptr<Journal> j(new Journal(host, std::move(db), db_path));
  DW_RETURN_IF_ERROR(j->EnsureRow());
  return j;
}

Status Journal::EnsureRow() {
  return db_->Exec(
      "INSERT OR IGNORE INTO journal_state(id, epoch, watcher_pid, base_snapshot_id, valid, "
      "reason, clock, heartbeat_ns, heartbeat_mono_ns, rules_hash, synced_cookie, "
      "invalidations) "
      "VALUES(1, 0, 0, 0, 0, 'no realtime watcher has run', 0, 0, 0, '', 0, 0)");
}

Result<JournalState> Journal::State() {
  DW_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(std::string("SELECT ") + kStateColumns +
                                           ", (SELECT count(*) FROM journal_paths) "
                                           "FROM journal_state WHERE id = 1"));
  DW_ASSIGN_OR_RETURN(bool found, q.Step());
  JournalState s;
  if (!found) return s;
  s.epoch = q.Int(0);
  s.watcher_pid = q.Int(1);
  s.base_snapshot_id = q.Int(2);
  s.valid = q.Int(3) != 0;
  s.reason = q.Text(4);
  s.clock = q.Int(5);
  s.heartbeat_ns = q.Int(6);
  s.heartbeat_mono_ns = q.Int(7);
  s.rules_hash = q.Text(8);
  s.synced_cookie = q.Int(9);
  s.invalidations = q.Int(10);
  s.dirty_paths = q.Int(11);
  return s;
}

Status Journal::SetInvalid(const std::string& reason) {
  // Counted, so that a check consulted before this cannot make the journal
  // valid (Commit).
  DW_RETURN_IF_ERROR(db_->Exec("DELETE FROM journal_paths"));
  DW_ASSIGN_OR_RETURN(Stmt u, db_->Prepare("UPDATE journal_state SET valid = 0, reason = ?, "
                                           "invalidations = invalidations + 1 WHERE id = 1"));
  return u.Bind(1, std::string_view(reason)).Run();
}

Status Journal::BeginEpoch(int64_t now_ns, int64_t mono_ns, int64_t pid,
                           const std::string& rules_hash) {
  return InTransaction(*db_, [&]() -> Status {
    DW_RETURN_IF_ERROR(SetInvalid("the watcher started at " + FormatTime(now_ns) +
                                  "; the next check walks everything"));
    DW_ASSIGN_OR_RETURN(Stmt u, db_->Prepare("UPDATE journal_state SET epoch = ?, watcher_pid = ?, "
                                             "heartbeat_ns = ?, heartbeat_mono_ns = ?, "
                                             "rules_hash = ? WHERE id = 1"));
    return u.Bind(1, now_ns)
        .Bind(2, pid)
        .Bind(3, now_ns)
        .Bind(4, mono_ns)
        .Bind(5, std::string_view(rules_hash))
        .Run();
  });
}

Status Journal::Invalidate(const std::string& reason) {
  return InTransaction(*db_, [&]() -> Status { return SetInvalid(reason); });
}

Status Journal::EndEpoch(const std::string& reason) {
  return InTransaction(*db_, [&]() -> Status {
    DW_RETURN_IF_ERROR(SetInvalid(reason));
    return db_->Exec("UPDATE journal_state SET heartbeat_ns = 0, watcher_pid = 0 WHERE id = 1");
  });
}

Status Journal::AddDirty(const std::vector<DirtyPath>& paths) {
  if (paths.empty()) return Status::Ok();
  return InTransaction(*db_, [&]() -> Status {
    DW_ASSIGN_OR_RETURN(Stmt st, db_->Prepare("SELECT valid, clock, (SELECT count(*) FROM "
                                              "journal_paths), reason FROM journal_state "
                                              "WHERE id = 1"));
    DW_ASSIGN_OR_RETURN(bool found, st.Step());
    if (!found) return Status::Ok();
    // Paths are kept while invalid too: a full walk that makes the journal
    // valid (Commit) keeps those recorded after it was consulted.
    const bool valid = st.Int(0) != 0;
    const int64_t clock = st.Int(1) + 1;
    const int64_t count = st.Int(2);
    const std::string reason = st.Text(3);
    st.Reset();
    if (count + static_cast<int64_t>(paths.size()) > kMaxJournalPaths) {
      return SetInvalid(valid ? "more than " + std::to_string(kMaxJournalPaths) +
                                    " paths changed since the last check"
                              : reason);
    }
    DW_ASSIGN_OR_RETURN(
        Stmt ins, db_->Prepare("INSERT INTO journal_paths(path, tree, clock) VALUES(?, ?, ?) "
                               "ON CONFLICT(path) DO UPDATE SET tree = max(tree, excluded.tree), "
                               "clock = excluded.clock"));
    for (const DirtyPath& p : paths) {
      DW_RETURN_IF_ERROR(ins.BindBlob(1, p.path).Bind(2, int64_t{p.tree}).Bind(3, clock).Run());
    }
    DW_ASSIGN_OR_RETURN(Stmt u, db_->Prepare("UPDATE journal_state SET clock = ? WHERE id = 1"));
    return u.Bind(1, clock).Run();
  });
}

Status Journal::Heartbeat(int64_t now_ns, int64_t mono_ns) {
  return InTransaction(*db_, [&]() -> Status {
    DW_ASSIGN_OR_RETURN(JournalState s, State());
    if (s.heartbeat_ns != 0) {
      const int64_t drift = (now_ns - s.heartbeat_ns) - (mono_ns - s.heartbeat_mono_ns);
      if (drift > 1'000'000'000 || drift < -1'000'000'000) {
        DW_RETURN_IF_ERROR(SetInvalid("the clock jumped by " + Seconds(drift) +
                                      "; the next check walks everything"));
      }
    }
    DW_ASSIGN_OR_RETURN(
        Stmt u,
        db_->Prepare(
            "UPDATE journal_state SET heartbeat_ns = ?, heartbeat_mono_ns = ? WHERE id = 1"));
    return u.Bind(1, now_ns).Bind(2, mono_ns).Run();
  });
}

Status Journal::AnswerCookie(int64_t cookie) {
  DW_ASSIGN_OR_RETURN(Stmt u, db_->Prepare("UPDATE journal_state SET synced_cookie = "
                                           "max(synced_cookie, ?) WHERE id = 1"));
  return u.Bind(1, cookie).Run();
}

Status Journal::CookieSync(int64_t timeout_ns, bool* answered) {
  *answered = false;
  // Unique enough between concurrent checks: time and pid.
  const int64_t cookie = (host_.NowNs() / 1000) * 64 + (::getpid() & 63);
  const std::string path = JournalCookiePath(db_path_, cookie);
  DW_RETURN_IF_ERROR(host_.WriteFileAtomic(path, "", 0600));
  const int64_t deadline = host_.MonotonicNs() + timeout_ns;
  Status result = Status::Ok();
  for (int i = 0; i < 100000; ++i) {
    Result<JournalState> s = State();
    if (!s.ok()) {
      result = s.status();
      break;
    }
    if (s->synced_cookie >= cookie) {
      *answered = true;
      break;
    }
    if (host_.MonotonicNs() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  host_.Remove(path).IgnoreError();
  return result;
}

Result<Consultation> Journal::Consult(const std::string& rules_hash,
                                      const std::function<Status()>& sync, int64_t timeout_ns) {
  Consultation c;
  if (sync) {
    // The watcher runs in this process and answered: it is alive.
    DW_RETURN_IF_ERROR(sync());
    c.watcher_alive = true;
  } else {
    DW_ASSIGN_OR_RETURN(JournalState before, State());
    const int64_t now = host_.NowNs();
    c.watcher_alive = before.heartbeat_ns != 0 &&
                      now - before.heartbeat_ns < kJournalHeartbeatTimeoutNs &&
                      now >= before.heartbeat_ns - kJournalHeartbeatTimeoutNs;
    if (!c.watcher_alive) {
      c.full_reason = before.epoch == 0 ? "no realtime watcher is running"
                                        : "the realtime watcher is not running";
      return c;
    }
    bool answered = false;
    DW_RETURN_IF_ERROR(CookieSync(timeout_ns, &answered));
    if (!answered) {
      c.full_reason = "the realtime watcher did not answer within " + Seconds(timeout_ns);
      return c;
    }
  }
  DW_RETURN_IF_ERROR(InTransaction(*db_, [&]() -> Status {
    DW_ASSIGN_OR_RETURN(JournalState s, State());
    c.epoch = s.epoch;
    c.clock = s.clock;
    c.invalidations = s.invalidations;
    if (!s.valid) {
      c.full_reason = s.reason;
      return Status::Ok();
    }
    if (s.rules_hash != rules_hash) {
      c.full_reason = "the rules changed since the realtime watcher started";
      return Status::Ok();
    }
    DirtySet d;
    d.base_snapshot_id = s.base_snapshot_id;
    DW_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT path, tree FROM journal_paths WHERE clock <= "
                                             "? ORDER BY path"));
    q.Bind(1, s.clock);
    for (;;) {
      DW_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      d.paths.push_back(q.Blob(0));
      if (q.Int(1) != 0) d.trees.push_back(d.paths.back());
    }
    c.dirty = std::move(d);
    return Status::Ok();
  }));
  return c;
}

Status Journal::Commit(const Consultation& c, const std::string& baseline, bool walked_everything) {
  return InTransaction(*db_, [&]() -> Status {
    DW_ASSIGN_OR_RETURN(JournalState s, State());
    if (!c.watcher_alive || s.epoch != c.epoch) return Status::Ok();  // another watcher's journal
    DW_ASSIGN_OR_RETURN(Stmt latest, db_->Prepare("SELECT snapshot_id FROM checks WHERE baseline "
                                                  "= ? AND snapshot_id IS NOT NULL "
                                                  "ORDER BY id DESC LIMIT 1"));
    latest.Bind(1, std::string_view(baseline));
    DW_ASSIGN_OR_RETURN(bool found, latest.Step());
    if (!found)
      return SetInvalid("the last check was not recorded; the next check walks everything");
    const int64_t snapshot = latest.Int(0);
    latest.Reset();
    DW_ASSIGN_OR_RETURN(Stmt del, db_->Prepare("DELETE FROM journal_paths WHERE clock <= ?"));
    DW_RETURN_IF_ERROR(del.Bind(1, c.clock).Run());
    // A full walk makes the journal valid unless it was invalidated after
    // the consultation.
    const bool valid = s.valid || (walked_everything && s.invalidations == c.invalidations);
    DW_ASSIGN_OR_RETURN(Stmt u, db_->Prepare("UPDATE journal_state SET base_snapshot_id = ?, "
                                             "valid = ?, reason = ? WHERE id = 1"));
    return u.Bind(1, snapshot)
        .Bind(2, int64_t{valid})
        .Bind(3, std::string_view(valid ? "" : s.reason))
        .Run();
  });
}

}  // namespace driftwatch::agent
