#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Many connections and a UDP flow at once, for a pod on the move.

  many.py server ADDR PORT
      serves TCP connections on ADDR:PORT (each answers what it reads, each
      byte + 1 mod 256) and UDP datagrams on ADDR:PORT (each answered as it
      came); one process, one poll loop, no thread.  It counts the UDP
      datagrams numbered in order, lost (a number skipped) and late (a number
      below one seen), and answers "report" with those counts.
  many.py client ADDR PORT --conns N --rounds R --progress F
      opens N connections; round after round sends each a few bytes
      numbered from the round and the connection, and reads back the
      answers, every byte checked; meanwhile a thread sends numbered UDP
      datagrams every --interval seconds until F.udp-stop exists.  After R
      rounds it goes on until F.go exists, then 5 rounds more; then asks the
      server for its UDP counts and prints
      "ok ROUNDS conns=N longest=S udp sent=N answered=N got=N lost=N late=N".
  many.py flood ADDR PORT --until F
      sends UDP datagrams of 1000 bytes to ADDR:PORT as fast as it can
      until F exists; prints how many.
"""

import os
import select
import socket
import struct
import sys
import threading
import time
import zlib

# conv.py: beside this file in the pod (copied there), in ../sockmig here.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "sockmig"), os.path.join(HERE, "..")]
from conv import recv_exact  # noqa: E402
import opts  # noqa: E402

SHIFT = bytes((i + 1) % 256 for i in range(256))


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def server(a):
    fam = family(a.addr)
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.addr, a.port))
    ls.listen(256)
    us = socket.socket(fam, socket.SOCK_DGRAM)
    # A thaw delivers what was held in one burst: room for the datagrams
    # of a long move (a loaded TCG lab takes 10 s and more; 50 a second).
    us.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
    us.bind((a.addr, a.port))
    poll = select.poll()
    poll.register(ls, select.POLLIN)
    poll.register(us, select.POLLIN)
    conns = {}
    nxt = got = lost = late = 0
    while True:
        for fd, _ in poll.poll():
            if fd == ls.fileno():
                c, _ = ls.accept()
                conns[c.fileno()] = c
                poll.register(c, select.POLLIN)
            elif fd == us.fileno():
                data, peer = us.recvfrom(2048)
                if data == b"report":
                    us.sendto(b"got=%d lost=%d late=%d" % (got, lost, late), peer)
                    continue
                seq = struct.unpack("!I", data[:4])[0]
                got += 1
                if seq >= nxt:
                    lost += seq - nxt
                    nxt = seq + 1
                else:
                    late += 1
                us.sendto(data, peer)
            else:
                c = conns[fd]
                data = c.recv(65536)
                if not data:
                    poll.unregister(c)
                    del conns[fd]
                    c.close()
                    continue
                c.sendall(data.translate(SHIFT))


def payload(rnd, conn, size):
    seed = struct.pack("!II", rnd, conn)
    out = bytearray()
    while len(out) < size:
        seed = zlib.crc32(seed).to_bytes(4, "big")
        out += seed
    return bytes(out[:size])


class Datagrams:
    """Numbered UDP datagrams, one every INTERVAL s, and their answers."""

    def __init__(self, addr, port, interval, stop):
        self.s = socket.socket(family(addr), socket.SOCK_DGRAM)
        self.s.connect((addr, port))
        self.interval = interval
        self.stop = stop
        self.sent = 0
        self.answered = set()
        self.done = threading.Event()
        self.sender = threading.Thread(target=self.send, daemon=True)
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.sender.start()
        self.reader.start()

    def send(self):
        while not os.path.exists(self.stop):
            self.s.send(struct.pack("!I", self.sent) + bytes(60))
            self.sent += 1
            time.sleep(self.interval)
        self.done.set()

    def read(self):
        while True:
            data = self.s.recv(2048)
            if data.startswith(b"got="):
                self.report = data.decode()
                return
            self.answered.add(struct.unpack("!I", data[:4])[0])

    def finish(self):
        self.done.wait()
        time.sleep(1)
        self.report = None
        for _ in range(20):
            self.s.send(b"report")
            self.reader.join(0.5)
            if not self.reader.is_alive():
                return self.report
        raise TimeoutError("the server did not report its UDP counts")


def client(a):
    # (No timeout by default: a move on a slow machine may take long; the
    # test's own ends a conversation that hangs.)
    conns = [socket.create_connection((a.addr, a.port), timeout=a.timeout or None)
             for _ in range(a.conns)]
    udp = Datagrams(a.addr, a.port, a.interval, a.progress + ".udp-stop")
    go = a.progress + ".go"
    longest = 0.0
    extra = None
    rnd = 0
    while extra is None or extra > 0:
        t0 = time.monotonic()
        for i, c in enumerate(conns):
            c.sendall(payload(rnd, i, a.size))
        for i, c in enumerate(conns):
            want = payload(rnd, i, a.size).translate(SHIFT)
            if recv_exact(c, a.size) != want:
                raise ValueError("round %d, connection %d: wrong bytes" % (rnd, i))
        longest = max(longest, time.monotonic() - t0)
        rnd += 1
        tmp = a.progress + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % rnd)
        os.rename(tmp, a.progress)
        if extra is not None:
            extra -= 1
        elif rnd >= a.rounds and os.path.exists(go):
            extra = 5
    for c in conns:
        c.close()
    report = udp.finish()
    print("ok %d conns=%d longest=%.2f udp sent=%d answered=%d %s"
          % (rnd, len(conns), longest, udp.sent, len(udp.answered), report))


def flood(a):
    s = socket.socket(family(a.addr), socket.SOCK_DGRAM)
    s.connect((a.addr, a.port))
    data = bytes(1000)
    n = 0
    while True:
        for _ in range(200):
            try:
                s.send(data)
                n += 1
            except OSError:
                pass  # ICMP errors for earlier datagrams
        if os.path.exists(a.until):
            break
    print("flooded %d datagrams" % n)


def main():
    a = opts.parse(__doc__, "mode:server|client|flood addr port:int",
                   "--conns:int=100 --rounds:int=10 --size:int=64 --interval:float=0.02 "
                   "--timeout:float=0 --progress=/dev/null --until=")
    try:
        {"server": server, "client": client, "flood": flood}[a.mode](a)
    except (OSError, ValueError, TimeoutError) as e:
        print("error: %s" % e, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
