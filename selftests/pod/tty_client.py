#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""tty.sh's user at a terminal: tty_client.py ADDR PORT DIR.

Types into the pod's shell, over one TCP connection, a line setting X and
asking for its PID, terminal, window size, X and the node's boot ID, and
writes the answer to DIR/answer1.  Once DIR/moving appears (the pod is
about to move), types the question again after "sleep 10;" (the shell is
in that sleep while it moves), one line more and the start of another
(typed ahead while the shell sleeps: they wait in the terminal, which
echoes them), says so in DIR/sent2, writes the answer to DIR/answer2 and
the next line's to DIR/third, ends the line begun (DIR/partial once it
ran), then types exit and waits for the end.  An answer is "pid=P tty=T size=R C x=X
boot=B"; what breaks is written to DIR/error.
"""
import os
import re
import socket
import sys
import time

ASK = ('echo "pid=$$ tty=$(tty) size=$(stty size) x=$X'
       ' boot=$(cat /proc/sys/kernel/random/boot_id) end=$((6*7))"\n')
ANSWER = re.compile(rb"(pid=\d+ tty=\S+ size=\d+ \d+ x=\S* boot=\S+) end=42")
THIRD = re.compile(rb"third=3")
PARTIAL = re.compile(rb"\r\npartial\r\n")

addr, port, dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
seen = b""


def put(name, data):
    with open(f"{dir}/{name}.new", "wb") as f:
        f.write(data + b"\n")
    os.rename(f"{dir}/{name}.new", f"{dir}/{name}")


def expect(regex, name):
    global seen
    while True:
        m = regex.search(seen)
        if m:
            seen = seen[m.end():]
            put(name, m.group(m.lastindex or 0))
            return
        data = s.recv(4096)
        if not data:
            raise EOFError("the connection ended")
        seen += data


try:
    s = socket.create_connection((addr, port), timeout=120)
    s.sendall(("X=kept; " + ASK).encode())
    expect(ANSWER, "answer1")
    while not os.path.exists(f"{dir}/moving"):
        time.sleep(0.05)
    s.sendall(("sleep 10; " + ASK).encode())
    time.sleep(0.2)
    s.sendall(b'echo "third=$((1+2))"\n')
    s.sendall(b"echo par")
    # Both wait in the terminal, behind the sleep: the terminal echoes them.
    expect(re.compile(rb"echo par"), "typed")
    put("sent2", b"")
    expect(ANSWER, "answer2")
    expect(THIRD, "third")
    s.sendall(b"tial\n")
    expect(PARTIAL, "partial")
    s.sendall(b"exit\n")
    while s.recv(4096):
        pass
except Exception as e:
    with open(f"{dir}/error", "w") as f:
        f.write(f"{type(e).__name__}: {e}; seen {seen[-200:]!r}\n")
    sys.exit(1)
