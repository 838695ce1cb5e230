# SPDX-License-Identifier: GPL-2.0
"""Finding kernel splats in a guest's console and showing them.

Anything here fails the run: a WARN, BUG or oops, a panic, a KASAN, KFENCE,
UBSAN or kmemleak report, a lockdep report (they all start with "WARNING:" or
"BUG:"), a hung task, a soft lockup or an RCU stall, and the lab's own notes
(a lockdep that switched itself off, a module that failed to unload).
"""

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


def annotate(kernel, lines):
    """Append source lines to the frames of our own modules."""
    script = faddr2line_script()
    out = []
    cache = {}
    for line in lines:
        out.append(line)
        m = FRAME.search(line)
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
                         if " at " in ln]
            except (OSError, subprocess.TimeoutExpired):
                where = []
            cache[key] = [os.path.relpath(w, os.path.join(BUILD, kernel.release))
                          if w.startswith(BUILD) else w.replace(SRC + "/", "")
                          for w in where]
        for w in cache[key]:
            out.append("        -> %s" % w)
    return out
