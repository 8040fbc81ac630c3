#!/usr/bin/env python3
"""Tests of tests/bench/report.py: RESULT lines in, README region out."""

import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPORT = os.path.join(HERE, "report.py")
BEGIN = "<!-- bench-table:begin (tests/bench/run rewrites this part) -->"
END = "<!-- bench-table:end -->"


class ReportTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def run_report(self, *args):
        return subprocess.run([sys.executable, REPORT, *args], capture_output=True, text=True,
                              check=False)

    def test_rewrites_only_the_region(self):
        log = self.write("a.log", "noise\nRESULT scan_base_synth_s 3.0 s\n"
                                  "1/1 fleet  RESULT find_synth_s 1.5 s\n"
                                  "RESULT scan_base_synth_s 2.0 s\n"
                                  "RESULT unknown_key 7 things\n"
                                  "the RESULT lines below\n")
        readme = self.write("README.md", f"# title\nbefore\n{BEGIN}\nold table\n{END}\nafter\n")
        r = self.run_report("--readme", readme, log)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(readme, encoding="utf-8") as f:
            text = f.read()
        head, rest = text.split(BEGIN)
        region, tail = rest.split(END)
        self.assertEqual(head, "# title\nbefore\n")
        self.assertEqual(tail, "\nafter\n")
        self.assertNotIn("old table", region)
        # The last value of a key wins; the ratio is against the first reference.
        self.assertIn("| baseline, synthetic 200k small files | 2 s | 1.5 s (find_synth_s) | "
                      "1.33× | <= 1.5× | met |", region)
        self.assertIn("| unchanged check, synthetic | – | 1.5 s (find_synth_s) |  | <= 0.7× |  |",
                      region)
        self.assertIn("| `unknown_key` | 7 things |", region)
        self.assertIn("ignored (not a number): the RESULT lines below", r.stderr)

    def test_goal_not_met(self):
        log = self.write("a.log", "RESULT ingest_sqlite_rps 1500 reports/s\n"
                                  "RESULT ingest_sqlite_p99_ms 49.9 ms\n")
        r = self.run_report(log)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("| collector ingest, SQLite, 16 agents | 1,500 reports/s |  |  | >= 2000 | "
                      "not met |", r.stdout)
        self.assertIn("| collector ingest, SQLite, p99 | 49.9 ms |  |  | < 50 | met |", r.stdout)

    def test_status_names_what_did_not_run(self):
        status = self.write("status", "start load=1.0 1.0 1.0 quick=1 commit=abc\n"
                                      "scan exit=0 seconds=10 load=1\n"
                                      "fleet exit=1 seconds=5 load=1\n"
                                      "container not run: needs root\n"
                                      "end load=2.0 2.0 2.0\n")
        r = self.run_report("--quick", "--status", status)
        self.assertEqual(r.returncode, 0, r.stderr)
        first = r.stdout.splitlines()[0]
        self.assertIn("`tests/bench/run --quick`", first)
        self.assertIn("fleet exit=1", first)
        self.assertIn("container not run: needs root", first)
        self.assertNotIn("scan exit=0", first)

    def test_header_names_the_fleet_options(self):
        r = self.run_report("--quick", "--fleet-args", "--hosts 100000 --seconds 300")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('`tests/bench/run --quick --fleet-args "--hosts 100000 --seconds 300"`',
                      r.stdout.splitlines()[0])

    def test_readme_without_region_is_left_alone(self):
        log = self.write("a.log", "RESULT find_synth_s 1.5 s\n")
        readme = self.write("README.md", "# title\nno markers\n")
        r = self.run_report("--readme", readme, log)
        self.assertEqual(r.returncode, 1)
        with open(readme, encoding="utf-8") as f:
            self.assertEqual(f.read(), "# title\nno markers\n")
        self.assertIn("no " + BEGIN, r.stderr)


if __name__ == "__main__":
    unittest.main()
