# SPDX-License-Identifier: GPL-2.0
"""The kernels of the lab's matrix and where their pieces live.

A kernel is named by an alias ("6.12", "6.1", "debug") or by its release
("6.1.0-56-amd64").  Stock kernels are Debian's, installed by `make deps`;
the debug kernel is built from linux-source-6.12 into the cache
(see debugkernel.py).
"""

import glob
import hashlib
import os
import re
import subprocess

from . import SRC

MATRIX = ("6.12", "6.1", "debug")
DEFAULT = "6.12"
STOCK_PREFIX = {"6.12": "6.12", "6.1": "6.1"}


class KernelError(Exception):
    pass


def cache_root():
    root = os.environ.get("CRAK_CACHE")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
        root = os.path.join(base, "crak")
    return root


def _version_key(release):
    return [int(x) if x.isdigit() else x for x in re.split(r"[.+-]", release)]


class Kernel:
    def __init__(self, name, release, image, kdir, moddir, debug=False, cache=None):
        self.name = name            # what the matrix and test names call it
        self.release = release      # uname -r in the guest
        self.image = image          # bzImage / vmlinuz
        self.kdir = kdir            # tree to build external modules against
        self.moddir = moddir        # the kernel's own module directory
        self.debug = debug
        self.cache = cache          # debug kernel's cache directory

    @property
    def memory(self):
        # KASAN's shadow and kmemleak's pool need room of their own.
        return 2048 if self.debug else 1024

    @property
    def machine(self):
        # q35 spares a KASAN kernel ~110 s of ACPI timeouts; stock kernels
        # boot on it just as well.
        return "q35"

    @property
    def boot_timeout(self):
        # Seen: 227 s for the debug kernel's lab booting beside the stock
        # kernels' (9 guests on 2 cores).
        return 480 if self.debug else 120

    def modules_file(self, name):
        """modules.builtin, modules.order ... of this kernel."""
        return os.path.join(self.moddir, name)

    def __repr__(self):
        return "Kernel(%s, %s)" % (self.name, self.release)


def _stock(prefix, name):
    rels = []
    for moddir in glob.glob("/lib/modules/%s*-amd64" % prefix):
        rel = os.path.basename(moddir)
        if not re.match(r"^%s[.-]" % re.escape(prefix), rel):
            continue
        if os.path.exists("/boot/vmlinuz-" + rel) and os.path.isdir(moddir + "/build"):
            rels.append(rel)
    if not rels:
        raise KernelError("kernel %s is not installed (run `make deps`)" % name)
    rel = max(rels, key=_version_key)
    return Kernel(name, rel, "/boot/vmlinuz-" + rel, "/lib/modules/%s/build" % rel,
                  "/lib/modules/" + rel)


def debug_fragment():
    return os.path.join(SRC, "tools/lab/debug.config")


def debug_source_version():
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "linux-source-6.12"],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        raise KernelError("linux-source-6.12 is not installed (run `make deps`)")
    return out.strip()


# Bump when the way the debug kernel is built changes.
DEBUG_RECIPE = "1"


def debug_key():
    h = hashlib.sha256()
    h.update(("recipe %s\nsource %s\n" % (DEBUG_RECIPE, debug_source_version())).encode())
    with open(debug_fragment(), "rb") as f:
        h.update(f.read())
    return h.hexdigest()[:16]


def debug_cache():
    return os.path.join(cache_root(), "debug-" + debug_key())


def debug_kernel(must_exist=True):
    cache = debug_cache()
    try:
        with open(os.path.join(cache, "release")) as f:
            rel = f.read().strip()
    except OSError:
        if must_exist:
            raise KernelError("the debug kernel is not built (run `make debug-kernel`)")
        rel = None
    return Kernel("debug", rel, os.path.join(cache, "bzImage"), os.path.join(cache, "build"),
                  cache, debug=True, cache=cache)


def resolve(name, must_exist=True):
    name = name or DEFAULT
    if name == "debug" or name.endswith("-crak-debug"):
        return debug_kernel(must_exist)
    if name in STOCK_PREFIX:
        return _stock(STOCK_PREFIX[name], name)
    if os.path.exists("/boot/vmlinuz-" + name):
        for alias, prefix in STOCK_PREFIX.items():
            if re.match(r"^%s[.-]" % re.escape(prefix), name):
                return Kernel(alias, name, "/boot/vmlinuz-" + name,
                              "/lib/modules/%s/build" % name, "/lib/modules/" + name)
        return Kernel(name, name, "/boot/vmlinuz-" + name, "/lib/modules/%s/build" % name,
                      "/lib/modules/" + name)
    raise KernelError("unknown kernel %r (try %s, or an installed release)"
                      % (name, ", ".join(MATRIX)))
