#!/usr/bin/env python3
"""Create many secrets fast, for tests that need a big store (t_big_lists).

Speaks hushd's control protocol directly (lib/wire.h: a 12-byte header
{u16 version, u16 type, u32 request id, u32 length} and TLV fields
{u16 tag, u32 len, bytes}; lib/msg.h for the numbers) over several
connections at once, one CTL_SECRET_CREATE per connection, as hushctl
does (hushd serves one request per connection); starting one hushctl per
secret costs more than the commit.  Every
reply must be a CTL_SECRET_CREATE reply: anything else fails the run.  What
the store then holds is checked by the test, with hushctl.

usage: bulk_create.py SOCKET PREFIX FIRST LAST [LABEL...]
creates PREFIX + "%06d" % i for i in FIRST..LAST, value "v", with the labels.
"""
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


def field(tag, val):
    return struct.pack(">HI", tag, len(val)) + val


def request(name, labels):
    body = field(T_REQ_ID, os.urandom(16)) + field(T_NAME, name.encode()) + \
        field(T_DATA, b"v")
    for lbl in labels:
        body += field(T_LABEL, lbl.encode())
    return struct.pack(">HHII", WIRE_VERSION, CTL_SECRET_CREATE, 1, len(body)) + body


def error_code(msg):
    off = 12
    while off + 6 <= len(msg):
        tag, n = struct.unpack(">HI", msg[off:off + 6])
        if tag == T_ERRCODE and n == 4:
            return struct.unpack(">I", msg[off + 6:off + 10])[0]
        off += 6 + n
    return 0


def error_text(msg):
    off = 12
    while off + 6 <= len(msg):
        tag, n = struct.unpack(">HI", msg[off:off + 6])
        if tag == T_ERRMSG:
            return msg[off + 6:off + 6 + n].decode(errors="replace")
        off += 6 + n
    return "(no detail)"


def main():
    sock, prefix, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    labels = sys.argv[5:]
    todo = [prefix + "%06d" % i for i in range(first, last + 1)]
    todo.reverse()
    sel = selectors.DefaultSelector()
    sent = {}
    busy = 0

    def start(req=None):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(sock)
        if req is None:
            req = request(todo.pop(), labels)
        s.send(req)
        sent[s] = req
        sel.register(s, selectors.EVENT_READ)

    for _ in range(min(CONNECTIONS, len(todo))):
        start()
        busy += 1
    while busy:
        for key, _ in sel.select(timeout=30):
            s = key.fileobj
            msg = s.recv(65536)
            if len(msg) < 12:
                sys.exit("bulk_create: hushd closed a connection")
            _, typ, _, _ = struct.unpack(">HHII", msg[:12])
            sel.unregister(s)
            s.close()
            req = sent.pop(s)
            if typ == MSG_ERROR and error_code(msg) in (HUSH_E_UNAVAIL, HUSH_E_BUSY):
                # "unavailable" or "busy", retry: the same bytes (same request id),
                # as hushctl does; the store applies them once
                time.sleep(0.05)
                start(req)
                continue
            if typ != CTL_SECRET_CREATE | MSG_REPLY:
                sys.exit("bulk_create: hushd refused a secret: " +
                         (error_text(msg) if typ == MSG_ERROR else "type 0x%04x" % typ))
            if todo:
                start()
            else:
                busy -= 1


if __name__ == "__main__":
    main()
