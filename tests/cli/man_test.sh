#!/usr/bin/env bash
# The manual pages pass groff's man checks without a warning and describe
# every command the program's own --help lists, at every level.
# Usage: man_test.sh PAGE PROGRAM [PAGE PROGRAM]...
set -uo pipefail
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# The commands `PROGRAM WORDS... --help` lists under "Subcommands:".
subcommands() {
  "$@" --help | sed -n '/^Subcommands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }'
}

# Checks that TEXT (the rendered page) has a section for PROGRAM WORDS...
# and for each command below it.
walk() {
  local text=$1; shift
  local sub
  for sub in $(subcommands "$@"); do
    local name
    name=$(echo "$(basename "$1") ${*:2} $sub" | tr -s ' ')
    if grep -qF -- "$name" <<<"$text"; then
      echo "ok: $name"
    else
      fail "$name is not in the manual page"
    fi
    walk "$text" "$@" "$sub"
  done
}

while [ $# -ge 2 ]; do
  page=$1 program=$2; shift 2
  warnings=$(groff -man -ww -z "$page" 2>&1)
  rc=$?
  [ "$rc" -eq 0 ] || fail "groff -man -ww -z $page exits $rc"
  [ -z "$warnings" ] || fail "groff -man -ww -z $page warns: $warnings"
  text=$(groff -man -Tutf8 -rLL=300n -P-cbou "$page" 2>/dev/null | sed 's/‐/-/g')
  for section in NAME SYNOPSIS DESCRIPTION OPTIONS COMMANDS "EXIT STATUS" "SEE ALSO"; do
    grep -qx "$section" <<<"$text" || fail "$page has no $section section"
  done
  count=$(subcommands "$program" | wc -l)
  [ "$count" -ge 4 ] || fail "$program --help lists only $count commands"
  walk "$text" "$program"
done
if [ "$fails" -gt 0 ]; then
  echo "$fails failure(s)"
  exit 1
fi
