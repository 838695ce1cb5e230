#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Receive send.py's numbered UDP datagrams and check them.

Binds ADDR:PORT, prints "ready" once bound, then records every datagram
until --count arrived or nothing came for --idle seconds.  Exits 0 if it got
exactly the numbers FIRST..FIRST+COUNT-1, in order; otherwise says what it
got and exits 1.
"""

import os
import sys

# opts.py, socklite.py: beside this file where it was copied (a pod's /run), or in selftests/.
sys.path[1:1] = [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
import opts  # noqa: E402
import socklite as socket  # noqa: E402  (socket.py's calls, lighter: socklite.py)


def main():
    a = opts.parse(__doc__, "", "--bind! --count:int! --first:int=0 --idle:float=10")

    host, _, port = a.bind.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    # A thaw replays what was held as one burst: room for all of it
    # (beyond net.core.rmem_max; the lab runs this as root).
    s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 32 << 20)
    s.bind((host, int(port)))
    s.settimeout(a.idle)
    print("ready", flush=True)
    got = []
    while len(got) < a.count:
        try:
            data = s.recv(2048)
        except socket.timeout:
            break
        got.append(int(data.split()[1]))
    want = list(range(a.first, a.first + a.count))
    if got == want:
        print("received %d in order" % len(got))
        return 0
    print("received %d of %d; first mismatch at %s" % (
        len(got), a.count,
        next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), len(got))))
    print("got: %s" % got[:50])
    return 1


if __name__ == "__main__":
    sys.exit(main())
