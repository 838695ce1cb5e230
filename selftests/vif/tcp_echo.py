#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A TCP echo server, and a client that checks the conversation.

  tcp_echo.py server ADDR:PORT
      echo every connection, forever
  tcp_echo.py serve-fd FD
      the same, on a listening socket it inherited
  tcp_echo.py idle ADDR:PORT
      listen, and never accept
  tcp_echo.py client ADDR:PORT --sport P --count N --interval S [--until F]
      send N numbered lines from source port P, one every S seconds, each
      echoed before the next; exit 0 if every byte came back, in order, with
      no reset; print the longest wait for an echo
"""

import _thread  # not threading, which costs a TCG guest 0.1 s a start
import os
import sys
import time

# opts.py, socklite.py: beside this file where it was copied (a pod's /run), or in selftests/.
sys.path[1:1] = [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
import opts  # noqa: E402
import socklite as socket  # noqa: E402  (socket.py's calls, lighter: socklite.py)


def endpoint(text):
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    return (socket.AF_INET6 if ":" in host else socket.AF_INET), host, int(port)


def serve(conn):
    while True:
        data = conn.recv(65536)
        if not data:
            conn.close()
            return
        conn.sendall(data)


def listener(addr):
    family, host, port = endpoint(addr)
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(16)
    print("ready", flush=True)
    return s


def server(s):
    while True:
        conn, _ = socket.accept(s)
        _thread.start_new_thread(serve, (conn,))


def client(addr, sport, count, interval, until=None):
    family, host, port = endpoint(addr)
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.bind(("", sport))
    s.settimeout(120)
    s.connect((host, port))
    longest = 0.0
    i = 0
    while i < count or (until and not os.path.exists(until)):
        line = b"crak %08d\n" % i
        t0 = time.monotonic()
        s.sendall(line)
        got = b""
        while len(got) < len(line):
            chunk = s.recv(len(line) - len(got))
            if not chunk:
                print("connection closed at line %d" % i)
                return 1
            got += chunk
        if got != line:
            print("line %d came back as %r" % (i, got))
            return 1
        longest = max(longest, time.monotonic() - t0)
        i += 1
        time.sleep(interval)
    s.close()
    print("%d lines echoed, longest wait %.2f s" % (i, longest))
    return 0


def main():
    a = opts.parse(__doc__, "mode:server|serve-fd|idle|client addr",
                   "--sport:int=0 --count:int=10 --interval:float=0.05 --until")
    try:
        if a.mode == "server":
            return server(listener(a.addr))
        if a.mode == "serve-fd":
            return server(socket.socket(fileno=int(a.addr)))
        if a.mode == "idle":
            s = listener(a.addr)   # kept open: listening, never accepting
            while s:
                time.sleep(3600)
        return client(a.addr, a.sport, a.count, a.interval, a.until)
    except OSError as e:
        print("error: %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
