#!/usr/bin/env bash
# The generated bash completion, sourced in bash, completes commands,
# subcommands, flags and the words of flags that take one of a few.
# Usage: completion_test.sh DRIFTWATCH_COMPLETION COLLECTOR_COMPLETION
set -uo pipefail
# shellcheck source=/dev/null
source "$1"
# shellcheck source=/dev/null
source "$2"
fails=0

# expect "WANTED COMPLETIONS" WORD... : completes the last WORD.
expect() {
  local want=$1; shift
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  local fn
  fn=$(complete -p "$1" | awk '{ print $3 }')
  "$fn"
  local got="${COMPREPLY[*]}"
  if [ "$got" = "$want" ]; then
    echo "ok: $* -> $got"
  else
    echo "FAIL: $* -> '$got', expected '$want'"
    fails=$((fails + 1))
  fi
}

expect "baseline" driftwatch ba
expect "check container containers" driftwatch c
expect "--format --full" driftwatch check --f
expect "text json" driftwatch check --format ""
expect "high" driftwatch check --min-severity h
expect "create" driftwatch baseline cr
expect "--reason --rules --root" driftwatch baseline create --db /tmp/x --r
expect "import ls" driftwatch container image ""
expect "verify" driftwatch packages v
expect "--limit" driftwatch history --path '/etc/**' --l
expect "token" driftwatch-collector t
expect "create" driftwatch-collector token c
expect "--store --store-pool" driftwatch-collector --sto
expect "enroll read admin reenroll" driftwatch-collector token create --role ""
expect "agent" driftwatch-collector package ""
# Only what the command takes: no serve flag after a command.
expect "" driftwatch-collector migrate --li

if [ "$fails" -gt 0 ]; then
  echo "$fails failure(s)"
  exit 1
fi
