#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A pod's tree of processes, for tree.sh: tree.py DIR, the pod's command.

It makes, and writes to DIR/tree as "ROLE PID" lines:
  top  itself, the pod's command
  a    a producer leading a process group of its own: writes 1, 2, 3, ...
       a line each, into a pipe
  b    a consumer in a's group: reads the pipe and writes each number to
       descriptor 3, the log top opened and everyone inherited (one open
       file, one offset); a number out of turn ends it with "gap" there
  c    the leader of a session of its own, whose child d is in it; it
       holds one end of a unix socket pair whose other end top holds (d
       inherits c's): c says "hello from c" into it at once, which top
       reads only at its first look, and answers each line top sends
       with "got " and the line
  d    c's child
  z    exits 7 at once; top leaves it a zombie until asked
All but z also share a datagram socket top connected first, as syslog(3)
does to /dev/log, to the socket the script bound to /run/crak-selftest-log
on each node.
On each SIGUSR1 top checks that every relation is as it made it (parents,
groups, sessions, the shared log and pipe, the socket pair to c, the
datagram socket, which a datagram still goes through; the first time, z's
exit status, reaping it, and c's hello) and writes "N ok" or what is wrong
to DIR/verdict, N counting the signals.
"""
import ctypes
import os
import signal
import socket
import sys
import time

DIR = sys.argv[1]
SYSLOG_PATH = "/run/crak-selftest-log"
SYS_KCMP = 312
KCMP_FILE = 0
libc = ctypes.CDLL(None, use_errno=True)


def one_open_file(pid1, fd1, pid2, fd2):
    return libc.syscall(SYS_KCMP, pid1, pid2, KCMP_FILE, fd1, fd2) == 0


def ppid_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def forever():
    while True:
        time.sleep(1)


def producer(w):
    n = 0
    while True:
        n += 1
        os.write(w, b"%d\n" % n)
        time.sleep(0.05)


def consumer(r):
    last = 0
    with os.fdopen(r, "rb") as pipe:
        for line in pipe:
            n = int(line)
            if n != last + 1:
                os.write(3, b"gap %d after %d\n" % (n, last))
                os._exit(1)
            last = n
            os.write(3, b"%d\n" % n)
    os._exit(2)


def session_leader(tell, sock):
    os.setsid()
    d = os.fork()
    if d == 0:
        os.close(tell)
        forever()
    os.write(tell, b"%d\n" % d)
    os.close(tell)
    sock.sendall(b"hello from c\n")
    with sock.makefile("rb") as f:
        for line in f:
            sock.sendall(b"got " + line)
    forever()


def main():
    log = os.open(f"{DIR}/log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    if log != 3:
        os.dup2(log, 3)
        os.close(log)
    syslog = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    syslog.connect(SYSLOG_PATH)
    syslog.send(b"tree: started")
    r, w = os.pipe()
    a = os.fork()
    if a == 0:
        os.close(r)
        producer(w)
    os.setpgid(a, a)
    b = os.fork()
    if b == 0:
        os.close(w)
        os.setpgid(0, a)
        consumer(r)
    os.close(r)
    os.close(w)
    tr, tw = os.pipe()
    mine, cs = socket.socketpair()
    c = os.fork()
    if c == 0:
        os.close(tr)
        mine.close()
        session_leader(tw, cs)
    os.close(tw)
    cs.close()
    mine.settimeout(30)
    replies = mine.makefile("rb")
    with os.fdopen(tr) as f:
        d = int(f.readline())
    z = os.fork()
    if z == 0:
        os._exit(7)
    me = os.getpid()
    with open(f"{DIR}/tree.new", "w") as f:
        for role, pid in (("top", me), ("a", a), ("b", b), ("c", c), ("d", d), ("z", z)):
            f.write(f"{role} {pid}\n")
        f.write(f"pipe {r} {w}\n")
    os.rename(f"{DIR}/tree.new", f"{DIR}/tree")

    asked = []
    signal.signal(signal.SIGUSR1, lambda s, fr: asked.append(s))
    round = 0
    while True:
        while len(asked) == round:
            time.sleep(0.1)
        round += 1
        verdict(round, me, a, b, c, d, z, r, w, mine, replies, syslog)


def verdict(round, me, a, b, c, d, z, r, w, mine, replies, syslog):
    wrong = []

    def want(what, got, expected):
        if got != expected:
            wrong.append(f"{what}: {got}, not {expected}")

    want("top's PID", os.getpid(), me)
    for pid, parent in ((a, me), (b, me), (c, me), (d, c)):
        want(f"parent of {pid}", ppid_of(pid), parent)
    want("a's group", os.getpgid(a), a)
    want("b's group", os.getpgid(b), a)
    want("a's session", os.getsid(a), os.getsid(0))
    want("b's session", os.getsid(b), os.getsid(0))
    want("c's session", os.getsid(c), c)
    want("c's group", os.getpgid(c), c)
    want("d's session", os.getsid(d), c)
    want("d's group", os.getpgid(d), c)
    for pid in (a, b, c, d):
        if not one_open_file(me, 3, pid, 3):
            wrong.append(f"{pid}'s descriptor 3 is not top's open file")
    for pid in (a, b, c, d):
        if not one_open_file(me, syslog.fileno(), pid, syslog.fileno()):
            wrong.append(f"{pid}'s datagram socket is not top's open file")
    try:
        want("the datagram socket's peer", syslog.getpeername(), SYSLOG_PATH)
        want("a datagram sent", syslog.send(b"tree: look %d" % round), len(b"tree: look %d" % round))
    except OSError as e:
        wrong.append(f"the datagram socket: {e}")
    if os.stat(f"/proc/{a}/fd/{w}").st_ino != os.stat(f"/proc/{b}/fd/{r}").st_ino:
        wrong.append("a's and b's ends are of different pipes")
    # The zombie: still one at the first look, reaped then with its status.
    if round == 1:
        with open(f"/proc/{z}/stat") as f:
            want("z's state", f.read().rsplit(")", 1)[1].split()[0], "Z")
        pid, status = os.waitpid(z, os.WNOHANG)
        want("z reaped", pid, z)
        want("z's exit status", os.waitstatus_to_exitcode(status) if pid else None, 7)
    try:
        if round == 1:
            want("c's hello, queued", replies.readline(), b"hello from c\n")
        mine.sendall(b"look %d\n" % round)
        want("c's answer", replies.readline(), b"got look %d\n" % round)
    except OSError as e:
        wrong.append(f"the socket pair to c: {e}")
    with open(f"{DIR}/verdict.new", "w") as f:
        f.write(f"{round} " + ("ok\n" if not wrong else "; ".join(wrong) + "\n"))
    os.rename(f"{DIR}/verdict.new", f"{DIR}/verdict")

main()
