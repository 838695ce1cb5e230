# SPDX-License-Identifier: GPL-2.0
"""`make check`: every selftest on every kernel of the matrix, in the lab.

A selftest is an executable selftests/AREA/NAME.sh.  It runs on the host,
in the checkout, with the lab's environment (LAB_DIR, LAB_*_IP4 ...), and
drives the nodes with `lab exec` (the `on` helper of selftests/lib.sh).
Exit status 0 passes, 4 skips, anything else fails; so does a timeout, a
node that dies or stops answering, and any kernel splat a node printed while
the test ran.  After a failure of that kind the lab reboots before the next
test.  A line "# lab: timeout=SECONDS kernels=NAME[,NAME]" in a test's first
lines sets its timeout (default 180 s; twice as long on the debug kernel;
LAB_TIMEOUT in the environment overrides it) or limits it to some kernels.

Each kernel also gets two checks of the lab's own: KERNEL/boot (the nodes
came up without a splat) and KERNEL/shutdown (every crak module unloads from
every node, and nothing leaks or warns after the last test).

The stock kernels' modules are built one after the other; then their labs
run side by side, the first kernel's results told as they come and the
other's after them (LAB_SERIAL=1: one lab at a time).  The debug kernel
(built once they are done, when the machine has none yet) runs in two
labs (LAB_DEBUG_LABS=1: one) taking its tests from one queue, the first
as soon as a stock kernel's lab is done, the second once both are; its
results are told as one lab's.  Nine guests side by side on two cores
ran the whole matrix in 70-75 min; the debug labs after the stock ones,
in 47-50 (stop 40, again: the debug kernel's first lab beside the stock
ones made those take 1766 and 1414 s, not ~930).

With LAB_DEADLINE (seconds since the epoch) no test starts after that
time (the tests left are told as skipped) and none runs on more than nine
minutes past it.

Output is KTAP, one line per test (kernel/area/name), diagnostics after a
failure, and a last line "N passed, N failed[, N skipped]".
"""

import collections
import os
import re
import signal
import subprocess
import sys
import threading
import time

from . import BUILD, SRC, debugkernel
from .kernels import KernelError, resolve
from .lab import Lab, LabError

AREAS = ("lab", "vif", "sockmig", "ckpt", "pod", "migrate")
DEFAULT_TIMEOUT = 180
DEBUG_TIMEOUT_FACTOR = 2
# How long a test started before LAB_DEADLINE may run past it.
DEADLINE_GRACE = 540
LOG_LINES = 60
# Labs the debug kernel's tests are shared out to: one alone leaves a core
# idle.
DEBUG_LABS = 2


class Test:
    def __init__(self, path):
        self.path = path
        rel = os.path.relpath(path, os.path.join(SRC, "selftests"))
        self.name = rel[:-3] if rel.endswith(".sh") else rel
        self.area = self.name.split("/")[0]
        self.timeout = DEFAULT_TIMEOUT
        self.kernels = None
        with open(path, errors="replace") as f:
            for _, line in zip(range(20), f):
                m = re.match(r"#\s*lab:\s*(.*)", line)
                if not m:
                    continue
                for word in m.group(1).split():
                    key, _, value = word.partition("=")
                    if key == "timeout":
                        self.timeout = int(value)
                    elif key == "kernels":
                        self.kernels = set(value.split(","))
        # Long campaigns (make fuzz) set one timeout for all they run.
        if os.environ.get("LAB_TIMEOUT", "").isdigit():
            self.timeout = int(os.environ["LAB_TIMEOUT"])

    def runs_on(self, kernel):
        return self.kernels is None or kernel.name in self.kernels

    def order(self):
        area = AREAS.index(self.area) if self.area in AREAS else len(AREAS)
        return (area, self.area, self.name)


def discover(pattern=None):
    root = os.path.join(SRC, "selftests")
    tests = []
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            if name.endswith(".sh") and os.access(path, os.X_OK) and dirpath != root:
                tests.append(Test(path))
    if pattern:
        tests = [t for t in tests if _matches(t.name, pattern)]
    return sorted(tests, key=Test.order)


def _matches(name, pattern):
    import fnmatch
    return any(fnmatch.fnmatch(name, p) or p in name for p in pattern.split(","))


