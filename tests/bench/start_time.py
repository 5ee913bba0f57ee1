#!/usr/bin/env python3
"""Time container runs with and without hush's hook; print one table row per pair.

    start_time.py --runtime NAME --runs N --id ID \
        --pair SECRETS PLAIN_BUNDLE HOOK_BUNDLE ... -- RUNTIME-ARGV...

Each run is `RUNTIME-ARGV run --bundle B ID` timed on the monotonic clock
from the moment it is started until it has exited: create, the
createRuntime hook, start, the container's own command, its exit, the
poststop hook and the runtime's cleanup.  `RUNTIME-ARGV delete -f ID`
follows, untimed.  The bundles of all pairs are run round-robin, in a
different order each round, so that a slow spell of the machine is spread
over every figure rather than landing on one.

A run that exits non-zero ends the benchmark with the runtime's stderr:
a figure for a container that did not start would be worthless.

Output, one line per pair, in milliseconds (the minimum shows how much of
a median is the machine's noise):
    RUNTIME SECRETS PLAIN_MEDIAN PLAIN_MIN HOOK_MEDIAN HOOK_MIN MEDIAN_DIFFERENCE
"""
import argparse
import random
import statistics
import subprocess
import sys
import time


def run_once(argv, bundle, cid):
    t0 = time.monotonic_ns()
    p = subprocess.run(argv + ["run", "--bundle", bundle, cid],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    t1 = time.monotonic_ns()
    subprocess.run(argv + ["delete", "-f", cid], stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if p.returncode != 0:
        err = p.stderr.decode(errors="replace").strip()
        sys.exit(f"bench: {bundle}: the container exited with status {p.returncode}: {err}")
    return (t1 - t0) / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runtime", required=True, help="name printed in the table")
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--id", required=True, help="container id, reused for every run")
    ap.add_argument("--pair", nargs=3, action="append", required=True,
                    metavar=("SECRETS", "PLAIN", "HOOK"))
    ap.add_argument("argv", nargs="+", help="the runtime's command line")
    o = ap.parse_args()

    cases = []
    for n, plain, hook in o.pair:
        cases += [(n, "plain", plain), (n, "hook", hook)]
    times = {(n, kind): [] for n, kind, _ in cases}
    rng = random.Random(1)
    for _ in range(o.runs):
        order = cases[:]
        rng.shuffle(order)
        for n, kind, bundle in order:
            times[(n, kind)].append(run_once(o.argv, bundle, o.id))

    for n, _, _ in o.pair:
        plain, hook = times[(n, "plain")], times[(n, "hook")]
        pm, hm = statistics.median(plain), statistics.median(hook)
        print(f"{o.runtime} {n} {pm:.1f} {min(plain):.1f} {hm:.1f} {min(hook):.1f} {hm - pm:+.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
