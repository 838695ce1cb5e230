#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""One end of a TCP connection, driven step by step from a control directory.

  endpoint.py listen ADDR PORT --ctl DIR     accepts one connection
  endpoint.py connect ADDR PORT --ctl DIR [--bind ADDR]
                                             (both: [--rcvbuf N] [--sndbuf N])
  endpoint.py fd FD --ctl DIR                a connected socket it inherited
                                             (a restore): carries on from
                                             DIR's state

The test writes DIR/cmd.N (N = 1, 2, ...); the endpoint runs them in order
and answers each with DIR/done.N: "ok" or "error: why".  A cmd.N may hold
several commands separated by ";", run in order until one fails (each
round of the files costs a TCG guest a tenth of a second).  Commands:

  send N     send the next N bytes of this end's stream
  fill       send until the peer's window and the send buffer are full
  shut       shutdown(SHUT_WR): our FIN
  sendshut N send N bytes and the FIN at once
  recv N     receive the next N bytes of the other end's stream, checked
  eof        the next receive must be the end of the stream
  urgent B   send the byte B out of band (send(MSG_OOB)): not part of the
             stream the peer reads in band
  oob B      recv(MSG_OOB) must return the byte B
  atmark 0|1 whether the next byte in band is at the urgent mark (SIOCATMARK)
  exit       close and exit