class Reporter:
    def __init__(self, total):
        self.n = 0
        self.names = set()
        self.counts = collections.Counter()
        print("TAP version 13")
        print("1..%d" % total, flush=True)

    def result(self, name, status, detail=None, diag=()):
        self.n += 1
        self.names.add(name)
        self.counts[status] += 1
        line = "%s %d %s" % ("ok" if status != "fail" else "not ok", self.n, name)
        if status == "skip":
            line += " # SKIP" + (" " + detail if detail else "")
        elif detail:
            line += " # " + detail
        print(line)
        for d in diag:
            print("# " + d)
        sys.stdout.flush()

    def diag(self, text):
        print("# " + text, flush=True)

    def summary(self):
        line = "%d passed, %d failed" % (self.counts["pass"], self.counts["fail"])
        if self.counts["skip"]:
            line += ", %d skipped" % self.counts["skip"]
        print(line, flush=True)
        return self.counts["fail"] == 0


def _tail(path, lines=LOG_LINES):
    try:
        with open(path, errors="replace") as f:
            return f.read().splitlines()[-lines:]
    except OSError:
        return []


def prepare(kernel_name, logdir, report):
    """Resolve the kernel, build what it needs; return (kernel, error)."""
    try:
        if kernel_name == "debug":
            kernel = resolve("debug", must_exist=False)
            if kernel.release is None:
                log = os.path.join(logdir, "debug-kernel.log")
                report.diag("building the debug kernel (about 15 min, up to 30 when the "
                            "cores are shared); log: %s" % os.path.relpath(log, SRC))
                t0 = time.monotonic()
                debugkernel.build(log=log)
                report.diag("debug kernel built in %.0f s" % (time.monotonic() - t0))
                kernel = resolve("debug")
        else:
            kernel = resolve(kernel_name)
    except (KernelError, debugkernel.BuildError) as e:
        return None, str(e)
    log = os.path.join(logdir, "build-%s.log" % kernel.name)
    with open(log, "wb") as f:
        res = subprocess.run(["make", "-C", SRC, "all", "KVER=" + kernel.release],
                             stdout=f, stderr=subprocess.STDOUT)
    if res.returncode:
        return kernel, "build failed for %s:\n%s" % (kernel.release, "\n".join(_tail(log)))
    return kernel, None


