#!/usr/bin/env python3
"""Builds a reproducible synthetic tree for the scan benchmark.

make_tree.py DIR FILES DIRS MIN_BYTES MAX_BYTES [SEED]

Files of random bytes (sizes uniform in [MIN_BYTES, MAX_BYTES]) spread over
DIRS directories two levels deep. The same arguments always give the same
tree. Does nothing when DIR/.complete says the same tree is already there.
"""
import os
import random
import sys


def main():
    root, files, dirs, lo, hi = sys.argv[1], *map(int, sys.argv[2:6])
    seed = int(sys.argv[6]) if len(sys.argv) > 6 else 20261127
    stamp = f"{files} {dirs} {lo} {hi} {seed}\n"
    marker = os.path.join(root, ".complete")
    if os.path.exists(marker) and open(marker).read() == stamp:
        return
    rng = random.Random(seed)
    top = max(1, int(dirs ** 0.5))
    paths = []
    for i in range(dirs):
        d = os.path.join(root, f"d{i % top:03d}", f"s{i:05d}")
        os.makedirs(d, exist_ok=True)
        paths.append(d)
    for i in range(files):
        size = rng.randint(lo, hi)
        with open(os.path.join(paths[i % dirs], f"f{i:07d}.bin"), "wb") as f:
            f.write(rng.randbytes(size))
    with open(marker, "w") as f:
        f.write(stamp)


if __name__ == "__main__":
    main()
