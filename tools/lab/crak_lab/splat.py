# SPDX-License-Identifier: GPL-2.0
"""Finding kernel splats in a guest's console and showing them.

Anything here fails the run: a WARN, BUG or oops, a panic, a KASAN, KFENCE,
UBSAN or kmemleak report, a lockdep report (they all start with "WARNING:" or
"BUG:"), a hung task, a soft lockup or an RCU stall, and the lab's own notes
(a lockdep that switched itself off, a module that failed to unload).
"""

import bisect
import os
import re
import subprocess

from . import BUILD, SRC

START = re.compile(
    r"------------\[ cut here \]------------"
    r"|\bWARNING: "
    r"|\bBUG: "
    r"|\bkernel BUG at "
    r"|\bOops: "
    r"|\bgeneral protection fault"
    r"|\bKernel panic"
    r"|\bUBSAN: "
    r"|\bunreferenced object 0x"
    r"|\bINFO: task .* blocked for more than"
    r"|\bINFO: rcu_\w+ (?:detected|self-detected) stall"
    r"|\brcu: INFO: rcu_\w+ (?:detected|self-detected) stall"
    r"|\bwatchdog: BUG: soft lockup"
    r"|\blab-splat: ")
# "[   12.345678] " and the optional "[ T123] " caller id.
PREFIX = re.compile(r"^\[\s*\d+\.\d+\]\s(?:\[\s*[CT]\d+\]\s)?")
FRAME = re.compile(r"(?:RIP: \d+:|\s)([A-Za-z_][\w.]*)\+(0x[0-9a-f]+)/0x[0-9a-f]+ \[(\w+)\]")
# A frame printed after its module was unloaded: a bare address.
BARE = re.compile(r"^\s+(0xffffffff[0-9a-f]{8})\s*$")
MAX_LINES = 150


def find(text):
    """Split console text into splats: lists of lines, each from a report's
    first line to its end marker (or the next report, or MAX_LINES)."""
    lines = text.splitlines()
    splats = []
    i = 0
    while i < len(lines):
        if not START.search(PREFIX.sub("", lines[i])):
            i += 1
            continue
        j = i + 1
        while j < len(lines) and j - i < MAX_LINES:
            body = PREFIX.sub("", lines[j])
            if re.match(r"---\[ end (?:trace|Kernel panic)|={20,}$", body):
                j += 1
                break
            if "---[ cut here ]---" in body:
                break
            j += 1
        splats.append(lines[i:j])
        i = j
    return splats


def faddr2line_script():
    from .srctree import source_file
    try:
        return source_file("scripts/faddr2line")
    except Exception:
        return None


def module_object(kernel, module):
    """The .ko (with -g) a frame in [module] came from, if we built it."""
    root = os.path.join(BUILD, kernel.release)
    for dirpath, _, files in os.walk(root):
        if module + ".ko" in files:
            return os.path.join(dirpath, module + ".ko")
    return None


class ModuleSymbols:
    """Symbols of our modules saved from a node's /proc/kallsyms (guest/reset
    does before unloading them), to name frames reported after the unload."""

    def __init__(self, path):
        self.syms = []
        try:
            with open(path) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) == 4 and parts[1] in "tT":
                        self.syms.append((int(parts[0], 16), parts[2], parts[3].strip("[]")))
        except (OSError, ValueError):
            pass
        self.syms.sort()

    def lookup(self, addr):
        """(function, offset, module) of the function addr falls in."""
        i = bisect.bisect_right(self.syms, (addr, "\uffff")) - 1
        if i < 0:
            return None
        start, name, module = self.syms[i]
        last = i + 1 == len(self.syms) or self.syms[i + 1][2] != module
        # The last function of a module has no next symbol to end it.
        if last and addr - start > 0x1000:
            return None
        return name, addr - start, module


def annotate(kernel, lines, modsyms=None):
    """Append source lines to the frames of our own modules; name the bare
    addresses of frames in modules unloaded before the report was printed."""
    script = faddr2line_script()
    syms = ModuleSymbols(modsyms) if modsyms else None
    out = []
    cache = {}
    for line in lines:
        out.append(line)
        m = FRAME.search(line)
        if not m and syms:
            bare = BARE.search(PREFIX.sub("", line))
            hit = syms.lookup(int(bare.group(1), 16)) if bare else None
            if hit:
                out[-1] = "%s  (%s+%#x [%s])" % (line, hit[0], hit[1], hit[2])
                m = FRAME.search(" %s+%#x/0x0 [%s]" % hit)
        if not m or not script:
            continue
        func, off, module = m.groups()
        ko = module_object(kernel, module)
        if not ko:
            continue
        key = (ko, func, off)
        if key not in cache:
            try:
                res = subprocess.run([script, ko, "%s+%s" % (func, off)],
                                     capture_output=True, text=True, timeout=30)
                where = [ln.split(" at ", 1)[1] for ln in res.stdout.splitlines()
                         if " at " in ln and "mismatch" not in ln]
            except (OSError, subprocess.TimeoutExpired):
                where = []
            cache[key] = [os.path.relpath(w, os.path.join(BUILD, kernel.release))
                          if w.startswith(BUILD) else w.replace(SRC + "/", "")
                          for w in where]
        for w in cache[key]:
            out.append("        -> %s" % w)
    return out
