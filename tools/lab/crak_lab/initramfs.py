# SPDX-License-Identifier: GPL-2.0
"""The initramfs a lab guest boots from: busybox, guest/init, and the
modules init needs (none on the debug kernel, where everything is built
in)."""

import os
import shutil
import subprocess
import tempfile
import threading

from . import BUILD, SRC

BUSYBOX = "/bin/busybox"
INIT = os.path.join(SRC, "tools/lab/guest/init")
# What init needs: the virtio PCI transport, 9p over virtio, the network
# card, overlayfs (for the staged modules) and virtio-serial (the agent's
# kick port).
WANTED = ("virtio_pci", "9pnet_virtio", "9p", "virtio_net", "overlay", "virtio_console")


def _modname(path):
    base = os.path.basename(path)
    return base.split(".ko")[0].replace("-", "_")


def _load_order(moddir):
    """Module files for WANTED in load order (dependencies first), skipping
    what is built in."""
    builtin = set()
    with open(os.path.join(moddir, "modules.builtin")) as f:
        for line in f:
            builtin.add(_modname(line.strip()))
    deps = {}
    with open(os.path.join(moddir, "modules.dep")) as f:
        for line in f:
            mod, _, rest = line.partition(":")
            deps[_modname(mod)] = (mod, rest.split())
    order = []

    def visit(name):
        if name in builtin or any(name == _modname(p) for p in order):
            return
        if name not in deps:
            raise RuntimeError("module %s not found in %s" % (name, moddir))
        path, needs = deps[name]
        for dep in needs:
            visit(_modname(dep))
        order.append(path)

    for name in WANTED:
        visit(name)
    return order


def _unpack_module(src, dst):
    if src.endswith(".xz"):
        cmd = ["xz", "-dc", src]
    elif src.endswith(".zst"):
        cmd = ["zstd", "-dcq", src]
    elif src.endswith(".gz"):
        cmd = ["gzip", "-dc", src]
    else:
        shutil.copyfile(src, dst)
        return
    with open(dst, "wb") as out:
        subprocess.run(cmd, stdout=out, check=True)


# Labs of one process (make check's) boot side by side, two of one kernel.
_lock = threading.Lock()


def build(kernel):
    """Return the path of the kernel's initramfs, building it if stale."""
    with _lock:
        return _build(kernel)


def _build(kernel):
    out = os.path.join(BUILD, "lab", "initramfs-%s.cpio.gz" % kernel.release)
    inputs = [INIT, BUSYBOX, __file__]
    if not kernel.debug:
        inputs.append(os.path.join(kernel.moddir, "modules.dep"))
    if os.path.exists(out) and all(os.path.getmtime(out) >= os.path.getmtime(p) for p in inputs):
        return out
    os.makedirs(os.path.dirname(out), exist_ok=True)
    mods = [] if kernel.debug else _load_order(kernel.moddir)
    with tempfile.TemporaryDirectory(prefix="crak-initramfs-") as tmp:
        for d in ("bin", "dev", "proc", "sys", "newroot", "lib/mod"):
            os.makedirs(os.path.join(tmp, d))
        shutil.copy2(BUSYBOX, os.path.join(tmp, "bin/busybox"))
        shutil.copy2(INIT, os.path.join(tmp, "init"))
        names = []
        for path in mods:
            name = _modname(path)
            _unpack_module(os.path.join(kernel.moddir, path),
                           os.path.join(tmp, "lib/mod", name + ".ko"))
            names.append(name)
        with open(os.path.join(tmp, "modules.list"), "w") as f:
            f.write("".join(n + "\n" for n in names))
        files = subprocess.run(["find", "."], cwd=tmp, capture_output=True, check=True).stdout
        cpio = subprocess.run(["cpio", "--quiet", "-o", "-H", "newc", "-R", "0:0"], cwd=tmp,
                              input=files, capture_output=True, check=True).stdout
        tmp_out = "%s.%d.tmp" % (out, os.getpid())
        with open(tmp_out, "wb") as f:
            subprocess.run(["gzip", "-1"], input=cpio, stdout=f, check=True)
        os.rename(tmp_out, out)
    return out
