#!/usr/bin/env bash
# The package cases of scripts/test.d/package.run, run as PID 1 of new
# mount, pid and network namespaces:
#   bash cases.sh ROOT LOGS
# ROOT is a fresh Debian 12 root holding the packages' dependencies,
# /tmp/debs (this version's driftwatch and driftwatch-collector .debs) and
# /tmp/debs-upgrade (a higher version's); LOGS receives the logs. Environment:
# VERSION, UPGRADE_VERSION, ARCH, UPGRADE_BUILD_SECONDS.
# Every process is started as its systemd unit says (the ExecStart= line, as
# User=/Group=, in a session of its own, a clean environment, stdin
# /dev/null), read from the unit file installed in ROOT. Host tools (curl,
# python3 for JSON) run outside the chroot but in the same namespaces; they
# reach the collector over lo, the only network there is.
# One line per case: "package-NAME PASS|FAIL|SKIP what".
set -uo pipefail
ROOT="$1"
LOGS="$2"
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
CASELOG="$LOGS/cases.log"
DLOG=/var/log/driftwatch-e2e  # the daemons' output, inside ROOT

mount -t proc proc /proc  # this pid namespace's processes, for kill and ps
mount -t proc proc "$ROOT/proc"
mount --rbind /dev "$ROOT/dev"
mount -t tmpfs -o mode=755 tmpfs "$ROOT/run"
ip link set lo up
mkdir -p "$ROOT$DLOG"
# systemd's side of Type=notify: every process started below gets
# NOTIFY_SOCKET and what it sends lands in NOTIFY_LOG as "PID MESSAGE".
NOTIFY_NAME="driftwatch-e2e-$$"
NOTIFY_LOG="$LOGS/notify.log"
python3 "$(dirname "${BASH_SOURCE[0]}")/notify_listener.py" "$NOTIFY_NAME" "$NOTIFY_LOG" &
NOTIFY_PID=$!

ENVV=(/usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
      DEBIAN_FRONTEND=noninteractive)
