#!/usr/bin/env python3
"""Builds the README performance table from benchmark output.

usage: tests/bench/report.py [--readme README.md] [--status FILE] [--quick]
                             [--fleet-args ARGS] LOG...

Reads every `RESULT <key> <value> <unit>` line of the logs (a key seen twice
keeps its last value), prints the table, and with --readme rewrites the part
of that file between the BEGIN and END markers below (nothing else). Keys
that are missing show as "–"; keys the table does not name are listed under
it, so that nothing a benchmark printed is lost. docs/benchmarks.md lists
the keys each benchmark prints.
"""

import argparse
import os
import re
import sys

BEGIN = "<!-- bench-table:begin (tests/bench/run rewrites this part) -->"
END = "<!-- bench-table:end -->"
# At the start of a line, or after a runner's prefix ("1/2 fleet  ", a
# timestamp); the key is a word and the value must be a number.
RESULT = re.compile(r"(?:^|\s)RESULT\s+([A-Za-z0-9_]+)\s+(\S+)\s*(.*?)\s*$")

# One row per line: (work, driftwatch key, reference keys, ratio of
# driftwatch to the first reference, goal). A goal is ("ratio<=", x) on
# that ratio, ("<=", x) / (">=", x) on the driftwatch figure, or None.
ROWS = [
    ("baseline, synthetic 200k small files", "scan_base_synth_s",
     ["find_synth_s", "aide_init_synth_s", "xxhsum_synth_s"], ("ratio<=", 1.5)),
    ("baseline /usr", "scan_base_usr_s", ["xxhsum_usr_s", "aide_init_usr_s", "find_usr_s"],
     ("ratio<=", 0.6)),
    ("unchanged check, synthetic", "scan_check_synth_s", ["find_synth_s"], ("ratio<=", 0.7)),
    ("unchanged check, /usr", "scan_check_usr_s", ["find_usr_s"], ("ratio<=", 0.7)),
    ("`packages verify`, cold", "pkg_verify_cold_s", ["dpkg_verify_s"], ("ratio<=", 0.5)),
    ("`packages verify`, warm", "pkg_verify_warm_s", ["dpkg_verify_s"], None),
    ("`packages verify`, re-verify", "pkg_verify_reverify_s", ["dpkg_verify_s"],
     ("ratio<=", 0.05)),
    ("`packages verify`, CPU", "pkg_verify_cpu_s", ["dpkg_verify_cpu_s"], None),
    ("`packages verify`, peak RSS", "pkg_verify_rss_mib", ["dpkg_verify_rss_mib"], ("<=", 40)),
    ("container run --rm /bin/true", "container_run_ms", ["bwrap_run_ms", "crun_run_ms"],
     ("ratio<=", 0.9)),
    ("container run, CPU", "container_run_cpu_ms", ["bwrap_run_cpu_ms"], ("ratio<=", 1.0)),
    ("collector ingest, SQLite, 16 agents", "ingest_sqlite_rps", [], (">=", 2000)),
    ("collector ingest, SQLite, p99", "ingest_sqlite_p99_ms", [], ("<", 50)),
    ("PostgreSQL, 3 collectors vs 1", "ingest_pg3_rps", ["ingest_pg1_rps"], ("ratio>=", 1.0)),
    ("PostgreSQL ingest lock-wait share", "ingest_pg_lock_wait_pct", [], None),
    ("fleet, SQLite x1, 333 reports/s offered", "fleet_sqlite_r333_rps", [], (">=", 330)),
    ("fleet, SQLite x1, 1000 reports/s offered", "fleet_sqlite_r1000_rps", [], (">=", 990)),
    ("fleet, SQLite x1, ingest p99 at 1000/s (p50 beside)", "fleet_sqlite_r1000_p99_ms",
     ["fleet_sqlite_r1000_p50_ms"], None),
    ("fleet, PostgreSQL x3, 333 reports/s offered", "fleet_pg3_r333_rps", [], (">=", 330)),
    ("fleet, PostgreSQL x3, 1000 reports/s offered", "fleet_pg3_r1000_rps", [], (">=", 990)),
    ("fleet, PostgreSQL x3, ingest p99 at 1000/s (p50 beside)", "fleet_pg3_r1000_p99_ms",
     ["fleet_pg3_r1000_p50_ms"], None),
    ("fleet, `/drift` p99 under load (SQLite / PostgreSQL)", "fleet_sqlite_drift_p99_ms",
     ["fleet_pg3_drift_p99_ms"], None),
    ("fleet, `/fleet/summary` p99 under load (SQLite / PostgreSQL)",
     "fleet_sqlite_summary_p99_ms", ["fleet_pg3_summary_p99_ms"], None),
    ("fleet, collector peak RSS (SQLite / PostgreSQL)", "fleet_sqlite_rss_mib",
     ["fleet_pg3_rss_mib"], None),
    ("fleet, storage per host per day (SQLite / PostgreSQL)", "fleet_sqlite_kib_host_day",
     ["fleet_pg3_kib_host_day"], None),
    ("history, events in PostgreSQL", "fleet_hist_events", ["fleet_hist_db_gib"], None),
    ("history, `/drift` latest page", "fleet_hist_latest_ms", [], None),
    ("history, `/drift?host=`", "fleet_hist_host_ms", [], None),
    ("history, `/drift?group=&severity=critical`", "fleet_hist_group_critical_ms", [], None),
    ("history, `/drift?path=/etc/ssh/*`", "fleet_hist_path_common_ms", [], None),
    ("history, `/drift?path=` rare glob", "fleet_hist_path_rare_ms", [], None),
    ("history, `/drift?kind=removed&since=` a day", "fleet_hist_removed_day_ms", [], None),
    ("fleet trees, tree objects stored (shared / per host)", "trees_store_dedup_mib",
     ["trees_store_nodedup_mib"], None),
    ("fleet trees, bytes sent per host (first / later report)", "trees_first_bytes_per_host",
     ["trees_later_bytes_per_host"], None),
    ("fleet trees, `/fleet/outliers` p99", "outliers_p99_ms", [], None),
    ("fleet trees, `/fleet/compare` p50", "compare_p50_ms", [], None),
]
# Rows without a ratio goal whose ratio still means something.
RATIO_ALSO = {"pkg_verify_warm_s", "pkg_verify_cpu_s", "trees_store_dedup_mib"}


