# SPDX-License-Identifier: GPL-2.0
"""crak lab guest agent: PID 1 of a lab node after stage 2.

The host and the nodes share the lab directory over 9p.  The host asks a node
to do something by dropping a file into the node's directory, and kicks the
agent through a virtio-serial port (crak.kick) with the file's name on a line
("*": look at everything): the agent sleeps until a kick or a child's exit,
so that an idle node costs nothing (polling 9p is dear under TCG, very dear
on the debug kernel), and needs not read the directory to find the request.
Without a host on the port it polls.  Everything is a file so that a job's
state survives any crash of this agent's peers and can be read by hand:

  jobs/ID.cmd    a bash script to run (written by the host, renamed into place)
  jobs/ID.out    its standard output    jobs/ID.err   its standard error
  jobs/ID.rc     its exit status (128+N for signal N), written last
  jobs/ID.kill   a signal number: signal every process of the job's session
  reset          kill every process but this one, run guest/reset with the
                 file's content as its mode, answer in reset.done
  poweroff       stop everything and power the guest off

As PID 1 the agent also reaps every orphan of the guest.
"""

import glob
import os
import select
import signal
import sys
import time

KICK_PORT = "crak.kick"
# Without kicks: how often to look for requests.  With kicks: a safety net.
POLL = 0.2
KICKED_POLL = 5.0


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


PF_KTHREAD = 0x00200000


def processes():
    """(pid, session id) of every user-space process but ourselves: one
    read of /proc/PID/stat each (kernel threads by their flags, zombies by
    their state)."""
    for name in os.listdir("/proc"):
        if not name.isdigit() or name == "1":
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # After the command's ")": state ppid pgrp session tty tpgid flags
        fields = stat[stat.rindex(b")") + 2:].split()
        if fields[0] == b"Z" or int(fields[6]) & PF_KTHREAD:
            continue
        yield int(name), int(fields[3])


def kill_sessions(sids, sig):
    """Signal every user-space process but ourselves, or (SIDS not None)
    those of sessions SIDS; whether there was one."""
    found = False
    for pid, sid in processes():
        if sids is None or sid in sids:
            found = True
            try:
                os.kill(pid, sig)
            except OSError:
                pass
    return found