def run_test(lab, test, logdir):
    log = os.path.join(logdir, test.name.replace("/", "-") + ".log")
    marks = lab.console_marks()
    # The debug kernel runs everything several times slower.
    timeout = test.timeout * (DEBUG_TIMEOUT_FACTOR if lab.kernel.debug else 1)
    # Nor does one run on for long past LAB_DEADLINE.
    deadline = _deadline()
    if deadline is not None:
        timeout = min(timeout, max(60, deadline + DEADLINE_GRACE - time.time()))
    env = lab.env()
    env["LAB_TEST"] = test.name
    cpu0 = lab.cpu_seconds()
    start = time.monotonic()
    with open(log, "wb") as f:
        proc = subprocess.Popen([test.path], cwd=SRC, env=env, stdin=subprocess.DEVNULL,
                                stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            lab.dump_blocked_tasks()
            rc = None
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.wait()
    elapsed = time.monotonic() - start
    cpu = lab.cpu_seconds() - cpu0
    late = lab.reset()
    dead = lab.dead_nodes()
    # Its nodes' CPU (a node that died or rebooted makes it no count).
    if cpu < 0 or dead:
        cpu = None
    splats = lab.splats_since(marks)

    diag = []
    if rc is None:
        detail = "TIMEOUT after %d s" % timeout
    elif rc == 4:
        detail = None
    elif rc:
        detail = "exit=%d" % rc
    else:
        detail = None
    broken = bool(splats or dead or late)
    if rc != 0 and rc != 4 or broken:
        diag += ["%s output (%s):" % (test.name, os.path.relpath(log, SRC))]
        diag += ["  " + ln for ln in _tail(log)]
    # The splats first: a report shown in part shows its start, which
    # names the trouble (a panic's reason, the oops's function).
    for s in splats:
        detail = detail or "kernel splat"
        diag += ["kernel splat:"] + ["  " + ln for ln in s]
    # A node whose splat is above needs only the last of its console.
    told = {s[0].split("]", 1)[0].lstrip("[") for s in splats}
    for node in dead:
        detail = detail or "node died"
        diag += ["node %s died; its console ends with:" % node.name]
        diag += ["  " + ln for ln in node.console_tail(5 if node.name in told else 40)]
    for node in late:
        if node in dead:
            continue
        detail = detail or "node hung"
        diag += ["node %s stopped answering; its console ends with:" % node.name]
        diag += ["  " + ln for ln in node.console_tail(5 if node.name in told else 40)]
    if rc == 4 and not broken:
        status = "skip"
        reason = [ln for ln in _tail(log, 5) if ln.strip()]
        detail = reason[-1].strip() if reason else None
    elif rc == 0 and not broken:
        status = "pass"
    else:
        status = "fail"
    return status, detail, diag, (elapsed, cpu), broken


def check(kernel_names, pattern=None, keep_going=True):
    tests = discover(pattern)
    if not tests:
        print("no selftest matches %r" % pattern, file=sys.stderr)
        return 2
    logroot = os.path.join(BUILD, "check")
    os.makedirs(logroot, exist_ok=True)
    kernels = []
    for name in kernel_names:
        # Test filters by kernel name need the name before the kernel exists.
        alias = name if name in ("6.12", "6.1", "debug") else None
        if alias is None:
            try:
                alias = resolve(name, must_exist=False).name
            except KernelError as e:
                print(str(e), file=sys.stderr)
                return 2
        kernels.append((name, alias))

    class _K:
        def __init__(self, name):
            self.name = name

    plan = [(name, [t for t in tests if t.runs_on(_K(alias))]) for name, alias in kernels]
    plan = [(name, ktests) for name, ktests in plan if ktests]
    # Each kernel adds two checks of its own: boot and shutdown.
    total = sum(len(ts) + 2 for _, ts in plan)
    report = Reporter(total)
    timings = []
    # Every kernel's build first, one at a time (make is not run twice at
    # once), but the debug kernel's: a thread builds it (if the machine has
    # none yet: a quarter of an hour and more) once the other kernels' labs
    # are done, and runs its first lab once it is built and one of them is.
    serial = os.environ.get("LAB_SERIAL") == "1"
    ready = []
    later = None
    for name, ktests in plan:
        alias = dict(kernels)[name]
        logdir = os.path.join(logroot, alias)
        os.makedirs(logdir, exist_ok=True)
        if alias == "debug" and not serial and len(plan) > 1:
            later = (name, alias, ktests, logdir)
            continue
        kernel, err = prepare(name, logdir, report)
        if err:
            _not_prepared(report, alias, ktests, err)
            continue
        ready.append((alias, kernel, ktests, logdir))
    # The first kernel's lab reports as it goes; the other stock kernel's
    # runs beside it, its results told after.
    # Each kernel's tests in a queue its labs take them from, one at a time.
    # A stock kernel beside the first takes its tests the other way round,
    # the lab's own first still: the same test on both kernels at once
    # left both labs waiting together (ckpt/resources' sleeps, vif/flow's
    # holds) and a core idle; against each other, one lab's waits meet the
    # other's work.
    # (One after the other, LAB_SERIAL=1, each lab tells its results as
    # they come: in matrix order.)
    ready = [(alias, kernel,
              TestQueue(ktests, backwards=i > 0 and not serial and not kernel.debug), logdir)
             for i, (alias, kernel, ktests, logdir) in enumerate(ready)]
    sides = []
    # The debug kernel's first lab starts once a stock kernel's lab is done
    # (its core is free), its second once they all are.  (Not sooner: a
    # third lab beside two slows them all down, their guests' CPU by 25 to
    # 40%: TCG guests of two cores' share each thrash the host's caches.)
    # A debug kernel the machine has not built yet is built once the stock
    # kernels' labs are done, so that their results come as soon as with
    # it cached: beside them, niced, it made them take twice as long
    # (stop 49, a fresh machine: 1321 and 1260 s, their guests' CPU 654
    # and 607 s; after it, 788 and 753 s, 481 and 445 s), and itself half
    # as long again (33 min, 20.5 alone), the host's caches thrashed by
    # both: the whole run no shorter.
    one_done = threading.Event()
    all_done = threading.Event()
    if not serial:
        # (The debug kernel's labs tell their results at the end, even alone.)
        live = ready[:1] if ready and not ready[0][1].debug else []
        for item in ready[len(live):]:
            sides.append(_Side(item, _start_lab(item, 1, report, timings, one_done)))
        if later:
            if _unbuilt(later[0]):
                report.diag("the debug kernel is built once the other labs are done "
                            "(13-21 min); log: %s" % os.path.relpath(
                                os.path.join(later[3], "debug-kernel.log"), SRC))
            sides.append(_debug_side(later, report, timings, all_done, one_done))
        ready = live
    try:
        for item in ready:
            _run_guarded(item, report, timings)
        one_done.set()
        if sides and ready:
            report.diag("waiting for the labs that ran beside")
        for side in sides:
            if not side.debug:
                side.labs[0][0].join()
                _replay_merged(side.item, [side.labs[0][1]], report)
        all_done.set()
        for side in sides:
            if not side.debug or not side.wait_built():
                continue
            if _debug_labs() > 1 and len(side.item[2]) >= 2:
                side.labs.append(_start_lab(side.item, 2, report, timings))
        for side in sides:
            if not side.debug:
                continue
            if side.abandoned:
                debugkernel.kill()
                _skip_rest(_K(side.alias), side.tests, report, boot=True)
                continue
            for thread, _ in side.labs:
                thread.join()
            _replay_merged(side.item, [deferred for _, deferred in side.labs], report)
    except KeyboardInterrupt:
        debugkernel.kill()
        for lab in list(_ACTIVE):
            lab.down()
        raise
    with open(os.path.join(logroot, "timings.txt"), "w") as f:
        f.write("# wall time, the lab's guests' CPU time (qemu, user and system), test\n")
        f.write("".join("%7.1f s %7s  %s\n" % (t, "-" if c is None else "%.1f s" % c, n)
                        for n, t, c in sorted(timings)))
    return 0 if report.summary() else 1


class _Deferred:
    """A kernel's results while another kernel's stream: told after them."""

    def __init__(self, report):
        self.report = report
        self.names = set()
        self.calls = []

    def result(self, name, *args, **kwargs):
        self.names.add(name)
        self.calls.append(("result", (name,) + args, kwargs))

    def diag(self, *args):
        self.calls.append(("diag", args, {}))

    def replay(self):
        for method, args, kwargs in self.calls:
            getattr(self.report, method)(*args, **kwargs)


class TestQueue:
    """A kernel's tests, taken one at a time by its labs (one, or two);
    backwards: the lab's own tests first, then the others from the last."""

    def __init__(self, tests, backwards=False):
        self.all = list(tests)
        self.left = list(tests)
        self.backwards = backwards
        if backwards:
            self.left = ([t for t in tests if t.area == "lab"] +
                         [t for t in reversed(tests) if t.area != "lab"])
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            return self.left.pop(0) if self.left else None

    def take_all(self):
        with self.lock:
            left, self.left = self.left, []
            return left

    def __len__(self):
        with self.lock:
            return len(self.left)


def _debug_labs():
    try:
        return int(os.environ.get("LAB_DEBUG_LABS", DEBUG_LABS))
    except ValueError:
        return DEBUG_LABS


def _start_lab(item, n, report, timings, done=None):
    """A thread running lab N of a kernel (its results deferred); it sets
    the event done, if any, when the lab is over."""
    alias, kernel, queue, logdir = item
    # A second lab keeps its nodes' consoles in a directory of its own.
    part = (alias, kernel, queue, logdir if n == 1 else os.path.join(logdir, "lab%d" % n))
    deferred = _Deferred(report)

    def run():
        try:
            _run_guarded(part, deferred, timings)
        finally:
            if done:
                done.set()

    thread = threading.Thread(target=run, name="crak-check-%s-%d" % (alias, n), daemon=True)
    thread.start()
    return thread, deferred


def _unbuilt(name):
    try:
        return resolve(name, must_exist=False).release is None
    except KernelError:
        return False


def _not_prepared(report, alias, ktests, err):
    report.result("%s/boot" % alias, "fail", "not prepared", err.splitlines())
    for t in ktests:
        report.result("%s/%s" % (alias, t.name), "fail", "not run")
    report.result("%s/shutdown" % alias, "fail", "not run")


class _Side:
    """A kernel whose labs run beside the first kernel's: its item (alias,
    kernel, queue, logdir; set once the kernel is built) and its labs, each
    a thread and the results it deferred.  A kernel still building when
    LAB_DEADLINE passes is abandoned: its tests are told as skipped."""

    def __init__(self, item=None, lab=None, debug=False, alias=None, tests=()):
        self.item = item
        self.labs = [lab] if lab else []
        self.debug = item[1].debug if item else debug
        self.alias = alias
        self.tests = list(tests)
        self.lock = threading.Lock()
        self.abandoned = False
        self.built = threading.Event()
        if item:
            self.built.set()

    def wait_built(self):
        """Whether the kernel was built (False: failed, or abandoned)."""
        while not self.built.wait(10):
            if _past_deadline():
                with self.lock:
                    if not self.built.is_set():
                        self.abandoned = True
                        return False
        return self.item[1] is not None


def _debug_side(later, report, timings, build, start):
    """The debug kernel in a thread of its own: built (if it is not yet)
    once the event build is set, then its first lab, once start is."""
    name, alias, ktests, logdir = later
    side = _Side(debug=True, alias=alias, tests=ktests)
    deferred = _Deferred(report)

    def run():
        if _unbuilt(name):
            build.wait()
        try:
            kernel, err = prepare(name, logdir, deferred)
        except Exception:
            import traceback
            kernel, err = None, traceback.format_exc()
        queue = TestQueue(ktests)
        with side.lock:
            if side.abandoned:
                return
            side.item = (alias, None if err else kernel, queue, logdir)
            side.built.set()
        if err:
            queue.take_all()
            _not_prepared(deferred, alias, ktests, err)
            return
        start.wait()
        _run_guarded(side.item, deferred, timings)

    thread = threading.Thread(target=run, name="crak-check-%s-1" % alias, daemon=True)
    side.labs.append((thread, deferred))
    thread.start()
    return side


def _replay_merged(item, deferreds, report):
    """The results of a kernel's labs told as one lab's: one boot and one
    shutdown (failed if any lab's failed), the tests in matrix order."""
    alias, _, queue, _ = item
    ktests = queue.all
    if len(deferreds) == 1 and not queue.backwards:
        deferreds[0].replay()
        return
    results = collections.defaultdict(list)
    diags = []
    for d in deferreds:
        for method, args, kwargs in d.calls:
            if method == "result":
                results[args[0]].append(_result_fields(args, kwargs))
            else:
                diags.append(args)
    names = (["%s/boot" % alias] + ["%s/%s" % (alias, t.name) for t in ktests]
             + ["%s/shutdown" % alias])
    for name in names:
        got = results.get(name)
        if not got:
            report.result(name, "fail", "not run")
            continue
        failed = [r for r in got if r[0] == "fail"]
        status = "fail" if failed else got[0][0]
        detail = (failed or got)[0][1]
        report.result(name, status, detail, [ln for r in got for ln in r[2]])
    for args in diags:
        report.diag(*args)


def _result_fields(args, kwargs):
    """(status, detail, diag) of a call of Reporter.result."""
    fields = list(args[1:]) + [None] * (3 - len(args[1:]))
    status, detail, diag = fields[:3]
    detail = kwargs.get("detail", detail)
    diag = kwargs.get("diag", diag) or ()
    return status, detail, list(diag)


def _run_guarded(item, report, timings):
    alias, kernel, queue, logdir = item
    try:
        _run_kernel(kernel, queue, logdir, report, timings)
    except Exception:
        # A bug of the lab itself: what did not run fails, and the run
        # still ends with its summary line.
        import traceback
        diag = traceback.format_exc().splitlines()
        names = (["%s/boot" % alias] + ["%s/%s" % (alias, t.name) for t in queue.take_all()]
                 + ["%s/shutdown" % alias])
        for name in names:
            if name not in report.names:
                report.result(name, "fail", "lab error", diag)
                diag = ()


def _shutdown(lab, report):
    """Unload every crak module on every node and look for what that, or
    the last test, left behind (leaks, warnings)."""
    marks = lab.console_marks()
    # kmemleak's scans of a debug guest's memory, three guests at once
    # (six, with two labs ending together), take minutes under TCG.
    late = lab.reset("shutdown", timeout=120 * (3 if lab.kernel.debug else 1))
    splats = lab.splats_since(marks)
    diag = []
    for node in late:
        diag += ["node %s did not finish unloading; its console ends with:" % node.name]
        diag += ["  " + ln for ln in node.console_tail()]
    for s in splats:
        diag += ["kernel splat:"] + ["  " + ln for ln in s]
    name = "%s/shutdown" % lab.kernel.name
    if late or splats:
        report.result(name, "fail", "kernel splat" if splats else "node hung", diag)
    else:
        report.result(name, "pass")


# The labs up now, to take down on Ctrl-C whichever thread runs them.
_ACTIVE = set()


def _deadline():
    """LAB_DEADLINE (seconds since the epoch), or None: no test starts after
    it (CI sets it to end before its own limit kills the run, results and
    all)."""
    deadline = os.environ.get("LAB_DEADLINE", "")
    return int(deadline) if deadline.isdigit() else None


def _past_deadline():
    deadline = _deadline()
    return deadline is not None and time.time() >= deadline


def _skip_rest(kernel, tests, report, boot=False):
    """TESTS told as skipped; with BOOT, the lab's boot and shutdown too."""
    why = "not started: LAB_DEADLINE passed"
    if boot:
        report.result("%s/boot" % kernel.name, "skip", why)
    for t in tests:
        report.result("%s/%s" % (kernel.name, t.name), "skip", why)
    if boot:
        report.result("%s/shutdown" % kernel.name, "skip", why)


def _run_kernel(kernel, queue, logdir, report, timings):
    t0 = time.monotonic()
    ran = 0
    if _past_deadline():
        _skip_rest(kernel, queue.take_all(), report, boot=True)
        return
    os.makedirs(logdir, exist_ok=True)
    lab = Lab(kernel, logdir=logdir)
    _ACTIVE.add(lab)
    try:
        try:
            lab.up()
        except LabError as e:
            report.result("%s/boot" % kernel.name, "fail", "lab did not boot",
                          str(e).splitlines())
            for t in queue.take_all():
                report.result("%s/%s" % (kernel.name, t.name), "fail", "not run")
            report.result("%s/shutdown" % kernel.name, "fail", "not run")
            return
        boot = time.monotonic() - t0
        cpu = lab.cpu_seconds()
        timings.append(("%s/boot" % kernel.name, boot, cpu))
        splats = lab.boot_splats()
        diag = ["%s booted %d nodes in %.1f s" % (kernel.release, len(lab.nodes), boot)]
        if splats:
            for s in splats:
                diag += ["kernel splat while booting:"] + ["  " + ln for ln in s]
            report.result("%s/boot" % kernel.name, "fail", "kernel splat", diag)
        else:
            report.result("%s/boot" % kernel.name, "pass", None, diag)
        while True:
            test = queue.take()
            if test is None:
                break
            if _past_deadline():
                _skip_rest(kernel, [test] + queue.take_all(), report)
                break
            name = "%s/%s" % (kernel.name, test.name)
            status, detail, diag, (elapsed, tcpu), broken = run_test(lab, test, logdir)
            ran += 1
            timings.append((name, elapsed, tcpu))
            cpu = None if cpu is None or tcpu is None else cpu + tcpu
            report.result(name, status, detail, diag)
            if broken and len(queue) and not _past_deadline():
                report.diag("rebooting the %s lab after that failure" % kernel.name)
                cpu = None
                lab.down()
                try:
                    lab.up()
                except LabError as e:
                    for t in queue.take_all():
                        report.result("%s/%s" % (kernel.name, t.name), "fail",
                                      "lab did not reboot", str(e).splitlines()[-20:])
                    report.result("%s/shutdown" % kernel.name, "fail", "not run")
                    return
        _shutdown(lab, report)
        report.diag("%s: %d tests in %.0f s%s" % (
            kernel.name, ran, time.monotonic() - t0,
            "" if cpu is None else ", %.0f s of its guests' CPU" % cpu))
    finally:
        lab.down()
        _ACTIVE.discard(lab)
