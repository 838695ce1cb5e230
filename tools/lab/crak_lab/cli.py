# SPDX-License-Identifier: GPL-2.0
"""lab: crak's VM lab.

  lab run [-k KERNEL] [--timeout S] [--console] [--append ARGS] -- CMD [ARG...]
        boot one guest, run CMD as root in the checkout, stream its output,
        power off; exit with CMD's status, or 1 after a kernel splat
  lab up [-k KERNEL]
        boot the three-node lab (a, b, peer) and keep it until Ctrl-C;
        prints the LAB_DIR to export for `lab exec`
  lab with [-k KERNEL] -- CMD [ARG...]
        boot the lab, run CMD on the host in its environment (LAB_DIR...),
        as make check runs a test; tear down; CMD's status, or 1 on a splat
  lab exec [-b] [--timeout S] NODE CMD [ARG...]
        run CMD on NODE of the lab in $LAB_DIR (-b: in the background,
        print a handle for `lab wait` / `lab kill`)
  lab wait HANDLE       lab kill HANDLE [SIGNAL]
  lab reset             every node back as it booted (what make check does
                        between tests)
  lab barrier NAME COUNT [--timeout S]
        wait until COUNT parties (nodes or host scripts) reached NAME
  lab check [-k KERNEL]... [-t PATTERN]
        run the selftests on each kernel (default: the whole matrix)
  lab kernel [-k KERNEL] [release|kdir|image|name]
  lab debug-kernel [--force]
  lab stage [-k KERNEL]   index the modules built for KERNEL for guests
  lab gc                tear down labs left by killed runs
  lab source-file PATH  a file of linux-source-6.12 (checkpatch, faddr2line)

KERNEL is 6.12 (default), 6.1, debug or an installed release.
"""

import argparse
import os
import signal
import sys
import time

from . import jobs

# The rest is imported where needed: `lab exec`, `wait` and `kill` run for
# every command a test sends to a node, and must start fast (no kernels).


def _labdir():
    d = os.environ.get("LAB_DIR")
    if not d or not os.path.isdir(os.path.join(d, "nodes")):
        raise jobs.JobError("no lab here: run inside `lab up`'s or `make check`'s "
                            "environment (LAB_DIR)")
    return d


def cmd_exec(a):
    labdir = _labdir()
    command = " ".join(a.command)
    if a.background:
        print(jobs.submit(labdir, a.node, command))
        return 0
    return jobs.run(labdir, a.node, command, timeout=a.timeout)


def cmd_wait(a):
    return jobs.wait(_labdir(), a.handle, timeout=a.timeout)


def cmd_kill(a):
    sig = a.signal
    if not sig.isdigit():
        sig = getattr(signal, sig if sig.startswith("SIG") else "SIG" + sig)
    jobs.kill(_labdir(), a.handle, int(sig))
    return 0


def cmd_reset(a):
    from .lab import lab_nodes, reset_nodes
    labdir = _labdir()
    late = reset_nodes(labdir, lab_nodes(labdir), "test")
    if late:
        raise jobs.JobError("node(s) %s did not reset" % " ".join(n.name for n in late))
    return 0


def cmd_barrier(a):
    who = os.environ.get("LAB_NODE") or "host-%d" % os.getppid()
    jobs.barrier(_labdir(), a.name, a.count, a.who or who, a.timeout)
    return 0


def _interruptible():
    def stop(signum, frame):
        raise KeyboardInterrupt
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)


def cmd_run(a):
    from . import kernels
    from .lab import Lab
    kernel = kernels.resolve(a.kernel)
    _interruptible()
    t0 = time.monotonic()
    with Lab(kernel, nodes=("a",), memory=a.memory, append=a.append) as lab:
        if a.verbose:
            sys.stderr.write("lab: %s up in %.1f s\n" % (kernel.release, time.monotonic() - t0))
        marks = lab.console_marks()
        for s in lab.boot_splats():
            sys.stderr.write("lab: kernel splat while booting:\n%s\n" % "\n".join(s))
            return 1
        rc = jobs.run(lab.dir, "a", " ".join(a.command), timeout=a.timeout)
        node = lab.nodes["a"]
        if rc == 124:
            sys.stderr.write("lab: timed out after %d s\n" % a.timeout)
            lab.dump_blocked_tasks()
        late = lab.reset("shutdown")
        if a.console:
            sys.stderr.write(node.console_text(marks["a"]))
        splats = lab.splats_since(marks)
        if splats or late or not node.alive():
            if late or not node.alive():
                sys.stderr.write("lab: the guest %s; its console ends with:\n%s\n"
                                 % ("died" if not node.alive() else "hung",
                                    "\n".join(node.console_tail())))
            for s in splats:
                sys.stderr.write("lab: kernel splat:\n%s\n" % "\n".join(s))
            return rc or 1
        return rc


def cmd_with(a):
    """Boot the lab, run a host-side command in its environment (as a test
    runs), tear the lab down; exit with the command's status, or 1 after a
    kernel splat."""
    from . import kernels
    from .lab import Lab
    import subprocess
    kernel = kernels.resolve(a.kernel)
    _interruptible()
    with Lab(kernel, nodes=a.nodes.split(","), memory=a.memory) as lab:
        marks = lab.console_marks()
        rc = subprocess.run(a.command, env=lab.env()).returncode
        late = lab.reset("shutdown")
        splats = lab.splats_since(marks)
        for s in splats:
            sys.stderr.write("lab: kernel splat:\n%s\n" % "\n".join(s))
        if late:
            sys.stderr.write("lab: node(s) %s hung\n" % " ".join(n.name for n in late))
        return rc or (1 if splats or late else 0)


