#!/usr/bin/env python3
"""Finds a marker in the memory of running processes and says, for every
copy, whether the page it sits in is locked (VmFlags "lo" in
/proc/PID/smaps).  Reads /proc/PID/mem, so it needs root.

    hush-memscan.py [--expect] [--quiet] [--hex] MARKER PID...

With --hex, MARKER is hex for the bytes to look for (a key, say).

Prints one line per copy: "PID ADDRESS locked|UNLOCKED MAPPING".  Exit
status: 0 when every copy is locked (and, with --expect, at least one was
found), 1 when some copy is not locked, 2 when --expect found none, 3 on a
usage error or a process that cannot be read.
"""
import re
import sys

# Mappings no hushd buffer can be in and that are unsafe or pointless to
# read (the vsyscall page faults on read; vvar is the kernel's).
SKIP_NAMES = ("[vvar]", "[vsyscall]", "[vdso]")
# A sanitizer's shadow is terabytes of reserved address space.
MAX_MAPPING = 256 * 1024 * 1024
HEAD = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$")


def mappings(pid):
    maps, cur = [], None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            m = HEAD.match(line)
            if m:
                cur = {"lo": int(m.group(1), 16), "hi": int(m.group(2), 16),
                       "perms": m.group(3), "name": m.group(4).strip(),
                       "locked": False}
                maps.append(cur)
            elif line.startswith("VmFlags:") and cur is not None:
                cur["locked"] = " lo" in line
    return maps


def scan(pid, marker):
    hits = []
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for m in mappings(pid):
            if "r" not in m["perms"] or m["name"] in SKIP_NAMES:
                continue
            size = m["hi"] - m["lo"]
            if size > MAX_MAPPING:
                print(f"# {pid}: skipped {size >> 20} MiB mapping {m['name']!r}",
                      file=sys.stderr)
                continue
            try:
                mem.seek(m["lo"])
                data = mem.read(size)
            except OSError:
                continue
            start = 0
            while True:
                i = data.find(marker, start)
                if i < 0:
                    break
                hits.append((m["lo"] + i, m["locked"], m["name"] or "[anon]"))
                start = i + 1
    return hits


def main(argv):
    expect = quiet = hexa = False
    args = []
    for a in argv[1:]:
        if a == "--expect":
            expect = True
        elif a == "--quiet":
            quiet = True
        elif a == "--hex":
            hexa = True
        else:
            args.append(a)
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 3
    try:
        marker = bytes.fromhex(args[0]) if hexa else args[0].encode()
    except ValueError:
        print("hush-memscan: --hex: the marker is not hex", file=sys.stderr)
        return 3
    if len(marker) < 8:
        print("hush-memscan: a marker under 8 bytes would match by chance",
              file=sys.stderr)
        return 3
    total = unlocked = 0
    for pid in args[1:]:
        try:
            hits = scan(pid, marker)
        except OSError as e:
            print(f"hush-memscan: cannot read process {pid}: {e}", file=sys.stderr)
            return 3
        for addr, locked, name in hits:
            total += 1
            if not locked:
                unlocked += 1
            if not quiet or not locked:
                print(f"{pid} {addr:#x} {'locked' if locked else 'UNLOCKED'} {name}")
    print(f"# {total} copies, {unlocked} not locked")
    if unlocked:
        return 1
    if expect and total == 0:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
