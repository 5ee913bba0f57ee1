#!/usr/bin/env python3
"""hush-flood: unauthenticated connections against a hush manager, for tests.

Holds a number of TCP connection "slots" open against one or more
targets and keeps them open: when the server closes one, that slot waits
--retry seconds and connects again, as a patient attacker would.

    idle  connect and never send a byte
    slow  start a TLS handshake and never finish it: half of the slow
          slots send a real ClientHello (ALPN hush-join/1) one byte per
          second, the other half the 5-byte header of a 16 KiB handshake
          record and then one byte of it per second

Sources are used in turn, one per connection (bind before connect), so
one process can stand for one address or for many.  Every second the
counters go to --stats as one JSON object; the test reads it to check
that the flood really happened.  Runs until SIGTERM or SIGINT.

    hush-flood.py --target HOST:PORT [--target ...] [--source ADDR ...]
                  [--idle N] [--slow N] [--retry SECONDS] [--stats FILE]
"""
import argparse
import asyncio
import itertools
import json
import os
import random
import resource
import signal
import socket
import ssl
import sys
import time

CONNECT_TIMEOUT = 5.0


def client_hello():
    """A real ClientHello, as the first flight OpenSSL would send."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["hush-join/1"])
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_side=False)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    data = out.read()
    if len(data) < 50 or data[0] != 0x16:
        sys.exit("hush-flood: could not build a ClientHello")
    return data


# A handshake record that announces 16 KiB and then trickles.
PARTIAL_RECORD = bytes([0x16, 0x03, 0x01, 0x40, 0x00]) + bytes([0x01, 0x00, 0x3f, 0xfc]) + \
    bytes(16380)


class Stats:
    def __init__(self):
        self.connected = 0	# TCP connects that completed
        self.connect_failed = 0	# refused, timed out, unreachable
        self.closed_by_server = 0	# EOF or reset on a connection we held
        self.open_now = 0
        self.open_max = 0
        self.bytes_sent = 0

    def as_dict(self):
        return dict(self.__dict__, time=time.time())


def parse_hostport(s):
    host, _, port = s.rpartition(":")
    return host.strip("[]"), int(port)


async def hold(loop, sock, mode, payload, st):
    """Keep one connection until the server ends it."""
    if mode == "idle":
        try:
            data = await loop.sock_recv(sock, 4096)
            while data:
                data = await loop.sock_recv(sock, 4096)
        except OSError:
            pass
        return
    for i in itertools.count():
        # EOF or reset from the server ends the slot
        try:
            if sock.recv(4096, socket.MSG_DONTWAIT) == b"":
                return
        except BlockingIOError:
            pass
        except OSError:
            return
        try:
            sock.send(payload[i % len(payload):i % len(payload) + 1])
            st.bytes_sent += 1
        except BlockingIOError:
            pass
        except OSError:
            return
        await asyncio.sleep(1.0)


async def slot(loop, n, targets, sources, mode, payload, retry, st, stop):
    # spread the first connects over a second so the server sees a ramp
    await asyncio.sleep(random.random())
    for k in itertools.count():
        if stop.is_set():
            return
        target = targets[(n + k) % len(targets)]
        src = sources[(n * 7 + k) % len(sources)] if sources else None
        fam = socket.AF_INET6 if ":" in target[0] else socket.AF_INET
        sock = socket.socket(fam, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            if src is not None:
                sock.bind((src, 0))
            await asyncio.wait_for(loop.sock_connect(sock, target), CONNECT_TIMEOUT)
        except (OSError, asyncio.TimeoutError):
            st.connect_failed += 1
            sock.close()
            await asyncio.sleep(retry * (0.5 + random.random()))
            continue
        st.connected += 1
        st.open_now += 1
        st.open_max = max(st.open_max, st.open_now)
        try:
            await hold(loop, sock, mode, payload, st)
        finally:
            st.open_now -= 1
            sock.close()
        st.closed_by_server += 1
        await asyncio.sleep(retry * (0.5 + random.random()))


async def report(path, st, stop):
    while True:
        if path:
            tmp = path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(st.as_dict(), f)
            os.replace(tmp, path)
        if stop.is_set():
            return
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except asyncio.TimeoutError:
            pass


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", action="append", required=True)
    ap.add_argument("--source", action="append", default=[])
    ap.add_argument("--idle", type=int, default=0)
    ap.add_argument("--slow", type=int, default=0)
    ap.add_argument("--retry", type=float, default=1.0,
                    help="mean pause before a slot connects again (seconds)")
    ap.add_argument("--stats")
    a = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = a.idle + a.slow + 256
    if want > hard:
        sys.exit(f"hush-flood: {want} descriptors needed, RLIMIT_NOFILE allows {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))

    targets = [parse_hostport(t) for t in a.target]
    hello = client_hello()
    loop = asyncio.get_running_loop()
    st = Stats()
    stop = asyncio.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    tasks = []
    for n in range(a.idle):
        tasks.append(loop.create_task(slot(loop, n, targets, a.source, "idle", b"",
                                           a.retry, st, stop)))
    for n in range(a.slow):
        payload = hello if n % 2 == 0 else PARTIAL_RECORD
        tasks.append(loop.create_task(slot(loop, a.idle + n, targets, a.source, "slow",
                                           payload, a.retry, st, stop)))
    rep = loop.create_task(report(a.stats, st, stop))
    await stop.wait()
    await rep
    print(json.dumps(st.as_dict()), flush=True)
    # Not task.cancel(): asyncio.wait_for() in Python 3.11 can swallow a
    # cancellation that races with the connect it waits for, and a slot
    # would then run on.  The kernel closes every socket at exit.
    os._exit(0)


if __name__ == "__main__":
    asyncio.run(main())
