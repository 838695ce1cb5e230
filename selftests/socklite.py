# SPDX-License-Identifier: GPL-2.0
"""Sockets for the selftests' helpers that run in lab guests, without socket.py.

socket.py makes enums of _socket's constants as it is imported: a TCG
guest spends about 0.15 s of CPU on that at each start of a helper, and a
run starts well over a hundred.  A helper imports this module as socket:
it is _socket (its socket type, constants and functions) and the calls
the helpers need that socket.py adds in Python, as functions:

    socket.accept(ls)   for ls.accept()
    socket.dup(s)       for s.dup()

(_socket's socket has no context manager: close it by hand.)
"""

import _socket
from _socket import *  # noqa: F401,F403


def accept(ls):
    """The connection ls accepts, and its peer's address."""
    fd, addr = ls._accept()
    return _socket.socket(fileno=fd), addr


def dup(s):
    """A socket on a new descriptor of s's open file, with s's timeout."""
    d = _socket.socket(fileno=_socket.dup(s.fileno()))
    d.settimeout(s.gettimeout())
    return d
