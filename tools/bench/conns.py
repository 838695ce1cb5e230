#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Many idle TCP connections, for the sockmig benchmark.

  conns.py server ADDR PORT N READY   accepts N connections, writes its pid
                                      into READY, then answers each byte it
                                      reads on any of them with the next one
  conns.py client ADDR PORT N READY GO
                                      opens N connections, writes READY, waits
                                      for the file GO, then sends one byte on
                                      each and checks the answer; prints "ok N"
"""

import os
import select
import socket
import sys
import time


def server(addr, port, n, ready):
    lsk = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsk.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsk.bind((addr, port))
    lsk.listen(n)
    conns = {}
    while len(conns) < n:
        c, _ = lsk.accept()
        conns[c.fileno()] = c
    lsk.close()
    with open(ready + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(ready + ".tmp", ready)
    p = select.poll()
    for fd in conns:
        p.register(fd, select.POLLIN)
    while conns:
        for fd, _ in p.poll():
            data = conns[fd].recv(1)
            if not data:
                p.unregister(fd)
                conns.pop(fd).close()
                continue
            conns[fd].sendall(bytes([(data[0] + 1) % 256]))
    return 0


def client(addr, port, n, ready, go):
    conns = []
    for _ in range(n):
        c = socket.create_connection((addr, port), timeout=60)
        conns.append(c)
    with open(ready, "w") as f:
        f.write("%d\n" % n)
    while not os.path.exists(go):
        time.sleep(0.05)
    for i, c in enumerate(conns):
        c.sendall(b"x")
        if c.recv(1) != b"y":
            print("connection %d: no answer" % i, file=sys.stderr)
            return 1
    for c in conns:
        c.close()
    print("ok %d" % n)
    return 0


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "server":
        return server(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    if len(sys.argv) == 7 and sys.argv[1] == "client":
        return client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
