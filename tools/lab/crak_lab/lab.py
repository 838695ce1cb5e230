# SPDX-License-Identifier: GPL-2.0
"""The multi-node lab: qemu guests on one L2 segment.

The segment is a bridge with one tap per guest inside a network namespace the
lab creates (never the root namespace).  Every guest boots the chosen kernel
over the host's root (read-only 9p) and shares two directories read-write
with the host, at the same paths as on the host: the checkout and the lab's
run directory (LAB_DIR), which also holds the "nodes share a filesystem"
directory ($LAB_DIR/shared).  Nodes run the host's jobs through the agent
(guest/agent.py); see jobs.py for the host side.
"""

import ctypes
import itertools
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

from . import BUILD, SRC, initramfs, jobs, kernels, splat

NODES = ("a", "b", "peer")
NETNS_PREFIX = "crak-lab-"
_lab_serial = itertools.count(1)


class LabError(Exception):
    pass


def node_addresses(index):
    """Addresses of the index-th node (1-based): documentation ranges only."""
    return ("192.0.2.%d/24" % index, "2001:db8::%d/64" % index,
            "52:54:00:c0:02:%02x" % index)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, **kw)


class Node:
    def __init__(self, lab, name, index):
        self.lab = lab
        self.name = name
        self.index = index
        self.addr4, self.addr6, self.mac = node_addresses(index)
        self.tap = "tap-" + name
        self.state = os.path.join(lab.dir, "nodes", name)
        self.console = os.path.join(self.state, "console.log")
        self.monitor = os.path.join(self.state, "monitor.sock")
        self.kick_sock = os.path.join(self.state, "kick.sock")
        self.proc = None
        self.booted_at = None

    def cmdline(self):
        k = self.lab.kernel
        # A busy host can starve a TCG vCPU for many seconds: watchdogs
        # report lockups and stalls after two minutes, not twenty or thirty
        # seconds (a debug guest's boot once saw a workqueue "lockup" of 85).
        # TCG keeps the code it translated by virtual address as well: with
        # address space randomization each process's libraries land
        # elsewhere and are translated anew, and a process start (python,
        # ss, crak) costs a guest 40% more.  Without it, restarts meet the
        # addresses they were checkpointed at in the restorer's own way.
        args = [
            "console=ttyS0", "panic=-1", "net.ifnames=0", "norandmaps",
            "watchdog_thresh=60", "rcupdate.rcu_cpu_stall_timeout=120",
            "workqueue.watchdog_thresh=120",
            # The crypto API's self-tests at boot are no test of crak's, and
            # a starved guest once failed one (hmac(sha512) not there in
            # time for drbg's: a WARN that failed the lab's boot).
            "cryptomgr.notests=1",
            "crak.src=" + SRC, "crak.lab=" + self.lab.dir, "crak.node=" + self.name,
            "crak.addr4=" + self.addr4, "crak.addr6=" + self.addr6,
            "crak.modules=" + self.lab.module_stage,
            "crak.cache=" + kernels.cache_root(),
        ]
        if k.debug:
            args += ["kasan_multi_shot", "kmemleak=on"]
            # The debug kernel has no HPET or PM timer to calibrate its TSC
            # against: mostly it cannot, and keeps time by its ticks; but a
            # guest starved at boot once took the PIT's count for a TSC of
            # 296 MHz (it is the host's 2.6 GHz) and ran with a clock nine
            # times too fast (each timeout in it, and TCP's, a ninth).  As
            # the others: time by ticks, not by TSC (nor its deadlines).
            args += ["tsc=unstable", "lapic=notscdeadline"]
        if self.lab.append:
            args.append(self.lab.append)
        return " ".join(args)

    def qemu_argv(self):
        k = self.lab.kernel
        # One host thread per guest: multi-threaded TCG lets a vCPU run
        # code another vCPU is patching (static keys: tcpdump's timestamps,
        # netfilter hooks) and the guest oopses on a stray int3.  Three
        # guests on two host cores gain nothing from it anyway.
        # The debug kernel once hit a KASAN report at its earliest boot with
        # five-level paging (a timer interrupt in identify_cpu() touching a
        # lock whose shadow was not mapped yet): it gets four levels.
        # No ERMS or FSRM: with them the kernel clears pages and copies to
        # and from user memory with "rep stosb" and "rep movsb", which TCG
        # runs a byte at a time; without them with 8-byte strings (reading
        # a file of 200 MiB from tmpfs: 0.45 s -> 0.12 s; zeroing a 100 MiB
        # bytearray 0.53 -> 0.18 s; 6.12's lab 5-10% less CPU).
        cpu = "max,erms=off,fsrm=off"
        if k.debug:
            cpu += ",la57=off"
        argv = [
            "qemu-system-x86_64", "-name", "crak-lab-" + self.name,
            "-machine", k.machine, "-accel", "tcg,thread=single", "-cpu", cpu,
            "-smp", str(self.lab.cpus), "-m", str(self.lab.memory or k.memory),
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-kernel", k.image, "-initrd", self.lab.initrd, "-append", self.cmdline(),
            "-serial", "file:" + self.console,
            "-monitor", "unix:%s,server=on,wait=off" % self.monitor,
        ]
        for tag, path, ro in (("hostroot", "/", True), ("src", SRC, False),
                              ("lab", self.lab.dir, False)):
            argv += ["-fsdev", "local,id=%s,path=%s,security_model=none,multidevs=remap%s"
                     % (tag, path, ",readonly=on" if ro else ""),
                     "-device", "virtio-9p-pci,fsdev=%s,mount_tag=%s" % (tag, tag)]
        argv += ["-netdev", "tap,id=net0,ifname=%s,script=no,downscript=no" % self.tap,
                 "-device", "virtio-net-pci,netdev=net0,mac=" + self.mac]
        argv += ["-device", "virtio-serial-pci,id=vser0",
                 "-chardev", "socket,id=kick,path=%s,server=on,wait=off" % self.kick_sock,
                 "-device", "virtserialport,bus=vser0.0,chardev=kick,name=crak.kick"]
        return argv

    def start(self):
        argv = ["ip", "netns", "exec", self.lab.netns] + self.qemu_argv()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=open(os.path.join(self.state, "qemu.log"), "wb"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        with open(os.path.join(self.state, "qemu.pid"), "w") as f:
            f.write("%d\n" % self.proc.pid)
        self.booted_at = time.monotonic()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cpu_seconds(self):
        """The CPU time its qemu has used (user and system), 0 once it is gone."""
        try:
            with open("/proc/%d/stat" % self.proc.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (AttributeError, OSError, IndexError, ValueError):
            return 0.0

    def ready(self):
        return os.path.exists(os.path.join(self.state, "ready"))

    def console_text(self, start=0):
        try:
            with open(self.console, "rb") as f:
                f.seek(start)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def console_size(self):
        try:
            return os.path.getsize(self.console)
        except OSError:
            return 0

    def console_tail(self, lines=40):
        return self.console_text().splitlines()[-lines:]

    def hmp(self, command):
        """A human monitor command (e.g. "sendkey alt-sysrq-w")."""
        import socket
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            s.connect(self.monitor)
            s.sendall(command.encode() + b"\n")
            time.sleep(0.5)
            s.close()
        except OSError:
            pass

    def stop(self, grace=10):
        if not self.alive():
            return
        try:
            with open(os.path.join(self.state, "poweroff"), "w"):
                pass
        except OSError:
            pass
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()


class Kicker(threading.Thread):
    """Wakes a node's agent (guest/agent.py) through its kick port whenever
    a request for it lands in the lab directory: a job, a kill, a reset or a
    power-off.  Watches the directories with inotify, so that neither side
    polls."""

    IN_CREATE = 0x100
    IN_MOVED_TO = 0x80
    EVENT = struct.Struct("iIII")

    def __init__(self, nodes):
        super().__init__(name="crak-lab-kicker", daemon=True)
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise LabError("inotify: %s" % os.strerror(ctypes.get_errno()))
        self.watches = {}
        self.socks = {}
        self.lost = set()           # nodes owed a look at everything
        for node in nodes:
            for path in (node.state, os.path.join(node.state, "jobs")):
                wd = self.libc.inotify_add_watch(self.fd, path.encode(),
                                                 self.IN_CREATE | self.IN_MOVED_TO)
                if wd < 0:
                    raise LabError("inotify on %s: %s" % (path, os.strerror(ctypes.get_errno())))
                self.watches[wd] = node
        self.stop_r, self.stop_w = os.pipe()

    def kick(self, node, names=(b"*",)):
        """Send the agent the names of what landed for it, a line each; if
        some cannot go now, a "*" (look at everything) next time."""
        msg = b"".join(n + b"\n" for n in names)
        if node.name in self.lost:
            msg = b"\n*\n" + msg
        sock = self.socks.get(node.name)
        for _ in range(2):
            if sock is None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.connect(node.kick_sock)
                except OSError:
                    sock.close()
                    return      # qemu not listening yet: the agent polls
                sock.setblocking(False)
                self.socks[node.name] = sock
            try:
                sent = sock.send(msg)
            except BlockingIOError:
                sent = 0
            except OSError:
                # qemu restarted its side: reconnect once.
                sock.close()
                del self.socks[node.name]
                sock = None
                continue
            if sent < len(msg):
                # The agent is behind: it gets a look at everything next
                # time (after a new line, should this one be cut short).
                self.lost.add(node.name)
            else:
                self.lost.discard(node.name)
            return

    @staticmethod
    def wanted(name):
        return name.endswith((".cmd", ".kill")) or name in ("reset", "poweroff")

    def run(self):
        while True:
            ready, _, _ = select.select([self.fd, self.stop_r], [], [])
            if self.stop_r in ready:
                break
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                continue
            names = {}
            off = 0
            while off < len(buf):
                wd, _, _, length = self.EVENT.unpack_from(buf, off)
                name = buf[off + self.EVENT.size:off + self.EVENT.size + length].rstrip(b"\0")
                off += self.EVENT.size + length
                if wd == -1:
                    # The queue overflowed (IN_Q_OVERFLOW): names were lost.
                    for node in set(self.watches.values()):
                        names.setdefault(node, []).append(b"*")
                    continue
                node = self.watches.get(wd)
                if node and self.wanted(name.decode(errors="replace")):
                    names.setdefault(node, []).append(name)
            for node, wanted in names.items():
                self.kick(node, wanted)

    def connect(self, node, timeout=5):
        """Connect early, so that the agent finds a host on its port."""
        deadline = time.monotonic() + timeout
        while node.name not in self.socks and time.monotonic() < deadline:
            self.kick(node)
            time.sleep(0.05)

    def stop(self):
        os.write(self.stop_w, b"x")
        self.join()
        for sock in self.socks.values():
            sock.close()
        for fd in (self.fd, self.stop_r, self.stop_w):
            os.close(fd)


class Lab:
    """A running lab for one kernel.  Use as a context manager: leaving it,
    by success, failure or Ctrl-C, tears everything down."""

    def __init__(self, kernel, nodes=NODES, keep=False, logdir=None, cpus=2, memory=None,
                 append=""):
        self.kernel = kernel
        self.node_names = tuple(nodes)
        self.keep = keep
        self.logdir = logdir
        self.cpus = cpus
        self.memory = memory
        self.append = append
        self.dir = None
        self.netns = None
        self.nodes = {}
        self.kicker = None
        self.initrd = None
        self.module_stage = os.path.join(BUILD, kernel.release, "modstage")

    # -- setup and teardown ------------------------------------------------

    def __enter__(self):
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc):
        self.down()
        return False

    def up(self):
        if os.geteuid() != 0:
            raise LabError("the lab needs root (network namespaces, taps)")
        if not os.path.exists(self.kernel.image):
            raise LabError("kernel image %s is missing" % self.kernel.image)
        # Labs of one process start side by side: none may take another's
        # directory, not yet owned, for a dead lab's.
        with _up_lock:
            gc()
            self.dir = tempfile.mkdtemp(prefix="crak-lab-")
            with open(os.path.join(self.dir, "owner"), "w") as f:
                f.write("%d\n" % os.getpid())
        self.initrd = initramfs.build(self.kernel)
        os.chmod(self.dir, 0o755)
        os.makedirs(os.path.join(self.dir, "shared"))
        os.chmod(os.path.join(self.dir, "shared"), 0o1777)
        # One process may run several labs at once (make check's kernels).
        self.netns = NETNS_PREFIX + "%d-%d" % (os.getpid(), next(_lab_serial))
        self._make_segment()
        for i, name in enumerate(self.node_names, 1):
            self.nodes[name] = Node(self, name, i)
        self._write_env()
        for node in self.nodes.values():
            os.makedirs(os.path.join(node.state, "jobs"))
        self.kicker = Kicker(self.nodes.values())
        self.kicker.start()
        for node in self.nodes.values():
            node.start()
        for node in self.nodes.values():
            self.kicker.connect(node)
        self.wait_ready(self.kernel.boot_timeout)
        late = self.reset("boot")
        if late:
            raise LabError("node(s) %s did not settle after boot:\n%s" % (
                ", ".join(n.name for n in late), "\n".join(late[0].console_tail())))

    def _make_segment(self):
        try:
            run(["ip", "netns", "add", self.netns])
            ns = ["ip", "-n", self.netns]
            run(ns + ["link", "set", "lo", "up"])
            run(ns + ["link", "add", "br0", "type", "bridge", "forward_delay", "0",
                      "stp_state", "0", "mcast_snooping", "0"])
            run(ns + ["link", "set", "br0", "up"])
            for name in self.node_names:
                run(ns + ["tuntap", "add", "tap-" + name, "mode", "tap"])
                # A guest under TCG reads its tap slower than another bursts
                # into the segment: the tap's queue (1000 by default) must
                # hold a test's bursts (thousands of frames), or the last of
                # them are lost on this host, not in the guests.
                run(ns + ["link", "set", "tap-" + name, "master", "br0",
                          "txqueuelen", "16384", "up"])
        except subprocess.CalledProcessError as e:
            raise LabError("cannot build the lab segment: %s: %s"
                           % (" ".join(e.cmd), e.stderr.decode().strip()))

    def _write_env(self):
        lines = ["LAB_DIR=%s" % self.dir, "LAB_NETNS=%s" % self.netns,
                 "LAB_KERNEL=%s" % self.kernel.name, "LAB_KREL=%s" % self.kernel.release,
                 "LAB_NODES='%s'" % " ".join(self.node_names)]
        for node in self.nodes.values():
            key = node.name.upper()
            lines += ["LAB_%s_IP4=%s" % (key, node.addr4.split("/")[0]),
                      "LAB_%s_IP6=%s" % (key, node.addr6.split("/")[0]),
                      "LAB_%s_MAC=%s" % (key, node.mac)]
        with open(os.path.join(self.dir, "env"), "w") as f:
            f.write("".join(ln + "\n" for ln in lines))

    def env(self):
        """Environment for a test script: the lab's variables, the build's
        locations and `lab` on PATH."""
        env = dict(os.environ)
        with open(os.path.join(self.dir, "env")) as f:
            for line in f:
                key, _, value = line.strip().partition("=")
                env[key] = value.strip("'")
        env["CRAK_SRC"] = SRC
        env["CRAK_BUILD"] = BUILD
        env["CRAK_KBUILD"] = os.path.join(BUILD, self.kernel.release)
        env["PATH"] = os.path.join(SRC, "tools/lab") + ":" + env.get("PATH", "/usr/bin:/bin")
        return env

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        pending = set(self.nodes)
        while pending:
            for name in sorted(pending):
                node = self.nodes[name]
                if node.ready():
                    pending.discard(name)
                    node.boot_time = time.monotonic() - node.booted_at
                elif not node.alive():
                    raise LabError("node %s died while booting:\n%s"
                                   % (name, "\n".join(node.console_tail())))
            if pending and time.monotonic() > deadline:
                raise LabError("node(s) %s not up after %d s:\n%s" % (
                    ", ".join(sorted(pending)), timeout,
                    "\n".join(self.nodes[sorted(pending)[0]].console_tail())))
            time.sleep(0.05)

    def down(self):
        threads = [threading.Thread(target=n.stop) for n in self.nodes.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if self.kicker:
            self.kicker.stop()
            self.kicker = None
        if self.logdir and self.dir:
            os.makedirs(self.logdir, exist_ok=True)
            for node in self.nodes.values():
                for name in ("console.log", "boot.dmesg"):
                    path = os.path.join(node.state, name)
                    if os.path.exists(path):
                        shutil.copy(path, os.path.join(self.logdir, "%s-%s" % (node.name, name)))
        if self.netns:
            subprocess.run(["ip", "netns", "del", self.netns], stderr=subprocess.DEVNULL)
            self.netns = None
        if self.dir and not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.nodes = {}

    # -- health -------------------------------------------------------------

    def cpu_seconds(self):
        """The CPU time its nodes' qemu processes have used, all told."""
        return sum(node.cpu_seconds() for node in self.nodes.values())

    def dead_nodes(self):
        return [n for n in self.nodes.values() if not n.alive()]

    def console_marks(self):
        return {name: node.console_size() for name, node in self.nodes.items()}

    def splats_since(self, marks):
        """Splats each node printed since marks, annotated, with node names."""
        found = []
        for name, node in self.nodes.items():
            modsyms = os.path.join(node.state, "modsyms")
            for s in splat.find(node.console_text(marks.get(name, 0))):
                found.append(["[%s] %s" % (name, ln)
                              for ln in splat.annotate(self.kernel, s, modsyms)])
        return found

    def boot_splats(self):
        found = []
        for name, node in self.nodes.items():
            try:
                with open(os.path.join(node.state, "boot.dmesg")) as f:
                    text = f.read()
            except OSError:
                text = ""
            for s in splat.find(text):
                found.append(["[%s] %s" % (name, ln) for ln in s])
        return found

    def reset(self, mode="test", timeout=120):
        """Every node back to its booted state (guest/reset MODE: boot, test
        or shutdown).  Returns the nodes that did not answer in time."""
        return reset_nodes(self.dir, list(self.nodes.values()), mode, timeout)


    def dump_blocked_tasks(self):
        for node in self.nodes.values():
            if node.alive():
                node.hmp("sendkey alt-sysrq-w")


class _NodeView:
    """What reset_nodes() needs of a node of a lab run by another process."""

    def __init__(self, labdir, name):
        self.name = name
        self.labdir = labdir
        self.state = os.path.join(labdir, "nodes", name)
        self.console = os.path.join(self.state, "console.log")

    def alive(self):
        return jobs.node_alive(self.labdir, self.name)

    console_text = Node.console_text
    console_size = Node.console_size


def lab_nodes(labdir):
    """The nodes of the lab in labdir, for a process that did not start it."""
    return [_NodeView(labdir, name) for name in sorted(os.listdir(os.path.join(labdir, "nodes")))]


def reset_nodes(labdir, nodes, mode="test", timeout=120):
    """Ask each node's agent for guest/reset MODE; wait until it is done and
    its console shows it.  Returns the nodes that did not finish in time."""
    marks = {node.name: node.console_size() for node in nodes}
    for node in nodes:
        done = os.path.join(node.state, "reset.done")
        if os.path.exists(done):
            os.unlink(done)
        with open(os.path.join(node.state, "reset.tmp"), "w") as f:
            f.write(mode + "\n")
        os.rename(os.path.join(node.state, "reset.tmp"), os.path.join(node.state, "reset"))
    deadline = time.monotonic() + timeout
    late = []
    for node in nodes:
        done = os.path.join(node.state, "reset.done")
        while not os.path.exists(done) and node.alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not os.path.exists(done):
            late.append(node)
        jobs.forget_all(labdir, node.name)
    # The serial console lags behind the kernel log, much so on the debug
    # kernel: wait until it shows the reset's last message.
    marker = "crak-lab: reset %s done" % mode
    for node in nodes:
        if node in late:
            continue
        while (marker not in node.console_text(marks[node.name]) and node.alive()
               and time.monotonic() < deadline):
            time.sleep(0.05)
    return late


_up_lock = threading.Lock()


def gc():
    """Tear down labs whose owner died without cleaning up (SIGKILL)."""
    try:
        out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    except OSError:
        return
    for line in out.splitlines():
        name = line.split()[0] if line.split() else ""
        if not name.startswith(NETNS_PREFIX):
            continue
        try:
            pid = int(name[len(NETNS_PREFIX):].split("-")[0])
            os.kill(pid, 0)
            continue            # its owner still runs
        except (ValueError, ProcessLookupError):
            pass
        except PermissionError:
            continue
        pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True,
                              text=True).stdout.split()
        for p in pids:
            try:
                os.kill(int(p), signal.SIGKILL)
            except (ValueError, OSError):
                pass
        subprocess.run(["ip", "netns", "del", name], stderr=subprocess.DEVNULL)
    tmp = tempfile.gettempdir()
    for name in os.listdir(tmp):
        if not name.startswith("crak-lab-"):
            continue
        path = os.path.join(tmp, name)
        try:
            with open(os.path.join(path, "owner")) as f:
                os.kill(int(f.read().strip()), 0)
            continue
        except (OSError, ValueError):
            pass
        try:
            # Another process's lab, between its directory and its owner file.
            if time.time() - os.stat(path).st_mtime < 60:
                continue
        except OSError:
            continue
        if os.path.exists(os.path.join(path, "keep")):
            continue
        shutil.rmtree(path, ignore_errors=True)
