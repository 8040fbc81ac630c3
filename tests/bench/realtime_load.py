#!/usr/bin/env python3
"""Write loads for tests/bench/realtime, and what they measure.

realtime_load.py latency DIR LOGICAL COUNT SPACING_MS URL TOKEN_FILE HOST POLL_MS
    Creates COUNT files DIR/fNNNNN, SPACING_MS apart, recording when each
    write started (before the open); meanwhile polls GET URL/api/v1/drift?host=HOST every
    POLL_MS (newest first: events delivered at once land on the first page;
    older pages are followed by next_cursor until a seen event) and records
    when each file's event (path LOGICAL/fNNNNN) first appears. Prints
    "stored p50 p99 max agent p50 p99 max seen" in milliseconds: stored is
    first-seen time minus write time, agent the event's `time` minus write
    time. Stops after COUNT events or COUNT * SPACING_MS + 30 s.

realtime_load.py storm DIR FILES EVENTS SECONDS
    Two writer processes, each over half of FILES existing files
    DIR/sNNNNN: rounds of open(O_APPEND), ftruncate(0), write, close, 3
    filesystem events each (modify, modify, close after writing), until
    EVENTS events in all or SECONDS. Prints "events seconds".
"""
import calendar
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse


def parse_rfc3339_ns(text):
    # "2026-12-05T05:11:02.123456789Z"
    date, frac = text.rstrip("Z").split(".") if "." in text else (text.rstrip("Z"), "0")
    t = time.strptime(date, "%Y-%m-%dT%H:%M:%S")

    return calendar.timegm(t) * 1_000_000_000 + int(frac.ljust(9, "0")[:9])


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def latency(args):
    root, logical, count, spacing_ms, url, token_file, host, poll_ms = args
    count, spacing_ms, poll_ms = int(count), float(spacing_ms), float(poll_ms)
    token = open(token_file).read().strip()
    u = urllib.parse.urlparse(url)
    written = {}
    seen = {}
    agent = {}

    def writer():
        t0 = time.monotonic()
        for i in range(count):
            delay = t0 + i * spacing_ms / 1000.0 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            name = "f%05d" % i
            written["%s/%s" % (logical, name)] = time.time_ns()
            with open(os.path.join(root, name), "w") as f:
                f.write("change %d\n" % i)

    w = threading.Thread(target=writer)
    w.start()
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    headers = {"Authorization": "Bearer " + token}
    deadline = time.monotonic() + count * spacing_ms / 1000.0 + 30
    seen_ids = set()
    while len(seen) < count and time.monotonic() < deadline:
        started = time.monotonic()
        cursor = None
        for _ in range(50):  # pages per poll
            q = {"host": host, "limit": "200"}
            if cursor:
                q["cursor"] = cursor
            conn.request("GET", "/api/v1/drift?" + urllib.parse.urlencode(q), headers=headers)
            r = conn.getresponse()
            body = r.read()
            now = time.time_ns()
            if r.status != 200:
                raise SystemExit("GET /api/v1/drift: %d %s" % (r.status, body[:200]))
            page = json.loads(body)
            fresh = False
            for e in page["events"]:
                if e["id"] in seen_ids:
                    continue
                seen_ids.add(e["id"])
                fresh = True
                p = e["path"]
                if p not in seen:
                    seen[p] = now
                    if e.get("time"):
                        agent[p] = parse_rfc3339_ns(e["time"])
            cursor = page.get("next_cursor")
            if not fresh or not cursor:
                break
        rest = poll_ms / 1000.0 - (time.monotonic() - started)
        if rest > 0:
            time.sleep(rest)
    w.join()
    stored = [(seen[p] - t) / 1e6 for p, t in written.items() if p in seen]
    own = [(agent[p] - t) / 1e6 for p, t in written.items() if p in agent]
    print("stored %.1f %.1f %.1f agent %.1f %.1f %.1f seen %d" % (
        pct(stored, 50), pct(stored, 99), max(stored or [float("nan")]),
        pct(own, 50), pct(own, 99), max(own or [float("nan")]), len(stored)))


def storm_writer(paths, events, end, out):
    made = 0
    i = 0
    while made < events:
        if i % 256 == 0 and time.monotonic() >= end:
            break
        fd = os.open(paths[i % len(paths)], os.O_WRONLY | os.O_APPEND)
        os.ftruncate(fd, 0)
        os.write(fd, b"storm %d\n" % i)
        os.close(fd)
        made += 3
        i += 1
    os.write(out, b"%d\n" % made)


def storm(args):
    root, files, events, seconds = args
    files, events, seconds = int(files), int(events), float(seconds)
    paths = [os.path.join(root, "s%05d" % i) for i in range(files)]
    start = time.monotonic()
    end = start + seconds
    r, w = os.pipe()
    children = []
    for half in (paths[0::2], paths[1::2]):
        pid = os.fork()
        if pid == 0:
            os.close(r)
            storm_writer(half, (events + 1) // 2, end, w)
            os._exit(0)
        children.append(pid)
    os.close(w)
    for pid in children:
        os.waitpid(pid, 0)
    elapsed = time.monotonic() - start
    with os.fdopen(r) as f:
        made = sum(int(line) for line in f.read().split())
    print("%d %.2f" % (made, elapsed))


def main():
    if len(sys.argv) == 10 and sys.argv[1] == "latency":
        latency(sys.argv[2:])
    elif len(sys.argv) == 6 and sys.argv[1] == "storm":
        storm(sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
