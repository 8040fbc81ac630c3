#!/bin/sh
# Where a PostgreSQL ingest spends its time: a throw-away cluster with
# pg_stat_statements, one collector, one agent posting REPORTS reports of
# EVENTS events (defaults 200 and 10) over loopback HTTP; prints the
# statements the collector ran (calls per report, mean ms) and reports/s.
#
# Needs root and Debian's postgresql server binaries (with contrib).
# Usage: tests/bench/collector/pg_ingest_profile.sh BUILD_DIR
set -eu
build=${1:?usage: pg_ingest_profile.sh BUILD_DIR}
collector=$(realpath "$build/collector/driftwatch-collector")
reports=${REPORTS:-200}
events=${EVENTS:-10}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
dir=$(mktemp -d /tmp/dw_pgprof.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
col_pid=
cleanup() {
  [ -n "$col_pid" ] && kill "$col_pid" 2>/dev/null && wait "$col_pid" 2>/dev/null || true
  runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
chown postgres: "$dir"
runuser -u postgres -- "$bin/initdb" -D "$dir/data" -A trust -U driftwatch -E UTF8 \
  --no-locale --no-sync >/dev/null
# The settings of tests/pg/pg_cluster.h, plus statement statistics.
runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o \
  "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off \
   -c full_page_writes=off -c shared_preload_libraries=pg_stat_statements \
   -c pg_stat_statements.track=all -c pg_stat_statements.track_planning=on" start >/dev/null
psql() { "$bin/psql" -X -q -A -t -h 127.0.0.1 -p "$port" -U driftwatch "$@"; }
psql -d postgres -c "CREATE DATABASE fleet"
url="postgresql://driftwatch@127.0.0.1:$port/fleet"
"$collector" migrate --store "$url" >/dev/null
enroll=$("$collector" token create --store "$url" --role enroll)
"$collector" --listen 127.0.0.1:0 --store "$url" >"$dir/url" 2>"$dir/collector.log" &
col_pid=$!
for _ in $(seq 100); do [ -s "$dir/url" ] && break; sleep 0.1; done
psql -d fleet -c "CREATE EXTENSION pg_stat_statements"
REPORTS=$reports EVENTS=$events ENROLL=$enroll BASE=$(head -1 "$dir/url") python3 - <<'EOF'
import http.client, json, os, socket, time, urllib.parse
base, n, k = os.environ["BASE"], int(os.environ["REPORTS"]), int(os.environ["EVENTS"])
u = urllib.parse.urlparse(base)
conn = http.client.HTTPConnection(u.hostname, u.port)
conn.connect()
conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms delayed ACKs
def post(path, body, token):
    conn.request("POST", path, json.dumps(body).encode(),
                 {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    r = conn.getresponse()
    out = json.loads(r.read())
    if r.status != 200 and r.status != 201:
        raise SystemExit("%s: %d %s" % (path, r.status, out))
    return out
agent = post("/api/v1/enroll", {"host": "prof-1", "group": "web"}, os.environ["ENROLL"])["token"]
entry = {"type": "file", "perm": "0644", "uid": 0, "gid": 0, "size": 10}
t0 = time.monotonic()
for r in range(n):
    ev = [{"path": "/etc/app%d/file%d" % (i % 50, r * k + i), "kind": "modified",
           "attributes": ["size"], "old": entry, "new": dict(entry, size=11),
           "severity": ["low", "medium", "high", "critical"][(r + i) % 4],
           "rule": "/etc/** (host.yaml:3)"} for i in range(k)]
    post("/api/v1/reports", {
        "format": 1, "report_id": "00000000-0000-4000-8000-%012d" % r, "host_id": "prof-1",
        "agent_version": "prof", "sent": "2026-11-01T00:00:01Z", "baseline": "default",
        "baseline_revision": 1, "baseline_root": "a96faf705af16834e6c632b61e964e1f",
        "root": "4b2212e31ac97fd4575a0b1c44d8843f", "target": "prof-1",
        "started": "2026-11-01T00:00:00Z", "finished": "2026-11-01T00:00:01Z",
        "summary": {"added": 0, "modified": k, "removed": 0, "packages": 0},
        "subtrees": {}, "events": ev, "warnings": [],
        "stats": {"files": 1, "dirs": 1, "others": 0, "files_hashed": 1, "bytes_hashed": 1,
                  "duration_ns": 1}}, agent)
secs = time.monotonic() - t0
print("%d reports of %d events in %.2f s: %.0f reports/s (one agent, sequential)"
      % (n, k, secs, n / secs))
EOF
echo "calls/report  plan_ms  exec_ms  statement (server-side means)"
psql -d fleet -F '  ' -c "SELECT round(calls::numeric / $reports, 2), round(mean_plan_time::numeric, 3),
  round(mean_exec_time::numeric, 3), left(regexp_replace(query, '\s+', ' ', 'g'), 80)
  FROM pg_stat_statements WHERE calls >= $reports / 2
  ORDER BY (total_exec_time + total_plan_time) DESC LIMIT 25"
psql -d fleet -c "SELECT 'per report: ' || round(sum(calls)::numeric / $reports, 1) ||
  ' statements, ' || round(sum(total_plan_time + total_exec_time)::numeric / $reports, 3) ||
  ' ms planning + execution' FROM pg_stat_statements WHERE calls >= $reports / 2"