class Agent:
    def __init__(self, state):
        self.state = state
        self.jobs_dir = os.path.join(state, "jobs")
        self.src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        build = os.path.join(os.path.dirname(os.path.dirname(self.src)), "build")
        self.running = {}           # pid -> job id
        self.seen = set()           # job ids started
        # Jobs find the lab, crak and ip's crakvif plugin as built.  No LANG:
        # loading a locale costs every program ~30 ms over the 9p root.
        self.env = {
            "PATH": ":".join((self.src, os.path.join(build, "bin"),
                              os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"))),
            "IP_LIB_DIR": os.path.join(build, "lib/ip"),
            "HOME": "/root",
            "TERM": "dumb",
            "LAB_NODE": os.path.basename(state),
            "LAB_DIR": os.path.dirname(os.path.dirname(state)),
        }

    def job_path(self, job, ext):
        return os.path.join(self.jobs_dir, job + ext)

    def start(self, job):
        self.seen.add(job)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
        out = os.open(self.job_path(job, ".out"), flags, 0o644)
        err = os.open(self.job_path(job, ".err"), flags, 0o644)
        # posix_spawn: a vfork, not a fork of this whole python (a fork
        # copies its page tables: a job cost the guest a third more).
        # Its own session; the signals we ignore or catch back to default.
        try:
            pid = os.posix_spawn(
                "/bin/bash", ["bash", self.job_path(job, ".cmd")], self.env,
                file_actions=[(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                              (os.POSIX_SPAWN_DUP2, out, 1),
                              (os.POSIX_SPAWN_DUP2, err, 2)],
                setsid=True,
                setsigdef=(signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGHUP,
                           signal.SIGCHLD))
        except OSError as e:
            os.write(err, ("agent: cannot start the job: %s\n" % e).encode())
            write_atomic(self.job_path(job, ".rc"), "127\n")
            return
        finally:
            os.close(out)
            os.close(err)
        self.running[pid] = job

    def reap(self):
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            job = self.running.pop(pid, None)
            if job is None:
                continue
            if os.WIFSIGNALED(status):
                rc = 128 + os.WTERMSIG(status)
            else:
                rc = os.WEXITSTATUS(status)
            write_atomic(self.job_path(job, ".rc"), "%d\n" % rc)

    def kill_requests(self, names):
        for name in names:
            if not name.endswith(".kill"):
                continue
            job = name[:-5]
            path = self.job_path(job, ".kill")
            try:
                with open(path) as f:
                    sig = int(f.read().strip() or signal.SIGTERM)
                os.unlink(path)
            except (OSError, ValueError):
                continue
            for pid, running in list(self.running.items()):
                if running == job:
                    # A job started in this same pass may not have left
                    # our session yet: its first process gets it directly.
                    try:
                        os.kill(pid, sig)
                    except OSError:
                        pass
                    kill_sessions({pid}, sig)

    def reset(self, mode):
        """Back to a freshly booted node: no process of any earlier job."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if not kill_sessions(None, sig):
                break
            deadline = time.time() + 2
            while time.time() < deadline and any(True for _ in processes()):
                self.reap()
                time.sleep(0.02)
        self.reap()
        self.running.clear()
        rc = 127
        try:
            pid = os.posix_spawn("/bin/bash", ["bash", os.path.join(self.src, "guest/reset"),
                                               mode, self.state], self.env,
                                 setsigdef=(signal.SIGINT, signal.SIGTERM, signal.SIGPIPE,
                                            signal.SIGHUP, signal.SIGCHLD))
            rc = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        except OSError as e:
            sys.stderr.write("agent: cannot run guest/reset: %s\n" % e)
        write_atomic(os.path.join(self.state, "reset.done"), "%d\n" % rc)

    def poweroff(self):
        kill_sessions(None, signal.SIGKILL)
        os.sync()
        os.execv("/bin/busybox", ["reboot", "-f"])

    def requests(self, names=None):
        """Do what the host asked for in files: the ones named, or (None)
        whatever is in the lab directory."""
        look = names is None
        if look:
            names = os.listdir(self.jobs_dir)
        for name in names:
            if name.endswith(".cmd") and name[:-4] not in self.seen:
                self.start(name[:-4])
        self.kill_requests(names)
        request = os.path.join(self.state, "reset")
        if (look or "reset" in names) and os.path.exists(request):
            with open(request) as f:
                mode = f.read().strip() or "test"
            os.unlink(request)
            self.reset(mode if mode.isalpha() else "test")
        if (look or "poweroff" in names) and \
                os.path.exists(os.path.join(self.state, "poweroff")):
            self.poweroff()

    def run(self):
        kick = open_kick_port()
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        write_atomic(os.path.join(self.state, "ready"), os.uname().release + "\n")
        host_gone_until = 0
        look = True
        looked = 0
        pending = b""       # the start of a name the host is still sending
        names = []
        while True:
            self.reap()
            # The lab directory is looked at when nobody is on the port,
            # when the host asks for it ("*": it could not tell us a name),
            # and every KICKED_POLL seconds as a safety net, however often
            # children end: a look is a few round trips over 9p.  Else only
            # what the host named is done.
            if look or time.monotonic() - looked >= KICKED_POLL:
                looked = time.monotonic()
                self.requests()
            elif names:
                self.requests(names)
            fds = [wake_r]
            if kick is not None and time.monotonic() >= host_gone_until:
                fds.append(kick)
            ready, _, _ = select.select(fds, [], [], KICKED_POLL if len(fds) > 1 else POLL)
            look = not ready or len(fds) == 1
            names = []
            if wake_r in ready:
                drain(wake_r)
            if kick in ready:
                data, eof = drain(kick)
                if eof:
                    # Nobody on the host's side; poll for a while.
                    host_gone_until = time.monotonic() + 1
                    look = True
                    pending = b""
                    continue
                lines = (pending + data).split(b"\n")
                pending = lines.pop()
                names = [n.decode(errors="replace") for n in lines if n]
                if "*" in names:
                    look = True


def open_kick_port():
    for path in glob.glob("/sys/class/virtio-ports/*/name"):
        with open(path) as f:
            if f.read().strip() == KICK_PORT:
                dev = "/dev/" + os.path.basename(os.path.dirname(path))
                return os.open(dev, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    return None


def drain(fd):
    """What there is to read, and whether the other side has gone."""
    data = b""
    while True:
        try:
            got = os.read(fd, 4096)
        except BlockingIOError:
            return data, False
        if not got:
            return data, not data
        data += got


def main():
    # Jobs start here (each cds where it runs).
    os.chdir("/")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_IGN)
    Agent(sys.argv[1]).run()


if __name__ == "__main__":
    main()
