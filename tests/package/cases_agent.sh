# shellcheck shell=bash
# The package cases after install and collector start, sourced by cases.sh
# (its helpers and state): the self-enrolling agent package, SIGHUP early
# and late, upgrade, purge.

absent() { ! grep -qF -- "$1" "$2"; }  # TEXT FILE
has_baseline() { in_root driftwatch baseline list | grep -q default; }
owned_by_driftwatch() {  # every file of the collector's state dir
  local bad u g
  u=$(uid_of driftwatch)
  g=$(gid_of driftwatch)
  bad=$(find "$ROOT/var/lib/driftwatch-collector" \( ! -uid "${u:-0}" -o ! -gid "${g:-0}" \) \
    -printf '%p %U:%G\n')
  [ -z "$bad" ] || { echo "not driftwatch's: $bad"; return 1; }
}

# --- (c) the enroll package ---------------------------------------------------
case_enroll_package() {
  needs enroll-package collector || return
  local out ctl conf
  ADMIN=$(in_root driftwatch-collector token create --config /etc/driftwatch/collector.yaml \
    --role admin 2>>"$CASELOG")
  READ=$(in_root driftwatch-collector token create --config /etc/driftwatch/collector.yaml \
    --role read 2>>"$CASELOG")
  check "admin and read tokens made as root" test -n "$ADMIN" -a -n "$READ"
  mkdir -p "$ROOT/tmp/pkg"
  out=$(in_root driftwatch-collector package agent --url "http://$LISTEN" --group e2e \
    --out /tmp/pkg --config /etc/driftwatch/collector.yaml 2>>"$CASELOG")
  echo "package agent printed: $out" >>"$CASELOG"
  ENROLL_DEB=$(ls "$ROOT"/tmp/pkg/driftwatch-enroll-e2e_"$VERSION"*_"$ARCH".deb 2>/dev/null | head -1)
  if check "package agent wrote /tmp/pkg/driftwatch-enroll-e2e_${VERSION}*_$ARCH.deb" \
      test -n "$ENROLL_DEB"; then
    check "package agent printed the package's path" test "$out" = "${ENROLL_DEB#"$ROOT"}"
    ctl=$(dpkg-deb -f "$ENROLL_DEB" Package Version)
    check "the enroll package is driftwatch $VERSION" \
      test "$(echo "$ctl" | awk '{ print $2 }' | paste -sd' ')" = "driftwatch $VERSION"
    # apt takes a package of the installed name and version with the same
    # Installed-Size (and relations) for the installed one and does nothing.
    check "the enroll package's Installed-Size differs from the installed driftwatch's" test \
      "$(dpkg-deb -f "$ENROLL_DEB" Installed-Size)" != \
      "$(in_root dpkg-query -W -f='${Installed-Size}' driftwatch)"
    conf=$(dpkg-deb -I "$ENROLL_DEB" conffiles)
    for f in enroll.yaml enroll.token; do
      check "/etc/driftwatch/$f is a conffile of the enroll package" \
        grep -qx "/etc/driftwatch/$f" <<<"$conf"
    done
    check "enroll.token is 0600 in the package" \
      sh -c "dpkg-deb -c '$ENROLL_DEB' | grep -E '^-rw------- .* \./etc/driftwatch/enroll\.token$'"
    check "enroll.yaml names the collector and the group" sh -c \
      "dpkg-deb --fsys-tarfile '$ENROLL_DEB' | tar -xOf - ./etc/driftwatch/enroll.yaml |
       grep -q '^collector: *\"*http://$LISTEN' &&
       dpkg-deb --fsys-tarfile '$ENROLL_DEB' | tar -xOf - ./etc/driftwatch/enroll.yaml |
       grep -q '^group: *\"*e2e'"
  fi
  check "the collector's state is still driftwatch's after root ran token create and package" \
    owned_by_driftwatch
  check "the collector still answers" healthy
  verdict enroll-package "tokens and ${ENROLL_DEB##*/} made as root; the collector's" \
    "database still owned by driftwatch"
}