in_root() { chroot "$ROOT" "${ENVV[@]}" "$@" </dev/null; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# --- verdicts ---------------------------------------------------------------
declare -A PASSED
FAILS=()
# check WHAT COMMAND...: runs COMMAND (output to the case log); WHAT is the
# failure's description.
check() {
  echo "--- check: $1" >>"$CASELOG"
  if "${@:2}" >>"$CASELOG" 2>&1; then return 0; fi
  FAILS+=("$1")
  return 1
}
fail() { FAILS+=("$1"); echo "--- failed: $1" >>"$CASELOG"; }
verdict() {  # NAME SUMMARY...
  if [ "${#FAILS[@]}" -eq 0 ]; then
    echo "package-$1 PASS ${*:2}"
    PASSED[$1]=1
  else
    echo "package-$1 FAIL $(IFS=';'; echo "${FAILS[*]}") (log: $CASELOG)"
  fi
  FAILS=()
}
needs() {  # NAME CASE...: SKIP NAME unless every CASE passed
  local c
  for c in "${@:2}"; do
    if [ -z "${PASSED[$c]:-}" ]; then
      echo "package-$1 SKIP needs package-$c"
      return 1
    fi
  done
  echo "=== case $1" >>"$CASELOG"
}
# wait_for TRIES INTERVAL COMMAND...: bounded in tries and so in time.
wait_for() {
  local n="$1" iv="$2" i
  shift 2
  for ((i = 0; i < n; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep "$iv"
  done
  return 1
}

# --- processes as their units start them ------------------------------------
unit_file() {
  local d
  for d in etc/systemd/system usr/lib/systemd/system lib/systemd/system; do
    [ -f "$ROOT/$d/$1" ] && { echo "$ROOT/$d/$1"; return 0; }
  done
  return 1
}
# start_unit UNIT LOGNAME: the unit's ExecStart= command line as its User=
# and Group=, with its UMask= (default 0022), in a session of its own;
# sets PID, START (epoch seconds), COMM (the name of the first program of
# ExecStart=, nohup: its execve is the unit's start) and COMM_NEXT (the
# program nohup runs). The sandboxing settings are systemd's and are left
# out.
start_unit() {
  local f exec user group umask as=() argv
  f=$(unit_file "$1") || { echo "no $1 in the root" >>"$CASELOG"; return 1; }
  exec=$(sed -n 's/^ExecStart=[-@:+!]*//p' "$f" | tail -1)
  user=$(sed -n 's/^User=//p' "$f" | tail -1)
  group=$(sed -n 's/^Group=//p' "$f" | tail -1)
  umask=$(sed -n 's/^UMask=//p' "$f" | tail -1)
  [ -n "$user" ] && as=(setpriv "--reuid=$user" "--regid=${group:-$user}" --init-groups --)
  read -ra argv <<<"$exec"
  COMM=$(basename "${argv[0]}" | cut -c1-15)
  # The program nohup runs: on a busy machine the ~1 ms of nohup itself can
  # pass between two looks at the process.
  COMM_NEXT=$(basename "${argv[1]:-}" | cut -c1-15)
  echo "start $1: umask ${umask:-0022}; ${as[*]} ${argv[*]}" >>"$CASELOG"
  START=$(now)
  # Each step execs the next, and the shell's background job is not a
  # process group leader, so setsid makes the session without a fork: PID
  # is the daemon's own.
  chroot "$ROOT" "${ENVV[@]}" "NOTIFY_SOCKET=@$NOTIFY_NAME" \
    sh -c 'umask "$0" && exec "$@"' "${umask:-0022}" \
    setsid "${as[@]}" "${argv[@]}" </dev/null >>"$ROOT$DLOG/$2" 2>&1 &
  PID=$!
}
# wait_exec PID COMM [COMM2]: until PID runs COMM or COMM2 (its execve) and
# ignores SIGHUP (nohup does that in its first microseconds of CPU; a new
# process on a loaded machine may wait far longer for a CPU, so the moment
# is read, not assumed). Read by builtins only, so it is taken within
# microseconds; sets EXEC_AT. At most 200000 reads (a few seconds).
wait_exec() {
  local c i k v
  for ((i = 0; i < 200000; i++)); do
    read -r c <"/proc/$1/comm" 2>/dev/null || return 1
    [ "$c" = "$2" ] || [ "$c" = "${3:-$2}" ] || continue
    while read -r k v; do
      [ "$k" = SigIgn: ] && break
    done <"/proc/$1/status"
    (( 16#${v: -1} & 1 )) && { EXEC_AT=$EPOCHREALTIME; return 0; }
  done
  return 1
}
alive() {
  local s
  s=$(sed -n 's/^State:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null)
  [ -n "$s" ] && [ "${s:0:1}" != Z ]
}
# stop PID: SIGTERM, up to 10 s, then SIGKILL.
stop() {
  [ -n "${1:-}" ] || return 0
  kill -TERM "$1" 2>/dev/null
  wait_for 100 0.1 eval "! alive $1" || kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}
notified() { grep -q "^$1 .*$2" "$NOTIFY_LOG"; }  # PID MESSAGE
# The root's own ids (the host may not know its users).
uid_of() { in_root getent passwd "$1" | cut -d: -f3; }
gid_of() { in_root getent group "$1" | cut -d: -f3; }

# --- the collector's API ----------------------------------------------------
LISTEN=127.0.0.1:8080
healthy() { curl -fsS --max-time 2 -o /dev/null "http://$LISTEN/healthz"; }
hosts() { curl -fsS --max-time 5 -H "Authorization: Bearer $READ" "http://$LISTEN/api/v1/hosts"; }
# host_line: "COUNT ID GROUP REPORTS AGENT_VERSION" of GET /hosts (first host).
host_line() {
  hosts | python3 -c '
import json, sys
h = json.load(sys.stdin)["hosts"]
f = h[0] if h else {}
print(len(h), f.get("id"), f.get("group"), f.get("reports") or 0, f.get("agent_version"))'
}
# shellcheck disable=SC2120 # called with arguments through wait_for
has_report() {  # [MORE_THAN [HOST]]
  local n id _g r _v
  read -r n id _g r _v < <(host_line) || return 1
  [ "$n" -ge 1 ] && [ "$r" -gt "${1:-0}" ] && { [ -z "${2:-}" ] || [ "$id" = "$2" ]; }
}
conf_key() {  # FILE KEY: the value of a top-level key of a YAML file in ROOT
  sed -n "s/^$2:[[:space:]]*//p" "$ROOT$1" | sed 's/[[:space:]]*#.*//; s/^["'\'']//; s/["'\'']$//' |
    tail -1
}

COLLECTOR_PID=
AGENT_PID=
finish() {
  stop "$AGENT_PID"
  stop "$COLLECTOR_PID"
  kill "$NOTIFY_PID" 2>/dev/null
  cp -r "$ROOT$DLOG"/. "$LOGS/" 2>/dev/null
}
trap finish EXIT

# --- (a) install ------------------------------------------------------------
# install_debs DIR VERSION: apt-get install of DIR's driftwatch*.deb in the
# root (no network: the root holds every dependency); both packages must be
# installed at VERSION then. Sets INSTALL_SECONDS.
install_debs() {
  local t0 p
  t0=$(now)
  check "apt-get install $1/driftwatch*.deb without a network" \
    in_root sh -c "cd $1 && apt-get install -y ./driftwatch*.deb"
  INSTALL_SECONDS=$(elapsed "$t0" "$(now)")
  for p in driftwatch driftwatch-collector; do
    check "$p $2 installed" test "$(in_root dpkg-query -W -f='${Status} ${Version}' "$p")" \
      = "install ok installed $2"
  done
}
case_install() {
  needs install || return
  local f u files
  install_debs /tmp/debs "$VERSION"
  for f in /usr/bin/driftwatch /usr/bin/driftwatch-collector \
           /usr/share/driftwatch/rules/host.yaml /usr/share/driftwatch/rules/container.yaml \
           /usr/share/driftwatch/web/index.html /etc/driftwatch/agent.yaml \
           /etc/driftwatch/rules.yaml /etc/driftwatch/container.yaml \
           /etc/driftwatch/collector.yaml \
           /usr/share/man/man8/driftwatch.8.gz /usr/share/man/man8/driftwatch-collector.8.gz \
           /usr/share/bash-completion/completions/driftwatch \
           /usr/share/bash-completion/completions/driftwatch-collector; do
    check "$f installed" test -f "$ROOT$f"
  done
  for f in driftwatch-agent.service driftwatch-collector.service; do
    check "unit $f installed" unit_file "$f"
  done
  check "one agent package in /usr/share/driftwatch-collector/agent" test "$(
    ls "$ROOT"/usr/share/driftwatch-collector/agent/driftwatch_"$VERSION"*_"$ARCH".deb | wc -l)" = 1
  f=$(in_root dpkg-query -W -f='${Conffiles}\n' driftwatch driftwatch-collector)
  for c in agent.yaml rules.yaml container.yaml collector.yaml; do
    check "/etc/driftwatch/$c is a conffile" grep -q " /etc/driftwatch/$c " <<<"$f"
  done
  check "driftwatch --version" test "$(in_root driftwatch --version)" = "driftwatch $VERSION"
  u=$(uid_of driftwatch)
  check "system user driftwatch" test -n "$u" -a "${u:-1000}" -lt 1000
  check "group driftwatch" in_root getent group driftwatch
  check "/var/lib/driftwatch-collector 700 driftwatch:driftwatch" test \
    "$(stat -c '%a %u:%g' "$ROOT/var/lib/driftwatch-collector")" = "700 $u:$(gid_of driftwatch)"
  files=$(in_root dpkg -L driftwatch driftwatch-collector | grep -vE '^/\.$|/usr/share/doc' |
    while read -r f; do [ -d "$ROOT$f" ] || echo "$f"; done)
  echo "files of driftwatch and driftwatch-collector:"
  echo "$files" | sed 's/^/  /'
  verdict install "driftwatch and driftwatch-collector $VERSION installed offline in" \
    "${INSTALL_SECONDS}s: $(echo "$files" | wc -l) files, user driftwatch uid $u," \
    "/var/lib/driftwatch-collector 700 driftwatch:driftwatch"
}

# --- the units, as systemd reads them ----------------------------------------
# systemd-analyze verify with the root as its file system: ExecStart= and
# ExecReload= programs exist, User=/Group= and every setting parse, the
# man pages of Documentation= exist (MANPATH: the host's man reads them).
case_units() {
  needs units install || return
  local out
  out=$(MANPATH="$ROOT/usr/share/man" systemd-analyze --root="$ROOT" verify \
    driftwatch-agent.service driftwatch-collector.service 2>&1)
  check "systemd-analyze verify exits 0" test $? -eq 0
  check "systemd-analyze verify says nothing: $out" test -z "$out"
  verdict units "systemd-analyze verify: driftwatch-agent.service and" \
    "driftwatch-collector.service clean"
}

# --- (b) the collector as its unit runs it ----------------------------------
case_collector() {
  needs collector install || return
  local u ids
  LISTEN=$(conf_key /etc/driftwatch/collector.yaml listen)
  LISTEN=${LISTEN:-127.0.0.1:8080}
  start_unit driftwatch-collector.service collector.log && COLLECTOR_PID=$PID
  if check "the collector answers /healthz on $LISTEN within 10 s" wait_for 100 0.1 healthy; then
    echo "collector up in $(elapsed "$START" "$(now)")s (pid $COLLECTOR_PID)" >>"$CASELOG"
  fi
  check "the collector says READY=1 (Type=notify)" wait_for 50 0.1 notified "$COLLECTOR_PID" READY=1
  u=$(uid_of driftwatch)
  ids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$COLLECTOR_PID/status" 2>/dev/null)
  check "the collector runs as uid $u (Uid: $ids)" test "$ids" = "$u $u $u $u"
  check "the dashboard is served at /" \
    sh -c "curl -fsS --max-time 5 http://$LISTEN/ | grep -qi '<html'"
  verdict collector "the unit's command line as user driftwatch (uid $u) says READY=1, serves" \
    "/healthz and the dashboard on $LISTEN"
}

# shellcheck source=tests/package/cases_agent.sh
source "$(dirname "${BASH_SOURCE[0]}")/cases_agent.sh"

case_install
case_units
case_collector
case_enroll_package
case_enroll_report
case_sighup
case_upgrade
case_purge
