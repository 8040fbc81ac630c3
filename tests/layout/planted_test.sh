#!/usr/bin/env bash
# check-layout must fail on a planted back edge: a copy of the sources with
# core including cli, agent including container, and production code
# including a test helper, gives exactly those three breaches.
set -euo pipefail
SRC="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for d in core rules packages agent container report cli collector tests/testing; do
  mkdir -p "$work/$d"
  cp -r "$SRC/$d/." "$work/$d/"
done
python3 "$SRC/scripts/check-layout" "$work" >"$work/clean.txt" ||
  { echo "the unchanged copy already breaks the rule:"; cat "$work/clean.txt"; exit 1; }
echo '#include "cli/commands.h"' >>"$work/core/status.cc"
echo '#include "container/launcher.h"' >>"$work/agent/check.cc"
echo '#include "tests/testing/temp_tree.h"' >>"$work/collector/api.cc"
if python3 "$SRC/scripts/check-layout" "$work" >"$work/out.txt"; then
  echo "check-layout passed a tree with back edges:"; cat "$work/out.txt"; exit 1
fi
sed "s#$work/##; s#$work#TREE#" "$work/out.txt" >"$work/got.txt"
lines() { wc -l <"$1"; }
cat >"$work/want.txt" <<WANT
agent/check.cc:$(lines "$SRC/agent/check.cc" | awk '{print $1+1}'): agent/ may not include container/launcher.h (agent reaches agent, core, packages, rules)
collector/api.cc:$(lines "$SRC/collector/api.cc" | awk '{print $1+1}'): collector/ may not include tests/testing/temp_tree.h (collector reaches collector, core)
core/status.cc:$(lines "$SRC/core/status.cc" | awk '{print $1+1}'): core/ may not include cli/commands.h (core reaches core)
check-layout: 3 include(s) against the rule in TREE
WANT
diff -u "$work/want.txt" "$work/got.txt"
echo "planted back edges found: $(grep -c 'may not include' "$work/got.txt")"
