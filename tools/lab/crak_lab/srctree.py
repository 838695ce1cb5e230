# SPDX-License-Identifier: GPL-2.0
"""Debian's linux-source-6.12, unpacked once into the cache.

It is where the debug kernel is built from, and where the project takes the
kernel's own tools at build time (checkpatch.pl, faddr2line,
kselftest_harness.h) instead of copying them in.
"""

import fcntl
import os
import shutil
import subprocess

from .kernels import cache_root, debug_source_version, KernelError

TARBALL = "/usr/src/linux-source-6.12.tar.xz"


def source_tree():
    """Path of the unpacked tree; unpacks it (about 10 s) when missing or
    when the package changed."""
    root = cache_root()
    tree = os.path.join(root, "linux-source-6.12")
    stamp = os.path.join(root, "linux-source-6.12.version")
    version = debug_source_version()
    try:
        with open(stamp) as f:
            if f.read().strip() == version and os.path.isdir(tree):
                return tree
    except OSError:
        pass
    if not os.path.exists(TARBALL):
        raise KernelError("%s is missing (run `make deps`)" % TARBALL)
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, ".unpack.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(stamp) as f:
                if f.read().strip() == version and os.path.isdir(tree):
                    return tree
        except OSError:
            pass
        shutil.rmtree(tree, ignore_errors=True)
        subprocess.run(["tar", "-C", root, "-xf", TARBALL], check=True)
        with open(stamp, "w") as f:
            f.write(version + "\n")
    return tree


def source_file(rel):
    path = os.path.join(source_tree(), rel)
    if not os.path.exists(path):
        raise KernelError("%s is not in linux-source-6.12" % rel)
    return path