case_enroll_report() {
  needs enroll-report collector || return
  if [ -z "${ENROLL_DEB:-}" ]; then
    echo "package-enroll-report SKIP package agent made no package"
    return
  fi
  local t0 t1 token n id g r _v
  t0=$(now)
  check "apt-get install ./${ENROLL_DEB##*/}" \
    in_root sh -c "cd /tmp/pkg && apt-get install -y ./${ENROLL_DEB##*/}"
  token=$(head -1 "$ROOT/etc/driftwatch/enroll.token" 2>/dev/null)
  if ! check "the enroll token is installed, 0600" \
    test -n "$token" -a "$(stat -c %a "$ROOT/etc/driftwatch/enroll.token" 2>/dev/null)" = 600; then
    verdict enroll-report "no enroll files were installed"
    return
  fi
  start_unit driftwatch-agent.service agent.log && AGENT_PID=$PID
  # Up to 330 s for the first report (the daemon's first check may wait
  # for its jitter); ps is sampled all along for the token.
  local deadline=$((SECONDS + 330))
  while ((SECONDS < deadline)); do
    in_root ps -eo pid,args >>"$LOGS/ps.txt" 2>&1
    has_report && break
    alive "$AGENT_PID" || break
    sleep 0.25
  done
  t1=$(now)
  if ! check "a report stored by the collector within 330 s" has_report; then
    alive "$AGENT_PID" || fail "the agent exited ($(tail -3 "$ROOT$DLOG/agent.log" | tr '\n' ' '))"
  fi
  check "the agent said READY=1 (Type=notify)" notified "$AGENT_PID" READY=1
  read -r n id g r _v < <(host_line)
  HOST_ID=$id
  check "one host, in group e2e, with a report (hosts: $n, id $id, group $g, reports $r)" \
    test "$n" = 1 -a "$g" = e2e
  check "the spent token file is removed" test ! -e "$ROOT/etc/driftwatch/enroll.token"
  check "a baseline was taken" has_baseline
  check "/var/lib/driftwatch is 700 root:root" \
    test "$(stat -c '%a %u:%g' "$ROOT/var/lib/driftwatch")" = "700 0:0"
  in_root ps -eo pid,args >>"$LOGS/ps.txt" 2>&1
  if [ -n "$token" ]; then
    check "the token is not in ps output ($(grep -c . "$LOGS/ps.txt") lines sampled)" \
      absent "$token" "$LOGS/ps.txt"
    check "the token is not in the daemon's log" absent "$token" "$ROOT$DLOG/agent.log"
  fi
  verdict enroll-report "apt-get install of the enroll package to the first report stored:" \
    "$(elapsed "$t0" "$t1")s; host $id enrolled from the packaged token (file removed)," \
    "baselined; the token never in ps or the daemon's log"
}

