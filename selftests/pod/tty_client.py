#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""tty.sh's user at a terminal: tty_client.py [--telnet] ADDR PORT DIR.

With --telnet, speaks telnet: gives its window size (33 rows, 101
columns: NAWS) and takes the server's commands out of what it reads.
Types into the pod's shell, over one TCP connection, a line setting X and
asking for its PID, terminal, window size, X and the node's boot ID, and
writes the answer to DIR/answer1.  Once DIR/moving appears (the pod is
about to move), types the question again after "sleep 1000;" (the shell
is in that sleep while it moves; the test ends it on node b), one line
more and the start of another (typed ahead while the shell sleeps: they
wait in the terminal, which echoes them), says so in DIR/sent2, writes the answer to DIR/answer2 and
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

telnet = sys.argv[1] == "--telnet"
if telnet:
    del sys.argv[1]
addr, port, dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
seen = b""
pending = b""


def strip_telnet(data):
    """DATA without telnet's commands (IAC ...); a command cut short by the
    end of a segment waits in pending for the rest."""
    global pending
    data, pending = pending + data, b""
    out = bytearray()
    i = 0
    while i < len(data):
        if data[i] != 0xFF:
            out.append(data[i])
            i += 1
            continue
        if i + 1 >= len(data):
            break
        cmd = data[i + 1]
        if cmd == 0xFF:                 # an escaped 0xff
            out.append(0xFF)
            i += 2
        elif cmd == 0xFA:               # SB ... IAC SE
            se = data.find(b"\xff\xf0", i + 2)
            if se < 0:
                break
            i = se + 2
        elif 0xFB <= cmd <= 0xFE:       # WILL, WONT, DO, DONT and an option
            if i + 2 >= len(data):
                break
            i += 3
        else:
            i += 2
    pending = data[i:]
    return bytes(out)


def received():
    """What the server sends next, telnet's own commands taken out; b""
    once the connection ended."""
    while True:
        data = s.recv(4096)
        if not telnet or not data:
            return data
        data = strip_telnet(data)
        if data:
            return data


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
        data = received()
        if not data:
            raise EOFError("the connection ended")
        seen += data


try:
    s = socket.create_connection((addr, port), timeout=120)
    if telnet:
        # The client's window: 101 columns, 33 rows (NAWS).
        s.sendall(b"\xff\xfb\x1f\xff\xfa\x1f\x00\x65\x00\x21\xff\xf0")
    s.sendall(("X=kept; " + ASK).encode())
    expect(ANSWER, "answer1")
    while not os.path.exists(f"{dir}/moving"):
        time.sleep(0.05)
    # (The test ends the sleep once the pod is on node b.)
    s.sendall(("sleep 1000; " + ASK).encode())
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
    while received():
        pass
except Exception as e:
    with open(f"{dir}/error", "w") as f:
        f.write(f"{type(e).__name__}: {e}; seen {seen[-200:]!r}\n")
    sys.exit(1)