def read_results(paths):
    values = {}
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    m = RESULT.search(line.rstrip("\n"))
                    if not m:
                        continue
                    try:
                        values[m.group(1)] = (float(m.group(2)), m.group(3))
                    except ValueError:
                        print(f"ignored (not a number): {line.strip()}", file=sys.stderr)
        except OSError as e:
            print(f"cannot read {path}: {e}", file=sys.stderr)
    return values


def fmt(v):
    if v is None:
        return "–"
    value, unit = v
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip()


def verdict(goal, mine, ref):
    if goal is None or mine is None:
        return ""
    kind, x = goal
    if kind.startswith("ratio"):
        if ref is None or ref[0] == 0:
            return ""
        value = mine[0] / ref[0]
    else:
        value = mine[0]
    ok = {"<=": value <= x, "<": value < x, ">=": value >= x}[kind.replace("ratio", "")]
    return "met" if ok else "not met"


def table(values, header):
    used = set()
    lines = [header, "",
             "| work | driftwatch | reference | ratio | goal | |",
             "| --- | --- | --- | --- | --- | --- |"]
    for work, key, refs, goal in ROWS:
        mine = values.get(key)
        ref_values = [values.get(r) for r in refs]
        used.add(key)
        used.update(refs)
        ref = ref_values[0] if ref_values else None
        ratio = ""
        compared = (goal and goal[0].startswith("ratio")) or key in RATIO_ALSO
        if compared and mine and ref and ref[0]:
            # Two significant digits at least: 0.054× is not 0.05×.
            r = mine[0] / ref[0]
            ratio = f"{r:.2f}×" if r >= 0.1 else f"{r:.2g}×"
        ref_text = ", ".join(f"{fmt(v)} ({r})" for r, v in zip(refs, ref_values) if v) or (
            "–" if refs else "")
        goal_text = ""
        if goal:
            kind, x = goal
            goal_text = (f"{kind.replace('ratio', '')} {x:g}×" if kind.startswith("ratio")
                         else f"{kind} {x:g}")
        lines.append(f"| {work} | {fmt(mine)} | {ref_text} | {ratio} | {goal_text} | "
                     f"{verdict(goal, mine, ref)} |")
    rest = sorted(k for k in values if k not in used)
    if rest:
        lines += ["", "<details><summary>Every other figure the benchmarks printed</summary>", "",
                  "| key | value |", "| --- | --- |"]
        lines += [f"| `{k}` | {fmt(values[k])} |" for k in rest]
        lines += ["", "</details>"]
    return "\n".join(lines)


def rewrite(readme, text):
    with open(readme, encoding="utf-8") as f:
        old = f.read()
    if BEGIN not in old or END not in old or old.index(BEGIN) > old.index(END):
        print(f"{readme}: no {BEGIN} ... {END} region; left as it is", file=sys.stderr)
        return False
    head, rest = old.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(readme + ".tmp", "w", encoding="utf-8") as f:
        f.write(head + BEGIN + "\n" + text + "\n" + END + tail)
    os.replace(readme + ".tmp", readme)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--readme")
    ap.add_argument("--status")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--fleet-args", default="")
    ap.add_argument("logs", nargs="*")
    a = ap.parse_args()
    values = read_results(a.logs)
    notes = []
    if a.status:
        try:
            with open(a.status, encoding="utf-8") as f:
                notes = [l.strip() for l in f if l.strip()]
        except OSError:
            pass
    start = next((n for n in notes if n.startswith("start ")), "")
    end = next((n for n in notes if n.startswith("end ")), "")
    skipped = [n for n in notes if " not run: " in n or (" exit=" in n and " exit=0 " not in n)]
    command = "tests/bench/run" + (" --quick" if a.quick else "")
    if a.fleet_args:
        command += f' --fleet-args "{a.fleet_args}"'
    header = (f"Measured by `{command}` in one run "
              f"({start.replace('start ', '')}; {end.replace('end ', '')}).")
    if skipped:
        header += " Not measured or failed: " + "; ".join(skipped) + "."
    text = table(values, header)
    print(text)
    if a.readme and not rewrite(a.readme, text):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
