#!/usr/bin/env python3
"""Create many secrets fast, for tests that need a big store (t_big_lists)
or many concurrent writers (t_store_load).

Speaks hushd's control protocol directly (lib/wire.h: a 12-byte header
{u16 version, u16 type, u32 request id, u32 length} and TLV fields
{u16 tag, u32 len, bytes}; lib/msg.h for the numbers) over several
connections at once, one CTL_SECRET_CREATE per connection, as hushctl
does (hushd serves one request per connection); starting one hushctl per
secret costs more than the commit.

A request whose outcome is unknown is sent again, the same bytes (the
same T_REQ_ID, which the store applies once), as lib/ctl_client.c does:
on an "unavailable" or "busy" answer, a connection closed before the
answer, a refused connect, or no answer within REPLY_S; for at most
RETRY_S from its first try.  Any other answer but success is a refusal.
Only a success answer counts as acknowledged: --acked writes exactly
those names, so a test can check that every one of them is stored.

usage: bulk_create.py [options] SOCKET[,SOCKET...] PREFIX FIRST LAST [LABEL...]
creates PREFIX + "%06d" % i for i in FIRST..LAST, value "v<i>", with the
labels; request k goes to socket k mod the number of sockets.
  --connections N   requests in flight at once (default 24)
  --acked FILE      write each acknowledged name, one a line, as it is
                    acknowledged (so a copy taken meanwhile holds exactly
                    the names acknowledged by then)
Exits 0 when every secret was acknowledged; otherwise 1, after saying on
stderr how many were refused (and why) or never answered.  A summary
line "bulk_create: N acknowledged ... in S s (R/s)" always goes to stderr.
"""
import collections
import os
import selectors
import socket
import struct
import sys
import time

WIRE_VERSION = 1
CTL_SECRET_CREATE = 0x0104
MSG_REPLY = 0x8000
MSG_ERROR = 0x7FFF
T_ERRCODE, T_ERRMSG, T_REQ_ID, T_NAME, T_DATA, T_LABEL = 1, 2, 3, 16, 17, 18
HUSH_E_UNAVAIL, HUSH_E_BUSY = 20, 30   # lib/err.h, as positive wire codes
CONNECTIONS = 24
RETRY_S = 20.0      # lib/ctl_client.h CTL_RETRY_MS
PAUSE_S = 0.25      # CTL_PAUSE_MS
REPLY_S = 30.0      # how long one answer may take before we send again


def field(tag, val):
    return struct.pack(">HI", tag, len(val)) + val


def request(name, value, labels):
    body = field(T_REQ_ID, os.urandom(16)) + field(T_NAME, name.encode()) + \
        field(T_DATA, value.encode())
    for lbl in labels:
        body += field(T_LABEL, lbl.encode())
    return struct.pack(">HHII", WIRE_VERSION, CTL_SECRET_CREATE, 1, len(body)) + body


def fields(msg):
    off = 12
    while off + 6 <= len(msg):
        tag, n = struct.unpack(">HI", msg[off:off + 6])
        yield tag, msg[off + 6:off + 6 + n]
        off += 6 + n


def error_code(msg):
    for tag, val in fields(msg):
        if tag == T_ERRCODE and len(val) == 4:
            return struct.unpack(">I", val)[0]
    return 0


def error_text(msg):
    for tag, val in fields(msg):
        if tag == T_ERRMSG:
            return val.decode(errors="replace")
    return "(no detail)"


class Job:
    """One secret: its request bytes, where it goes, since when it is tried."""
    __slots__ = ("name", "req", "sock", "first", "tries")

    def __init__(self, name, req, sock):
        self.name, self.req, self.sock = name, req, sock
        self.first = None
        self.tries = 0


def parse_args(argv):
    opts = {"connections": CONNECTIONS, "acked": None}
    while argv and argv[0].startswith("--"):
        opt = argv.pop(0)
        if opt == "--connections" and argv:
            opts["connections"] = int(argv.pop(0))
        elif opt == "--acked" and argv:
            opts["acked"] = argv.pop(0)
        else:
            sys.exit("bulk_create: unknown option " + opt)
    if len(argv) < 4:
        sys.exit(__doc__)
    return opts, argv[0].split(","), argv[1], int(argv[2]), int(argv[3]), argv[4:]