def cmd_up(a):
    from . import kernels
    from .lab import Lab
    kernel = kernels.resolve(a.kernel)
    _interruptible()
    nodes = a.nodes.split(",")
    with Lab(kernel, nodes=nodes) as lab:
        print("lab up: %s, nodes %s" % (kernel.release, " ".join(nodes)))
        for n in lab.nodes.values():
            print("  %-5s %-15s %-18s %s" % (n.name, n.addr4, n.addr6, n.mac))
        print("export LAB_DIR=%s" % lab.dir, flush=True)
        try:
            while not lab.dead_nodes():
                time.sleep(1)
            print("lab: node(s) %s died" % " ".join(n.name for n in lab.dead_nodes()))
            return 1
        except KeyboardInterrupt:
            return 0


def cmd_check(a):
    from . import kernels
    from . import check
    _interruptible()
    names = a.kernel or list(kernels.MATRIX)
    return check.check(names, a.test)


def cmd_kernel(a):
    from . import kernels
    k = kernels.resolve(a.kernel)
    print({"release": k.release, "kdir": k.kdir, "image": k.image, "name": k.name,
           "moddir": k.moddir}[a.field])
    return 0


def cmd_debug_kernel(a):
    from . import debugkernel
    out = debugkernel.build(force=a.force)
    print(out)
    return 0


def cmd_stage(a):
    from . import kernels
    from . import stage
    print(stage.stage(kernels.resolve(a.kernel)))
    return 0


def cmd_gc(a):
    from .lab import gc
    gc()
    return 0


def cmd_source_file(a):
    from .srctree import source_file
    print(source_file(a.path))
    return 0


def parser():
    p = argparse.ArgumentParser(prog="lab", description="crak's VM lab",
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__)
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")
    sub.required = True

    def add(name, fn, help):
        sp = sub.add_parser(name, help=help, description=help)
        sp.set_defaults(fn=fn)
        return sp

    sp = add("run", cmd_run, "boot one guest, run a command, power off")
    sp.add_argument("-k", "--kernel", help="default: 6.12")
    sp.add_argument("--timeout", type=int, default=None)
    sp.add_argument("--memory", type=int, default=None, help="guest memory in MiB")
    sp.add_argument("--console", action="store_true", help="print the kernel's console too")
    sp.add_argument("--append", default="", help="more kernel command line")
    sp.add_argument("-v", "--verbose", action="store_true")
    sp.add_argument("command", nargs=argparse.REMAINDER)

    sp = add("up", cmd_up, "boot the lab and keep it until Ctrl-C")
    sp.add_argument("-k", "--kernel", help="default: 6.12")
    sp.add_argument("--nodes", default="a,b,peer")

    sp = add("with", cmd_with, "boot the lab, run a host command in it, tear it down")
    sp.add_argument("-k", "--kernel", help="default: 6.12")
    sp.add_argument("--nodes", default="a,b,peer")
    sp.add_argument("--memory", type=int, default=None, help="each guest's memory in MiB")
    sp.add_argument("command", nargs=argparse.REMAINDER)

    sp = add("exec", cmd_exec, "run a command on a node")
    sp.add_argument("-b", "--background", action="store_true")
    sp.add_argument("--timeout", type=float, default=None)
    sp.add_argument("node")
    sp.add_argument("command", nargs=argparse.REMAINDER)

    sp = add("wait", cmd_wait, "wait for a background job, print its output")
    sp.add_argument("--timeout", type=float, default=None)
    sp.add_argument("handle")

    sp = add("kill", cmd_kill, "signal a background job")
    sp.add_argument("handle")
    sp.add_argument("signal", nargs="?", default="TERM")

    add("reset", cmd_reset, "put every node of the lab back as it booted")

    sp = add("barrier", cmd_barrier, "wait for COUNT parties at barrier NAME")
    sp.add_argument("name")
    sp.add_argument("count", type=int)
    sp.add_argument("--who", default=None)
    sp.add_argument("--timeout", type=float, default=120)

    sp = add("check", cmd_check, "run the selftests in the lab")
    sp.add_argument("-k", "--kernel", action="append")
    sp.add_argument("-t", "--test", default=None, help="glob or substring; commas for several")

    sp = add("kernel", cmd_kernel, "where a kernel's pieces are")
    sp.add_argument("-k", "--kernel", help="default: 6.12")
    sp.add_argument("field", nargs="?", default="release",
                    choices=("release", "kdir", "image", "name", "moddir"))

    sp = add("debug-kernel", cmd_debug_kernel, "build the debug kernel into the cache")
    sp.add_argument("--force", action="store_true")

    sp = add("stage", cmd_stage, "stage the built modules for modprobe in guests")
    sp.add_argument("-k", "--kernel", help="default: 6.12")

    add("gc", cmd_gc, "tear down labs left behind by killed runs")

    sp = add("source-file", cmd_source_file, "path of a file of linux-source-6.12")
    sp.add_argument("path")
    return p


def main(argv=None):
    a = parser().parse_args(argv)
    if getattr(a, "command", None) is not None:
        if a.command and a.command[0] == "--":
            a.command = a.command[1:]
        if not a.command:
            parser().error("a command is needed")
    try:
        return a.fn(a)
    except Exception as e:
        from .debugkernel import BuildError
        from .kernels import KernelError
        from .lab import LabError
        if not isinstance(e, (KernelError, LabError, jobs.JobError, BuildError)):
            raise
        sys.stderr.write("lab: %s\n" % e)
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("lab: interrupted\n")
        return 130
