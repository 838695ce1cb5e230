#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Both ends of the UDP selftest.

  udp_peer.py send ADDR PORT FIRST LAST [--connect] [--bind ADDR:PORT]
      sends datagrams "FIRST" .. "LAST" (each its number, padded to its size)
  udp_peer.py hold ADDR PORT [--connect RADDR:RPORT] READY
      binds (and connects), writes READY, and reads nothing: datagrams queue
      up until it is killed; on SIGUSR1 it reads and checks, as sink does
  udp_peer.py sink-fd FD FIRST LAST
      reads datagrams from an inherited socket until LAST, checking that
      each is the next number and whole; prints "ok N" and its sources
"""

import _signal as signal  # not signal.py, whose enums cost a TCG guest 0.09 s a start
import os
import sys
import time

# opts.py, socklite.py: beside this file where it was copied (a pod's /run), or in selftests/.
sys.path[1:1] = [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
import opts  # noqa: E402
import socklite as socket  # noqa: E402  (socket.py's calls, lighter: socklite.py)


def payload(n):
    # Sizes vary, so that a datagram cut or glued to another shows.
    return ("%d " % n).encode() + b"x" * (n * 37 % 900)


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def endpoint(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def rest(s):
    """The numbers of the datagrams that come within a second, for a
    failure's message."""
    got = []
    s.settimeout(1)
    try:
        while True:
            got.append(s.recv(65536).split(b" ")[0].decode(errors="replace"))
    except OSError:
        pass
    return " ".join(got) or "nothing"


def sink(s, first, last):
    sources = set()
    for want in range(first, last + 1):
        data, src = s.recvfrom(65536)
        if data != payload(want):
            print("datagram %d: got %r...; then %s" % (want, data[:20], rest(s)),
                  file=sys.stderr)
            return 1
        sources.add(src[0])
    print("ok %d from %s" % (last - first + 1, " ".join(sorted(sources))))
    return 0


def main():
    a = opts.parse_sub(__doc__, {
        "send": ("addr port:int first:int last:int", "--bind --connect:flag"),
        "hold": ("addr port:int ready", "--connect --expect:int=0"),
        "sink-fd": ("fd:int first:int last:int", ""),
    })

    if a.cmd == "send":
        s = socket.socket(family(a.addr), socket.SOCK_DGRAM)
        if a.bind:
            s.bind(endpoint(a.bind))
        if a.connect:
            s.connect((a.addr, a.port))
        for n in range(a.first, a.last + 1):
            if a.connect:
                s.send(payload(n))
            else:
                s.sendto(payload(n), (a.addr, a.port))
            time.sleep(0.005)
        return 0
    if a.cmd == "hold":
        s = socket.socket(family(a.addr), socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.bind((a.addr, a.port))
        if a.connect:
            s.connect(endpoint(a.connect))
        # Blocked until it waits for it: one sent before would be lost.
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
        with open(a.ready + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(a.ready + ".tmp", a.ready)
        signal.sigwait([signal.SIGUSR1])
        return sink(s, 1, a.expect)
    return sink(socket.socket(fileno=a.fd), a.first, a.last)


if __name__ == "__main__":
    sys.exit(main())
