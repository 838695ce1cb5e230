# SPDX-License-Identifier: GPL-2.0
"""`make debug-kernel`: Linux 6.12 from Debian's linux-source-6.12 with
KASAN, lockdep, kmemleak and friends (tools/lab/debug.config).

The kernel is configured as defconfig + kvm_guest.config + the fragment and
built in a tree kept in the cache across fragment changes (so a change costs
an incremental build).  What the lab needs lands in debug-KEY/, where KEY
hashes the source version and the fragment: bzImage, the external-module
build tree (the kernel's own install-extmod-build), modules.builtin*,
System.map and the release string, written last.
"""

import fcntl
import os
import shutil
import signal
import subprocess
import sys

from .kernels import cache_root, debug_cache, debug_fragment
from .srctree import source_tree


class BuildError(Exception):
    pass


# The build's commands running now, each in a process group of its own: a
# build in a thread of make check is stopped by kill() on Ctrl-C.
_RUNNING = set()


def _run(cmd, log, **kw):
    log.write(("+ %s\n" % " ".join(cmd)).encode())
    log.flush()
    # Niced: it may run beside labs whose guests must not starve.
    proc = subprocess.Popen(["nice", "-n", "19"] + cmd, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, **kw)
    _RUNNING.add(proc)
    try:
        rc = proc.wait()
    finally:
        _RUNNING.discard(proc)
    if rc:
        raise BuildError("`%s` failed (exit %d); see the log" % (" ".join(cmd), rc))


def kill():
    """Stop the build's running commands (a build in another thread)."""
    for proc in list(_RUNNING):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass


def _config_misses(config, fragment):
    """Fragment lines the final .config does not honour."""
    with open(config) as f:
        have = set(f.read().splitlines())
    misses = []
    with open(fragment) as f:
        for line in f:
            line = line.strip()
            if line.startswith("CONFIG_"):
                if line not in have:
                    misses.append(line)
            elif line.startswith("# CONFIG_") and line.endswith(" is not set"):
                sym = line.split()[1]
                if any(h.startswith(sym + "=") for h in have):
                    misses.append(line)
    return misses


def build(log=None, force=False, jobs=None):
    out = debug_cache()
    if os.path.exists(os.path.join(out, "release")) and not force:
        return out
    root = cache_root()
    os.makedirs(root, exist_ok=True)
    logf = open(log, "wb") if log else sys.stdout.buffer
    with open(os.path.join(root, ".debug-kernel.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(os.path.join(out, "release")) and not force:
            return out
        src = source_tree()
        obj = os.path.join(root, "kbuild-6.12")
        os.makedirs(obj, exist_ok=True)
        make = ["make", "-C", src, "O=" + obj]
        _run(make + ["-s", "defconfig", "kvm_guest.config"], logf)
        _run([os.path.join(src, "scripts/kconfig/merge_config.sh"), "-m", "-O", obj,
              os.path.join(obj, ".config"), debug_fragment()], logf)
        _run(make + ["-s", "olddefconfig"], logf)
        misses = _config_misses(os.path.join(obj, ".config"), debug_fragment())
        if misses:
            raise BuildError("the debug config does not take: %s" % ", ".join(misses))
        _run(make + ["-j%d" % (jobs or (os.cpu_count() or 1) + 1), "bzImage", "modules"], logf)
        release = subprocess.run(make + ["-s", "kernelrelease"], capture_output=True,
                                 text=True, check=True).stdout.strip()
        tmp = out + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        _run(make + ["-s", "run-command",
                     "KBUILD_RUN_COMMAND=${srctree}/scripts/package/install-extmod-build "
                     + os.path.join(tmp, "build")], logf)
        shutil.copy(os.path.join(obj, "arch/x86/boot/bzImage"), tmp)
        for name in ("System.map", "modules.builtin", "modules.builtin.modinfo",
                     "modules.order", ".config"):
            path = os.path.join(obj, name)
            if os.path.exists(path):
                shutil.copy(path, os.path.join(tmp, name.lstrip(".")))
        with open(os.path.join(tmp, "release"), "w") as f:
            f.write(release + "\n")
        shutil.rmtree(out, ignore_errors=True)
        os.rename(tmp, out)
        # Older builds of other fragments are of no further use.
        for name in os.listdir(root):
            path = os.path.join(root, name)
            if name.startswith("debug-") and path != out and os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
    if log:
        logf.close()
    return out
