# SPDX-License-Identifier: GPL-2.0
"""Staging built modules so that guests can modprobe them.

The host's /lib/modules is read-only in a guest.  The build puts every .ko it
made for a kernel into build/RELEASE/modstage/RELEASE/extra/ next to module
indexes made by depmod on the host over the kernel's own modules plus ours.
A guest lays that directory over /lib/modules (a read-only overlay), so
`modprobe crak_vif` and `ip link add ... type crakvif` find it.
"""

import filecmp
import os
import shutil
import subprocess
import tempfile

from . import BUILD

INDEX_FROM_KERNEL = ("modules.order", "modules.builtin", "modules.builtin.modinfo")


def built_modules(release):
    root = os.path.join(BUILD, release)
    found = []
    for dirpath, dirs, files in os.walk(root):
        if dirpath == root and "modstage" in dirs:
            dirs.remove("modstage")
        found += [os.path.join(dirpath, f) for f in files if f.endswith(".ko")]
    return sorted(found, key=os.path.basename)


def stage(kernel):
    """Bring the staging of kernel up to date; return its root."""
    root = os.path.join(BUILD, kernel.release, "modstage")
    top = os.path.join(root, kernel.release)
    extra = os.path.join(top, "extra")
    mods = built_modules(kernel.release)
    names = [os.path.basename(m) for m in mods]
    if len(set(names)) != len(names):
        raise RuntimeError("two built modules share a name: %s" % names)
    fresh = (os.path.exists(os.path.join(top, "modules.dep"))
             and sorted(os.listdir(extra)) == sorted(names)
             and all(filecmp.cmp(m, os.path.join(extra, os.path.basename(m)), shallow=False)
                     for m in mods))
    if fresh:
        return root
    with tempfile.TemporaryDirectory(prefix="crak-stage-", dir=os.path.join(BUILD)) as tmp:
        mdir = os.path.join(tmp, "lib/modules", kernel.release)
        os.makedirs(os.path.join(mdir, "extra"))
        kdir = os.path.join(kernel.moddir, "kernel")
        if os.path.isdir(kdir):
            os.symlink(kdir, os.path.join(mdir, "kernel"))
        for name in INDEX_FROM_KERNEL:
            src = os.path.join(kernel.moddir, name)
            if os.path.exists(src):
                shutil.copy(src, mdir)
        for m in mods:
            shutil.copy(m, os.path.join(mdir, "extra"))
        subprocess.run(["depmod", "-b", tmp, kernel.release], check=True)
        if os.path.islink(os.path.join(mdir, "kernel")):
            os.unlink(os.path.join(mdir, "kernel"))
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root)
        shutil.move(mdir, top)
    return root
