#!/usr/bin/env python3
"""Counts test cases across a meson test run and prints the verdict line.

Each meson test that is a GoogleTest binary left an XML report in the results
directory: its test cases are counted one by one. A meson test without a
report (a script, or a binary that crashed before writing it) counts as one
case with meson's own result. Lines "NAME PASS|FAIL|SKIP ..." in
extra.txt (from scripts/test.d/*.run hooks) count one case each. Prints 'N passed, N failed, N skipped' last and
exits 1 when anything failed.
"""
import json
import os
import sys
import xml.etree.ElementTree as ET


def gtest_counts(path):
    passed = failed = skipped = 0
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        if case.find("failure") is not None:
            failed += 1
        elif case.get("result") == "skipped" or case.find("skipped") is not None \
                or case.get("status") == "notrun":
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def main():
    log, results = sys.argv[1], sys.argv[2]
    passed = failed = skipped = 0
    seen_xml = set()
    with open(log) as f:
        tests = [json.loads(line) for line in f if line.strip()]
    for t in tests:
        cmd = t.get("command") or t.get("cmd") or []
        exe = os.path.basename(cmd[0]) if cmd else ""
        xml = os.path.join(results, exe + ".xml")
        result = t.get("result", "")
        if exe and os.path.exists(xml) and xml not in seen_xml:
            seen_xml.add(xml)
            p, f_, s = gtest_counts(xml)
            # A binary that failed without a failing case (crash at exit,
            # leak report) still fails.
            if result not in ("OK", "EXPECTEDFAIL", "SKIP") and f_ == 0:
                f_ = 1
            passed, failed, skipped = passed + p, failed + f_, skipped + s
        elif result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
    # Cases reported by scripts/test.d/*.run hooks: "NAME PASS|FAIL|SKIP ...".
    extra = os.path.join(results, "extra.txt")
    if os.path.exists(extra):
        with open(extra) as f:
            for line in f:
                parts = line.split()
                if len(parts) < 2:
                    continue
                if parts[1] == "PASS":
                    passed += 1
                elif parts[1] == "FAIL":
                    failed += 1
                    print("failed: " + line.strip())
                elif parts[1] == "SKIP":
                    skipped += 1
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
