#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A conversation that notices any lost, repeated or reordered byte.

  conv.py client ADDR PORT --rounds N [--size B] [--interval S] [--progress F]
      connects, then N times sends B bytes numbered from the round and reads
      back the server's answer (the same bytes, each + 1 mod 256); checks
      every byte and a running CRC32 of both directions; prints "ok N CRC
      longest=S", S the longest round trip in seconds (what a pause cost).
      --progress F: writes the rounds done so far into F as they complete.
      --until F: after the N rounds, goes on until F exists, then 5 rounds
      more (a test moving the server cannot see it end before the move).
      --timeout S: how long a round may wait for its answer (default 120;
      0: as long as it must).
  conv.py server ADDR PORT           accepts one connection and serves it
  conv.py fork-server ADDR PORT      accepts connections, each served by a
                                     child of its own, which keeps the
                                     listener open (as socketserver's
                                     ForkingMixIn does) and serves its
                                     connection through a duplicate of it;
                                     the server closes its own copy of a
                                     connection once that child has ended
  conv.py serve-fd FD                serves a connected socket it inherited
  conv.py adopt                      waits for a connected socket to appear
                                     among its descriptors (crak sock move),
                                     prints its number, and serves it

A server answers what it reads, as it reads it: it holds no state of its own
but the socket's, so a server can be replaced mid-conversation by another
that has the same connection.
"""

import os
import select
import sys
import time
import zlib

# opts.py, socklite.py: beside this file where it was copied (a pod's /run), or in selftests/.
sys.path[1:1] = [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
import opts  # noqa: E402
import socklite as socket  # noqa: E402  (socket.py's calls, lighter: socklite.py)

# Bytes the server's answer is shifted by.
SHIFT = 1


def payload(rnd, size):
    seed = rnd.to_bytes(4, "big")
    out = bytearray()
    while len(out) < size:
        seed = zlib.crc32(seed).to_bytes(4, "big")
        out += seed
    return bytes(out[:size])


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return bytes(buf)


def client(a):
    fam = socket.AF_INET6 if ":" in a.addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(a.timeout or None)
    s.connect((a.addr, a.port))
    table = bytes((i + SHIFT) % 256 for i in range(256))
    crc = 0
    longest = 0.0
    end = None if a.until else a.rounds
    rnd = 0
    while end is None or rnd < end:
        if end is None and rnd + 5 >= a.rounds and os.path.exists(a.until):
            end = max(a.rounds, rnd + 5)
        data = payload(rnd, a.size)
        t0 = time.monotonic()
        s.sendall(data)
        got = recv_exact(s, a.size)
        longest = max(longest, time.monotonic() - t0)
        if got != data.translate(table):
            print("round %d: the answer differs" % rnd, file=sys.stderr)
            return 1
        crc = zlib.crc32(got, zlib.crc32(data, crc))
        if a.progress:
            with open(a.progress, "w") as f:
                f.write("%d\n" % (rnd + 1))
        if a.interval:
            time.sleep(a.interval)
        rnd += 1
    s.close()
    print("ok %d %08x longest=%.3f" % (rnd, crc, longest))
    return 0


def serve(s):
    table = bytes((i + SHIFT) % 256 for i in range(256))
    while True:
        data = s.recv(65536)
        if not data:
            return 0
        s.sendall(data.translate(table))


def adopt():
    def sockets():
        out = set()
        for name in os.listdir("/proc/self/fd"):
            try:
                if os.readlink("/proc/self/fd/" + name).startswith("socket:"):
                    out.add(int(name))
            except OSError:
                pass
        return out

    known = sockets()
    while True:
        new = sockets() - known
        if new:
            fd = min(new)
            print("adopted %d" % fd, flush=True)
            return serve(socket.socket(fileno=fd))
        time.sleep(0.05)


def listener(addr, port, backlog):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(backlog)
    return ls


def fork_server(ls):
    held = {}
    while True:
        if select.select([ls], [], [], 0.5)[0]:
            s, _ = socket.accept(ls)
            pid = os.fork()
            if pid == 0:
                # Its connection twice, and the listener: open files its
                # parent holds too.  Whatever happens, it ends here.
                try:
                    rc = serve(socket.dup(s))
                except Exception as e:
                    print("child %d: %s" % (os.getpid(), e), file=sys.stderr, flush=True)
                    rc = 1
                os._exit(rc)
            held[pid] = s
        for pid in list(held):
            if os.waitpid(pid, os.WNOHANG)[0]:
                held.pop(pid).close()


def main():
    a = opts.parse_sub(__doc__, {
        "client": ("addr port:int", "--rounds:int! --size:int=1000 --interval:float=0 "
                   "--timeout:float=120 --progress --until"),
        "server": ("addr port:int", ""),
        "fork-server": ("addr port:int", ""),
        "serve-fd": ("fd:int", ""),
        "adopt": ("", ""),
    })

    if a.cmd == "client":
        return client(a)
    if a.cmd == "fork-server":
        return fork_server(listener(a.addr, a.port, 8))
    if a.cmd == "server":
        ls = listener(a.addr, a.port, 1)
        s, _ = socket.accept(ls)
        ls.close()
        return serve(s)
    if a.cmd == "adopt":
        return adopt()
    return serve(socket.socket(fileno=a.fd))


if __name__ == "__main__":
    sys.exit(main())
