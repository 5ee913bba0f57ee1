#!/usr/bin/env python3
"""Time a grant removed from, and added back to, a running container.

    live_update.py --pid PID --service SVC --secret NAME --ref REF --runs N \
        -- HUSHCTL-ARGV...

PID is the container's init.  /proc/PID/root is that process's root
directory, and a path walked from it crosses the mounts of the container's
mount namespace, so /proc/PID/root/run/secrets/NAME is the file as the
container sees it, without entering the namespace.

One run: `HUSHCTL-ARGV service update SVC --secret-rm NAME` is started,
and the loop below watches both that command and the file until the
command has exited and the file can no longer be opened; then the same
with `--secret-add REF` until the file can be opened again.  The loop
naps POLL_S between looks so that it leaves the daemon a core on a small
machine; that nap is the resolution of the figures.

Output: one line each for the removal and the addition, with the median,
minimum and maximum over the runs of the time from the command's start
to the change in the container, and the median of the time from the
command's exit to the change (negative: the container saw the change
before hushctl returned).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

POLL_S = 0.0001
TIMEOUT_S = 10.0


def visible(path):
    # open, not stat: what counts is whether the container could read it
    try:
        with open(path, "rb"):
            return True
    except FileNotFoundError:
        return False


def change(argv, path, want, pid):
    """Run argv; return (start->change, exit->change) in ms once visible(path) == want."""
    cmd = "hushctl " + " ".join(argv[-5:])
    t0 = time.monotonic_ns()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    t_exit = t_seen = None
    while t_exit is None or t_seen is None:
        now = time.monotonic_ns()
        if t_seen is None and visible(path) == want:
            t_seen = now
        if t_exit is None and p.poll() is not None:
            t_exit = time.monotonic_ns()
            if p.returncode != 0:
                err = p.stderr.read().decode(errors="replace").strip()
                sys.exit(f"bench: {cmd}: exit status {p.returncode}: {err}")
        if (now - t0) / 1e9 > TIMEOUT_S:
            p.kill()
            what = "still there" if not want else "still missing"
            sys.exit(f"bench: {path} {what} {TIMEOUT_S:.0f} s after '{cmd}'")
        if not os.path.exists(f"/proc/{pid}"):
            sys.exit(f"bench: the container's process {pid} is gone")
        time.sleep(POLL_S)
    return (t_seen - t0) / 1e6, (t_seen - t_exit) / 1e6


def summary(what, rows):
    start = [r[0] for r in rows]
    ret = [r[1] for r in rows]
    print(f"{what} {statistics.median(start):.1f} {min(start):.1f} {max(start):.1f} "
          f"{statistics.median(ret):+.1f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--service", required=True)
    ap.add_argument("--secret", required=True, help="the secret's name, also its file name")
    ap.add_argument("--ref", required=True, help="the grant to add back, as --secret-add takes it")
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("hushctl", nargs="+")
    o = ap.parse_args()

    path = f"/proc/{o.pid}/root/run/secrets/{o.secret}"
    if not visible(path):
        sys.exit(f"bench: {path} is not there before the first run")
    rm = o.hushctl + ["service", "update", o.service, "--secret-rm", o.secret]
    add = o.hushctl + ["service", "update", o.service, "--secret-add", o.ref]
    removed, added = [], []
    for _ in range(o.runs):
        removed.append(change(rm, path, False, o.pid))
        added.append(change(add, path, True, o.pid))
        time.sleep(0.05)
    summary("removed", removed)
    summary("added", added)
    return 0


if __name__ == "__main__":
    sys.exit(main())