Each end's stream is a pattern of its role (byte k is (7k + seed) % 251), so
a receiver checks every byte where it belongs.  DIR/state keeps how far each
stream went and which command is next, for a restored successor (lines
"KEY VALUE": role, sent, recvd, next).
"""

import fcntl
import os
import select
import struct
import sys
import time

# opts.py, socklite.py: beside this file where it was copied (a pod's /run), or in selftests/.
sys.path[1:1] = [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
import opts  # noqa: E402
import socklite as socket  # noqa: E402  (socket.py's calls, lighter: socklite.py)

SIOCATMARK = 0x8905

# How long one command may wait for the other end: a bound, never a delay
# (a step on the debug kernel of a busy machine can take a minute).
WAIT = 120

SEED = {"client": 1, "server": 2}


CYCLE = {seed: bytes((7 * k + seed) % 251 for k in range(251)) * 270
         for seed in SEED.values()}     # 251 * 270 bytes: 64 KiB and a cycle


def pattern(seed, start, n):
    out = bytearray()
    while n:
        off = start % 251
        chunk = CYCLE[seed][off:off + min(n, 65536)]
        out += chunk
        start += len(chunk)
        n -= len(chunk)
    return bytes(out)


class End:
    def __init__(self, sock, ctl, role, state=None):
        self.s = sock
        self.ctl = ctl
        self.role = role
        self.state = state or {"role": role, "sent": 0, "recvd": 0, "next": 1}

    def save(self):
        tmp = os.path.join(self.ctl, "state.tmp")
        with open(tmp, "w") as f:
            f.write("".join("%s %s\n" % kv for kv in self.state.items()))
        os.replace(tmp, os.path.join(self.ctl, "state"))

    def run(self, words):
        st = self.state
        other = SEED["server" if self.role == "client" else "client"]
        if words[0] == "send":
            n = int(words[1])
            self.s.sendall(pattern(SEED[self.role], st["sent"], n))
            st["sent"] += n
        elif words[0] == "fill":
            # Until the peer's window and our send buffer are full.
            self.s.setblocking(False)
            idle = 0
            while idle < 3:
                try:
                    st["sent"] += self.s.send(pattern(SEED[self.role], st["sent"], 65536))
                    idle = 0
                except BlockingIOError:
                    idle += 1
                    time.sleep(0.3)
            self.s.settimeout(WAIT)
        elif words[0] == "sendshut":
            # Data and FIN at once: no retransmission timeout between them
            # may leave the FIN queued behind a collapsed window.
            n = int(words[1])
            self.s.sendall(pattern(SEED[self.role], st["sent"], n))
            st["sent"] += n
            self.s.shutdown(socket.SHUT_WR)
        elif words[0] == "shut":
            self.s.shutdown(socket.SHUT_WR)
        elif words[0] == "recv":
            want = int(words[1])
            while want:
                data = self.s.recv(min(want, 65536))
                if not data:
                    return "error: end of stream with %d bytes to come" % want
                if data != pattern(other, st["recvd"], len(data)):
                    return "error: wrong bytes at offset %d" % st["recvd"]
                st["recvd"] += len(data)
                want -= len(data)
        elif words[0] == "eof":
            data = self.s.recv(1)
            if data:
                return "error: more bytes where the end of the stream was due"
        elif words[0] == "urgent":
            self.s.send(bytes([int(words[1])]), socket.MSG_OOB)
        elif words[0] == "oob":
            # recv(MSG_OOB) does not wait, and Python's timeout would wait
            # for data in band (none, past the mark): wait for POLLPRI.
            poll = select.poll()
            poll.register(self.s, select.POLLPRI)
            if not poll.poll(30000):
                return "error: no urgent data came"
            self.s.setblocking(False)
            try:
                data = self.s.recv(1, socket.MSG_OOB)
            finally:
                self.s.settimeout(WAIT)
            if data != bytes([int(words[1])]):
                return "error: out of band: %r, not %s" % (data, words[1])
        elif words[0] == "atmark":
            mark = struct.unpack("i", fcntl.ioctl(self.s.fileno(), SIOCATMARK,
                                                  struct.pack("i", 0)))[0]
            if mark != int(words[1]):
                return "error: at the urgent mark: %d, not %s" % (mark, words[1])
        elif words[0] == "exit":
            self.s.close()
            return None
        else:
            return "error: unknown command %r" % words[0]
        return "ok"

    def loop(self):
        self.s.settimeout(WAIT)
        while True:
            n = self.state["next"]
            path = os.path.join(self.ctl, "cmd.%d" % n)
            # A look over 9p costs a TCG guest a few milliseconds: quick
            # while the test is stepping, more seldom while it is away
            # (moving the other end, say).
            nap = 0.02
            while not os.path.exists(path):
                time.sleep(nap)
                nap = min(nap * 1.5, 0.4)
            with open(path) as f:
                cmds = [c.split() for c in f.read().split(";") if c.split()]
            for words in cmds:
                try:
                    answer = self.run(words)
                except Exception as e:     # every failure is an answer, not a hang
                    answer = "error: %s: %s: %s" % (" ".join(words), type(e).__name__, e)
                if answer != "ok":
                    break
            self.state["next"] = n + 1
            self.save()
            with open(os.path.join(self.ctl, "done.%d.tmp" % n), "w") as f:
                f.write("ok\n" if answer is None else answer + "\n")
            os.replace(os.path.join(self.ctl, "done.%d.tmp" % n),
                       os.path.join(self.ctl, "done.%d" % n))
            if answer is None:
                return 0


def main():
    a = opts.parse(__doc__, "mode:listen|connect|fd where+",
                   "--ctl! --bind --rcvbuf:int --sndbuf:int")

    def bufs(s):
        if a.rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
        if a.sndbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, a.sndbuf)

    if a.mode == "fd":
        with open(os.path.join(a.ctl, "state")) as f:
            state = {k: v if k == "role" else int(v)
                     for k, v in (line.split() for line in f)}
        s = socket.socket(fileno=int(a.where[0]))
        return End(s, a.ctl, state["role"], state).loop()
    addr, port = a.where[0], int(a.where[1])
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    if a.mode == "listen":
        ls = socket.socket(fam, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        bufs(ls)
        ls.bind((addr, port))
        ls.listen(1)
        s, _ = socket.accept(ls)
        ls.close()
        end = End(s, a.ctl, "server")
    else:
        s = socket.socket(fam, socket.SOCK_STREAM)
        bufs(s)
        if a.bind:
            s.bind((a.bind, 0))
        s.connect((addr, port))
        end = End(s, a.ctl, "client")
    end.save()
    return end.loop()


if __name__ == "__main__":
    sys.exit(main())
