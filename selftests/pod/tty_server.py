#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A telnet-like server for tty.sh: tty_server.py ADDR PORT, a pod's command.

One connection gets an interactive shell (sh -i) on a pseudo-terminal of
the pod, its window 33 rows by 101 columns: what the client sends goes to
the terminal, what the terminal says goes back, as telnetd does (without
the protocol).  It ends when the shell does.
"""
import fcntl
import os
import pty
import select
import socket
import struct
import sys
import termios

ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], int(sys.argv[2])))
ls.listen(1)
conn, _ = ls.accept()
ls.close()
pid, master = pty.fork()
if pid == 0:
    os.execv("/bin/sh", ["sh", "-i"])
fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
while True:
    r, _, _ = select.select([conn, master], [], [])
    if conn in r:
        data = conn.recv(4096)
        if not data:
            break
        os.write(master, data)
    if master in r:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        conn.sendall(data)
conn.close()
os.waitpid(pid, 0)
