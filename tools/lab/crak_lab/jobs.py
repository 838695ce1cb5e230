# SPDX-License-Identifier: GPL-2.0
"""Running commands on lab nodes: the host's side of guest/agent.py.

A job is a bash script dropped into $LAB_DIR/nodes/NODE/jobs/.  The command
runs like ssh runs one: its words are joined with spaces and read by bash on
the node, in the caller's directory when that is inside the checkout (which
every node mounts at the same path).  LAB_* and CRAK_* variables go along.
Output streams back as the job writes it; the exit status is the command's,
or 255 when the node is gone.
"""

import itertools
import os
import shlex
import signal
import sys
import time

from . import SRC

POLL = 0.01
_seq = itertools.count()


class JobError(Exception):
    pass


def _node_dir(labdir, node):
    path = os.path.join(labdir, "nodes", node)
    if not os.path.isdir(path):
        nodes = sorted(os.listdir(os.path.join(labdir, "nodes")))
        raise JobError("no node %r in this lab (nodes: %s)" % (node, ", ".join(nodes)))
    return path


def node_alive(labdir, node):
    """Whether NODE's qemu runs: an exited one (a guest that panicked) may be
    a zombie until the lab reaps it, which signal 0 would still reach."""
    try:
        with open(os.path.join(labdir, "nodes", node, "qemu.pid")) as f:
            pid = int(f.read())
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, ValueError, IndexError):
        return False


def _script(labdir, command):
    cwd = os.getcwd()
    if not any(cwd == d or cwd.startswith(d + "/") for d in (SRC, labdir)):
        cwd = SRC
    lines = ["cd %s || exit 1" % shlex.quote(cwd)]
    for key, value in sorted(os.environ.items()):
        if (key.startswith("LAB_") or key.startswith("CRAK_")) and key != "LAB_NODE":
            lines.append("export %s=%s" % (key, shlex.quote(value)))
    lines.append(command)
    return "\n".join(lines) + "\n"


def submit(labdir, node, command):
    """Start command on node; return the job's handle ("node:id")."""
    jobs = os.path.join(_node_dir(labdir, node), "jobs")
    job = "%d-%d-%d" % (os.getpid(), next(_seq), time.monotonic_ns() % 10**9)
    path = os.path.join(jobs, job + ".cmd")
    with open(path + ".tmp", "w") as f:
        f.write(_script(labdir, command))
    os.rename(path + ".tmp", path)
    return "%s:%s" % (node, job)


def _split(labdir, handle):
    node, _, job = handle.partition(":")
    if not job:
        raise JobError("bad job handle %r" % handle)
    return node, os.path.join(_node_dir(labdir, node), "jobs", job)


class _Tail:
    def __init__(self, path, sink):
        self.path = path
        self.sink = sink
        self.pos = 0

    def pump(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except FileNotFoundError:
            return
        if data:
            self.pos += len(data)
            if self.sink:
                self.sink.write(data)
                self.sink.flush()


def wait(labdir, handle, timeout=None, stream=True):
    """Wait for a job, streaming its output; return its exit status (255 if
    the node died, 124 on timeout, after which the job is killed)."""
    node, base = _split(labdir, handle)
    out = _Tail(base + ".out", sys.stdout.buffer if stream else None)
    err = _Tail(base + ".err", sys.stderr.buffer if stream else None)
    deadline = None if timeout is None else time.monotonic() + timeout
    checked = time.monotonic()
    rc = None
    while rc is None:
        out.pump()
        err.pump()
        try:
            with open(base + ".rc") as f:
                rc = int(f.read())
            break
        except (FileNotFoundError, ValueError):
            pass
        now = time.monotonic()
        if deadline is not None and now > deadline:
            kill(labdir, handle, signal.SIGKILL)
            rc = 124
            break
        if now - checked > 1:
            checked = now
            if not node_alive(labdir, node):
                sys.stderr.write("lab: node %s is down\n" % node)
                rc = 255
                break
        time.sleep(POLL)
    out.pump()
    err.pump()
    forget(labdir, handle)
    return rc


def run(labdir, node, command, timeout=None, stream=True):
    return wait(labdir, submit(labdir, node, command), timeout, stream)


def kill(labdir, handle, sig=signal.SIGTERM):
    """Signal every process of the job's session."""
    _, base = _split(labdir, handle)
    with open(base + ".kill.tmp", "w") as f:
        f.write("%d\n" % int(sig))
    os.rename(base + ".kill.tmp", base + ".kill")


def forget(labdir, handle):
    _, base = _split(labdir, handle)
    for ext in (".cmd", ".out", ".err", ".rc"):
        try:
            os.unlink(base + ext)
        except FileNotFoundError:
            pass


def forget_all(labdir, node):
    jobs = os.path.join(labdir, "nodes", node, "jobs")
    for name in os.listdir(jobs):
        try:
            os.unlink(os.path.join(jobs, name))
        except OSError:
            pass


def barrier(labdir, name, count, who, timeout=120):
    """Wait until count parties (named by who) reached the barrier name."""
    path = os.path.join(labdir, "barriers", name)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, who), "w"):
        pass
    deadline = time.monotonic() + timeout
    while len(os.listdir(path)) < count:
        if time.monotonic() > deadline:
            raise JobError("barrier %s: %d of %d after %d s"
                           % (name, len(os.listdir(path)), count, timeout))
        time.sleep(POLL)