# --- (d) SIGHUP early and late ------------------------------------------------
# nap SECONDS: a shell builtin's wait (read on a pipe nobody writes), so a
# 10 ms delay is not lengthened by starting /bin/sleep.
nap() {
  [ -n "${NAP_FD:-}" ] || exec {NAP_FD}<> <(:)
  read -rt "$1" -u "$NAP_FD" _ || true
}
# sighup_trials UNIT LOG: a fresh process per delay, SIGHUP that long after
# its unit's command started (the execve of nohup, ExecStart's first program;
# setsid and setpriv before it stand for systemd's own set-up), still
# running half a second later; TRIALS lists the delays as sent.
sighup_trials() {
  local d sent at
  TRIALS=()
  nap 0  # opens the pipe now, not inside a timed delay
  for d in 0.01 0.1 5; do
    start_unit "$1" "$2" || return
    if ! wait_exec "$PID" "$COMM" "$COMM_NEXT"; then
      fail "$1 did not run $COMM"
      stop "$PID"
      continue
    fi
    nap "$d"
    at=$EPOCHREALTIME
    kill -HUP "$PID"
    sent=$(awk -v a="$EXEC_AT" -v b="$at" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
    sleep 0.5
    if alive "$PID"; then
      TRIALS+=("${sent}ms")
      [ "$1" = driftwatch-collector.service ] && [ "$d" = 5 ] &&
        check "the collector answers after SIGHUP at ${sent}ms" healthy
      stop "$PID"
    else
      wait "$PID" 2>/dev/null
      fail "$1 died of SIGHUP ${sent}ms after its start (status $?)"
    fi
  done
}
case_sighup() {
  needs sighup collector || return
  local c a
  stop "$AGENT_PID"
  AGENT_PID=
  stop "$COLLECTOR_PID"
  COLLECTOR_PID=
  sighup_trials driftwatch-collector.service collector-sighup.log
  c="${TRIALS[*]}"
  start_unit driftwatch-collector.service collector.log && COLLECTOR_PID=$PID
  check "the collector is back" wait_for 100 0.1 healthy
  sighup_trials driftwatch-agent.service agent-sighup.log
  a="${TRIALS[*]}"
  verdict sighup "collector alive after SIGHUP at ${c// /, }; agent at ${a// /, }" \
    "after its start (as the units start them, through nohup)"
}

# --- (e) upgrade ----------------------------------------------------------------
set_key() {  # KEY VALUE in ROOT's agent.yaml, which keeps its version line
  local f="$ROOT/etc/driftwatch/agent.yaml"
  grep -q '^version:' "$f" || printf 'version: 1\n' >>"$f"
  if grep -q "^$1:" "$f"; then
    sed -i "s/^$1:.*/$1: $2/" "$f"
  else
    printf '%s: %s\n' "$1" "$2" >>"$f"
  fi
}
case_upgrade() {
  needs upgrade enroll-report || return
  local sum list0 n id g r r0 _v
  # The next check right after the restart, then every 20 minutes.
  set_key interval 20m
  set_key jitter 0s
  sum=$(sha256sum <"$ROOT/etc/driftwatch/agent.yaml")
  list0=$(in_root driftwatch baseline list)
  read -r n id g r0 _v < <(host_line)
  stop "$COLLECTOR_PID"
  COLLECTOR_PID=
  install_debs /tmp/debs-upgrade "$UPGRADE_VERSION"
  check "the edited agent.yaml is kept" test "$(sha256sum <"$ROOT/etc/driftwatch/agent.yaml")" = "$sum"
  check "no agent.yaml.dpkg-* left" \
    test -z "$(ls "$ROOT"/etc/driftwatch/agent.yaml.dpkg-* 2>/dev/null)"
  check "the agent store is kept" test -s "$ROOT/var/lib/driftwatch/agent.db"
  check "the agent store passes sqlite3's integrity check" test \
    "$(in_root sqlite3 /var/lib/driftwatch/agent.db 'PRAGMA integrity_check')" = ok
  check "the baselines are kept" test "$(in_root driftwatch baseline list)" = "$list0"
  check "the collector's state is driftwatch's" owned_by_driftwatch
  start_unit driftwatch-collector.service collector.log && COLLECTOR_PID=$PID
  check "the upgraded collector answers" wait_for 100 0.1 healthy
  start_unit driftwatch-agent.service agent.log && AGENT_PID=$PID
  check "a new report of host $HOST_ID within 120 s" wait_for 480 0.25 has_report "$r0" "$HOST_ID"
  read -r n id g r _v < <(host_line)
  check "still one host, $HOST_ID (hosts $n, id $id)" test "$n" = 1 -a "$id" = "$HOST_ID"
  verdict upgrade "$VERSION -> $UPGRADE_VERSION (built in ${UPGRADE_BUILD_SECONDS}s, installed in" \
    "${INSTALL_SECONDS}s): edited agent.yaml, agent store, baselines and enrollment kept;" \
    "host $id reports $r0 -> $r"
}

# --- (f) purge --------------------------------------------------------------
case_purge() {
  needs purge install || return
  local d left
  stop "$AGENT_PID"
  AGENT_PID=
  stop "$COLLECTOR_PID"
  COLLECTOR_PID=
  check "apt-get purge -y driftwatch driftwatch-collector" \
    in_root apt-get purge -y driftwatch driftwatch-collector
  for d in /var/lib/driftwatch /var/lib/driftwatch-collector /etc/driftwatch; do
    left=$(cd "$ROOT" && find ".$d" 2>/dev/null | head -5 | tr '\n' ' ')
    check "$d is gone${left:+ (left: $left)}" test ! -e "$ROOT$d"
  done
  verdict purge "/var/lib/driftwatch, /var/lib/driftwatch-collector and /etc/driftwatch removed"
}