def main():
    opts, socks, prefix, first, last, labels = parse_args(sys.argv[1:])
    todo = collections.deque(
        Job(prefix + "%06d" % i, request(prefix + "%06d" % i, "v%d" % i, labels),
            socks[(i - first) % len(socks)])
        for i in range(first, last + 1))
    total = len(todo)
    sel = selectors.DefaultSelector()
    inflight = {}              # socket -> (job, sent at)
    waiting = []               # (when, job): retries after a pause
    acked = []
    acked_file = open(opts["acked"], "w", buffering=1) if opts["acked"] else None
    refused = collections.Counter()
    lost = []                  # no answer within RETRY_S: outcome unknown
    retries = collections.Counter()
    t0 = time.monotonic()

    def retry(job, why):
        retries[why] += 1
        if time.monotonic() - job.first > RETRY_S:
            lost.append((job.name, why))
            return
        waiting.append((time.monotonic() + PAUSE_S, job))

    def start(job):
        now = time.monotonic()
        if job.first is None:
            job.first = now
        job.tries += 1
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            s.connect(job.sock)
            s.send(job.req)
        except OSError as e:
            s.close()
            # never sent, or perhaps sent: either way the same bytes go again
            retry(job, "connect/send: " + e.strerror)
            return
        inflight[s] = (job, now)
        sel.register(s, selectors.EVENT_READ)

    def fill():
        now = time.monotonic()
        due = [w for w in waiting if w[0] <= now]
        for w in due:
            waiting.remove(w)
        for _, job in due:
            start(job)
        while todo and len(inflight) + len(waiting) < opts["connections"]:
            start(todo.popleft())

    fill()
    while inflight or waiting or todo:
        for key, _ in sel.select(timeout=0.05):
            s = key.fileobj
            job, _ = inflight.pop(s)
            sel.unregister(s)
            try:
                msg = s.recv(65536)
            except OSError:
                msg = b""
            s.close()
            if len(msg) < 12:
                retry(job, "closed before answering")
                continue
            _, typ, _, _ = struct.unpack(">HHII", msg[:12])
            if typ == MSG_ERROR and error_code(msg) in (HUSH_E_UNAVAIL, HUSH_E_BUSY):
                retry(job, "unavailable" if error_code(msg) == HUSH_E_UNAVAIL else "busy")
            elif typ == CTL_SECRET_CREATE | MSG_REPLY:
                acked.append(job.name)
                if acked_file:
                    acked_file.write(job.name + "\n")
            elif typ == MSG_ERROR:
                refused[error_text(msg)] += 1
                print("bulk_create: %s refused (try %d): %s" %
                      (job.name, job.tries, error_text(msg)), file=sys.stderr)
            else:
                refused["reply of type 0x%04x" % typ] += 1
        now = time.monotonic()
        for s, (job, sent) in list(inflight.items()):
            if now - sent > REPLY_S:
                del inflight[s]
                sel.unregister(s)
                s.close()
                retry(job, "no answer in %d s" % REPLY_S)
        fill()

    took = time.monotonic() - t0
    if acked_file:
        acked_file.close()
    print("bulk_create: %d acknowledged of %d in %.1f s (%.0f/s); %d refused, %d "
          "unknown; retries: %s" % (len(acked), total, took, len(acked) / max(took, 1e-9),
                                    sum(refused.values()), len(lost),
                                    dict(retries) or "none"), file=sys.stderr)
    for why, n in refused.items():
        print("bulk_create: refused %d: %s" % (n, why), file=sys.stderr)
    for name, why in lost[:20]:
        print("bulk_create: no answer for %s (last: %s)" % (name, why), file=sys.stderr)
    sys.exit(0 if len(acked) == total else 1)


if __name__ == "__main__":
    main()
