#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=600
#
# What goes wrong is said in one line, and hurts nothing.  A restart whose
# PID is taken names the holder.  A checkpoint that fails while the image is
# written (the file system fills up) leaves the process running as if
# nothing happened, and no image behind.  Without the rights ptrace would
# need over a process, or without CAP_CHECKPOINT_RESTORE, checkpoint and
# restart are refused, and a user cannot checkpoint another user's process.
# A process whose mapped file changed since the checkpoint is not restarted.
# A POSIX timer on a CPU-time clock is refused, and so is an epoll watching
# a file no longer at the descriptor it was registered as.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"

nobody="setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all"
other="setpriv --reuid 65533 --regid 65533 --clear-groups --inh-caps=-all"

# The PID is taken: by the process itself, still running (a light mode:
# any will do, and the memory mode's image costs the debug kernel seconds).
prog_start a regs pid-taken
checkpoint a "$prog_pid" "$prog_dir/img" --leave-running
out=$(on a crak restart "$prog_dir/img" 2>&1) && fail "a restart over a running PID worked"
[ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "PID $prog_pid is taken by 'prog'" ||
	fail "the PID-taken error does not name the holder: $out"
prog_verdict a "$prog_job" "the process whose PID was asked for"
pass "a restart whose PID is taken says by what, and leaves it alone"

# The image's file system fills up halfway.
prog_start a memory full-fs
on a "mkdir -p /tmp/small && mount -t tmpfs -o size=256k tmpfs /tmp/small" ||
	fail "cannot mount a small tmpfs"
out=$(on a crak checkpoint "$prog_pid" -o /tmp/small/img 2>&1) &&
	fail "a checkpoint into a full file system worked"
echo "$out" | grep -q "No space left on device" || fail "the error does not say why: $out"
on a "test -z \"\$(ls /tmp/small)\"" || fail "a partial image was left behind: $(on a ls /tmp/small)"
on a umount /tmp/small
prog_verdict a "$prog_job" "the process whose checkpoint failed"
pass "a checkpoint that fails halfway leaves the process running unharmed, and no image"

# Rights.
prog_start a regs rights
out=$(on a "$nobody crak checkpoint $prog_pid -o /tmp/x.img" 2>&1) &&
	fail "nobody checkpointed root's process"
[ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "cannot look inside it" ||
	fail "nobody's refusal is not one clear line: $out"
on a "$nobody sleep 100 > /dev/null 2>&1 & echo \$! > /tmp/nobody.pid"
npid=$(on a cat /tmp/nobody.pid)
out=$(on a "$nobody crak checkpoint $npid -o /tmp/x.img" 2>&1) &&
	fail "nobody checkpointed without CAP_CHECKPOINT_RESTORE"
[ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "CAP_CHECKPOINT_RESTORE" ||
	fail "the missing capability is not said in one line: $out"
out=$(on a "$other crak checkpoint $npid -o /tmp/x.img" 2>&1) &&
	fail "one user checkpointed another's process"
echo "$out" | grep -q "cannot look inside it" || fail "across users: $out"
on a "test -d /proc/$npid" || fail "nobody's process died of the refusals"
on a kill "$npid"
chmod a+rx "$CKPT_DIR" "$CKPT_DIR/pid-taken"
chmod a+r "$CKPT_DIR/pid-taken/img"
out=$(on a "$nobody crak restart $CKPT_DIR/pid-taken/img" 2>&1) &&
	fail "nobody restarted an image"
[ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "CAP_CHECKPOINT_RESTORE" ||
	fail "nobody's restart refusal is not one clear line: $out"
prog_verdict a "$prog_job" "the process others tried to checkpoint"
pass "checkpoint and restart need the rights ptrace would and CAP_CHECKPOINT_RESTORE"

# refused_without_ipc_lock WHAT IMG PID MSG: a restart of IMG by root
# without CAP_IPC_LOCK is refused in one line saying MSG; one with it
# restarts PID's process after (and kills it).
refused_without_ipc_lock() {
	local out
	out=$(on a "setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock crak restart $2" 2>&1) &&
		fail "$1: a restart without CAP_IPC_LOCK worked"
	[ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -qF "$4" ||
		fail "$1: the refusal is not one clear line: $out"
	out=$(on a "crak restart --detach $2 2>&1 && kill $3") ||
		fail "$1: it did not restart after the refusal: $out"
}

# Locked memory: nobody's processes lock memory, then lower their
# RLIMIT_MEMLOCK below it: one what it maps from then on (mlockall(MCL_FUTURE
# | MCL_ONFAULT)), to 0; the other 64 KiB it has (mlock), to 4 KiB.  A
# restarter without CAP_IPC_LOCK (nor it in its bounding set, as the
# process) may not lock for them: refused in one line, nothing changed; one
# with it restarts each after.
ready=/tmp/ckpt-locked-ready
lock_py='import ctypes, mmap, os, resource, sys, time
libc = ctypes.CDLL(None)
if sys.argv[1] == "future":
    assert libc.mlockall(6) == 0
    resource.setrlimit(resource.RLIMIT_MEMLOCK, (0, 0))
else:
    m = mmap.mmap(-1, 65536)
    addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
    assert libc.mlock(ctypes.c_void_p(addr), ctypes.c_size_t(65536)) == 0
    resource.setrlimit(resource.RLIMIT_MEMLOCK, (4096, 4096))
os.close(os.open(sys.argv[2], os.O_CREAT | os.O_WRONLY))
time.sleep(1000)'
pids=$(on a "rm -f $ready.*; for w in future mapped; do
	$nobody --bounding-set=-ipc_lock $PY -c $(printf %q "$lock_py") \$w $ready.\$w > /dev/null 2>&1 & echo \$!
done")
until_on a 30 "[ -e $ready.future ] && [ -e $ready.mapped ] && echo up" > /dev/null ||
	fail "the locking processes did not start"
read -r fpid mpid <<< "$(echo $pids)"
checkpoint a "$fpid" /tmp/locked.img
checkpoint a "$mpid" /tmp/mlocked.img
refused_without_ipc_lock "locked memory" /tmp/locked.img "$fpid" \
	"(mlockall MCL_FUTURE), which RLIMIT_MEMLOCK 0 forbids here"
refused_without_ipc_lock "locked memory" /tmp/mlocked.img "$mpid" \
	"the process's locked memory (mlock) is more than RLIMIT_MEMLOCK lets it lock here"
pass "memory the restarter may not lock is refused in one line, and nothing is left half-done"

# Root's process had every capability; a restarter without one of them
# cannot give it back: refused in one line (the kernel refuses it before
# the restore begins, and the session says why).
spid=$(on a "sleep 1000 > /dev/null 2>&1 & echo \$!")
checkpoint a "$spid" /tmp/sleep.img
refused_without_ipc_lock "capabilities" /tmp/sleep.img "$spid" \
	"the process had capabilities its restorer has not"
pass "capabilities the restarter has not are refused in one line"

# A unix socket names to SO_PEERCRED whom the image says only where the
# restarter could name them itself (SCM_CREDENTIALS' rules): a pair's
# peer edited in the image to user 4242 and group 4343, restarted by root,
# is named so; by root without CAP_SETUID and CAP_SETGID (the process
# had neither), it names root, its maker, and the restart goes on.
peer_py='import os, signal, socket, struct, sys, time
a, b = socket.socketpair()
def tell(sig, frame):
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d %d %d\n" % struct.unpack("3i", a.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
signal.signal(signal.SIGUSR1, tell)
with open(sys.argv[1] + ".fd", "w") as f:
    f.write("%d\n" % a.fileno())
time.sleep(1000)'
drop="setpriv --inh-caps=-setuid,-setgid --bounding-set=-setuid,-setgid"
pdir=$CKPT_DIR/peer
mkdir -p "$pdir"
ppid=$(on a "$drop $PY -c $(printf %q "$peer_py") $pdir/cred > /dev/null 2>&1 & echo \$!")
wait_file "$pdir/cred.fd" 30 || fail "peer: the process did not start"
checkpoint a "$ppid" "$pdir/img"
/usr/bin/python3 - "$(dirname "$0")" "$pdir/img" "$(cat "$pdir/cred.fd")" <<'EOF' || fail "peer: cannot edit the image"
import struct, sys
sys.path.insert(0, sys.argv[1])
from mutate import parse, build, FILE
secs = parse(open(sys.argv[2], "rb").read())
n = 0
for t, _, p in secs:
    if t != FILE or struct.unpack_from("<II", p, 0) != (int(sys.argv[3]), 6):
        continue
    fd_flags, plen, dlen = struct.unpack_from("<I", p, 12)[0], *struct.unpack_from("<IQ", p, 44)
    at = ((96 + plen + dlen + 7) & ~7) + (16 if fd_flags & (1 << 31) else 0)
    assert fd_flags & (1 << 30) and struct.unpack_from("<I", p, at)[0] & 4, "no peer in the image"
    assert struct.unpack_from("<II", p, at + 44) == (0, 0), "the peer is not root"
    struct.pack_into("<II", p, at + 44, 4242, 4343)
    n += 1
assert n == 1, n
open(sys.argv[2], "wb").write(build(secs))
EOF
# named_peer WHAT RESTARTER WANT: the image restarted by RESTARTER names
# WANT (PID UID GID) to SO_PEERCRED.
named_peer() {
	local out
	rm -f "$pdir/cred"
	out=$(on a "$2 crak restart --detach $pdir/img 2>&1 && kill -USR1 $ppid") ||
		fail "peer: the restart $1 failed: $out"
	wait_file "$pdir/cred" 30 || fail "peer: the process restarted $1 did not answer"
	on a "kill -KILL $ppid; while [ -e /proc/$ppid ]; do sleep 0.05; done"
	[ "$(cat "$pdir/cred")" = "$3" ] ||
		fail "peer: restarted $1, the pair names $(cat "$pdir/cred"), not $3"
}
named_peer "by root" "" "$ppid 4242 4343"
named_peer "without CAP_SETUID and CAP_SETGID" "$drop" "$ppid 0 0"
pass "a unix socket names the peer its image says where the restarter could name it, else its maker"

# A restart whose socket's path names a running socket now (another
# process bound it since, a server started again; or the original, beside
# its pod's restart) leaves the name to it: refused in one line, nothing
# runs, and the running socket still gets what is sent to that name.
name=/run/crak-held
npy='import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2], "w").close()
if sys.argv[3] == "serve":
    open(sys.argv[2], "w").write(s.recv(100).decode())
time.sleep(1000)'
hpid=$(on a "rm -f $name /tmp/held.*; $PY -c $(printf %q "$npy") $name /tmp/held.old sleep > /dev/null 2>&1 & echo \$!")
until_on a 30 "[ -e /tmp/held.old ] && echo up" > /dev/null || fail "held: the process did not start"
checkpoint a "$hpid" "$CKPT_DIR/held.img"
spid=$(on a "rm -f $name; $PY -c $(printf %q "$npy") $name /tmp/held.new serve > /dev/null 2>&1 & echo \$!")
until_on a 30 "[ -e /tmp/held.new ] && echo up" > /dev/null || fail "held: the new server did not start"
out=$(on a "crak restart $CKPT_DIR/held.img 2>&1") && fail "held: a restart took a running socket's name: $out"
[ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "unix socket $name): Address already in use$" ||
	fail "held: the refusal is not one clear line: $out"
on a "! kill -0 $hpid 2> /dev/null" || fail "held: a restart that failed left the process running"
on a "$PY -c 'import socket; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b\"still\", \"$name\")'" ||
	fail "held: the new server's name is gone"
until_on a 10 "grep -x still /tmp/held.new" > /dev/null || fail "held: the new server did not get what was sent to its name"
on a "kill $spid; rm -f $name /tmp/held.*"
pass "a restart whose socket's name a running socket holds is refused in one line, the name left to it"

# refused_alive WHAT MSG SETUP: a Python process that runs SETUP and then
# sleeps is refused a checkpoint, the first line saying MSG, and runs on.
refused_alive() {
	local pid out ready=/tmp/ckpt-refused-ready
	pid=$(on a "rm -f $ready; $PY -c '$3
open(\"$ready\", \"w\").close()
import time
time.sleep(1000)' > /dev/null 2>&1 & echo \$!")
	until_on a 30 "[ -e $ready ] && echo up" > /dev/null || fail "$1: the process did not start"
	out=$(on a crak checkpoint "$pid" -o /tmp/x.img 2>&1) && fail "$1: it was checkpointed"
	echo "$out" | head -1 | grep -qF "$2" && echo "$out" | grep -q "the process runs on" ||
		fail "$1: the refusal is not clear: $out"
	on a "kill $pid && rm $ready" || fail "$1: the process died of the refusal"
}

# A POSIX timer on a thread's CPU-time clock (a restart makes its timers in
# one thread).
refused_alive "a thread's CPU-clock POSIX timer" \
	"a POSIX timer on an alarm or thread's CPU clock: not yet" 'import ctypes
t = ctypes.c_void_p()
assert ctypes.CDLL(None).timer_create(3, None, ctypes.byref(t)) == 0'
pass "a POSIX timer on a thread's CPU-time clock is refused, saying so, the process unharmed"

# A file whose signals go to another process (F_SETOWN), which a restart of
# this one alone would not make.
refused_alive "a file owned by another process" \
	"its signal owner (F_SETOWN) is another process" 'import fcntl, socket
s = socket.socket()
fcntl.fcntl(s, fcntl.F_SETOWN, 1)'
pass "a file whose signals go to another process is refused, saying so, the process unharmed"

# A datagram socket connected to another process's socket by a relative
# name, which a restart (in crak's directory) could not connect to again.
refused_alive "a datagram socket connected to a relative name" \
	"is a unix datagram socket connected to crak-rel-log, which crak does not see as the process does" 'import os, socket, time
os.chdir("/run")
me = os.getpid()
log = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
log.bind("crak-rel-log")
if os.fork() == 0:
    while os.getppid() == me:
        time.sleep(0.2)
    os.unlink("crak-rel-log")
    os._exit(0)
log.close()
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect("crak-rel-log")'
pass "a datagram socket connected to a name crak would not find the same is refused, saying so, the process unharmed"

# A datagram socket connected to one of the process's own that is itself
# connected to a third: a restart would connect the first to the second by
# its name, which the second, connected elsewhere, refuses datagrams from.
refused_alive "a datagram socket connected to one connected elsewhere" \
	"is a unix socket connected to one that is connected to another: not taken yet" 'import os, socket
names = ["/run/crak-dg-%s" % n for n in ("s", "d")]
for n in names:
    if os.path.exists(n):
        os.unlink(n)
s, d, c = (socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) for _ in range(3))
s.bind(names[0])
d.bind(names[1])
c.connect(names[0])
s.connect(names[1])'
on a "rm -f /run/crak-dg-s /run/crak-dg-d"
pass "a datagram socket connected to one that is connected elsewhere is refused, saying so, the process unharmed"

# A client of a datagram server with more answers queued than a restart
# could put back (they would come from another than its peer), in a
# network namespace of its own, whose limit (the default, 10) is not
# crak's (raised meanwhile): the limit of the socket's namespace is taken
# for that of the namespace a restart would make it in.
qlen=$(on a "cat /proc/sys/net/unix/max_dgram_qlen") && on a "sysctl -qw net.unix.max_dgram_qlen=64" ||
	fail "cannot raise net.unix.max_dgram_qlen"
trap 'on a "sysctl -qw net.unix.max_dgram_qlen=$qlen"' EXIT
PY="unshare -n $PY" refused_alive "a datagram client with many answers queued" \
	"datagrams queued, more than net.unix.max_dgram_qlen (10)" 'import os, socket
names = ["/run/crak-dq-%s" % n for n in ("s", "c")]
for n in names:
    if os.path.exists(n):
        os.unlink(n)
s, c = (socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) for _ in range(2))
s.bind(names[0])
c.bind(names[1])
c.connect(names[0])
qlen = int(open("/proc/sys/net/unix/max_dgram_qlen").read())
for _ in range(qlen + 2):
    s.sendto(b"answer", socket.MSG_DONTWAIT, names[1])'
on a "rm -f /run/crak-dq-s /run/crak-dq-c; sysctl -qw net.unix.max_dgram_qlen=$qlen"
trap - EXIT
pass "a datagram client with more answers queued than a restart could put back is refused, saying so, the process unharmed"

# Memory or an open file shared with a process that is not checkpointed
# with it (a child mapping the same shared anonymous memory; one holding
# the same memfd; the same eventfd): a restart would make it the process's
# alone.
refused_alive "shared memory mapped by a child" \
	"its shared memory /dev/zero (deleted) is mapped by process" 'import mmap, os, time
me = os.getpid()
m = mmap.mmap(-1, 4096, mmap.MAP_SHARED)
if os.fork() == 0:
    while os.getppid() == me:
        time.sleep(0.2)
    os._exit(0)'
refused_alive "a memfd held by a child" \
	"its shared memory /memfd:crak-held (deleted) is held by process" 'import os, time
me = os.getpid()
fd = os.memfd_create("crak-held")
if os.fork() == 0:
    while os.getppid() == me:
        time.sleep(0.2)
    os._exit(0)'
refused_alive "an eventfd held by a child" "(eventfd) is held by process" 'import os, time
me = os.getpid()
fd = os.eventfd(0)
if os.fork() == 0:
    while os.getppid() == me:
        time.sleep(0.2)
    os._exit(0)'
pass "memory or an eventfd shared with a process not checkpointed with it is refused, saying so, the process unharmed"

# A socket that asks its senders' credentials (SO_PASSCRED), with data
# queued: a restart puts the data back from crak, whose credentials would
# come with it.
refused_alive "SO_PASSCRED with data queued" \
	"a unix socket that asks its senders' credentials (SO_PASSCRED), with data queued for it" 'import socket
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
b.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
a.send(b"request")'
pass "a unix socket asking its senders' credentials with data queued is refused, saying so, the process unharmed"

# Descriptors passed through a socket pair (SCM_RIGHTS), not yet received:
# a restart would put the bytes back without them.
refused_alive "descriptors in flight" \
	"a unix socket with descriptors passed to it (SCM_RIGHTS) queued: not taken yet" 'import os, socket
a, b = socket.socketpair()
socket.send_fds(a, [b"take this"], [os.open("/dev/null", os.O_RDONLY)])'
pass "a unix socket with descriptors passed to it queued is refused, saying so, the process unharmed"

# A listener with a connection waiting to be accepted (its client another
# process's): a restart would make the listener alone, the client's
# connection lost without a word.
refused_alive "a unix listener with a connection waiting" \
	"a listening unix socket with 1 connection waiting to be accepted" 'import os, select, socket, time
me = os.getpid()
name = "\0crak-waiting-%d" % me
l = socket.socket(socket.AF_UNIX)
l.bind(name)
l.listen(4)
if os.fork() == 0:
    c = socket.socket(socket.AF_UNIX)
    c.connect(name)
    while os.getppid() == me:
        time.sleep(0.2)
    os._exit(0)
select.select([l], [], [])'
pass "a unix listener with a connection waiting to be accepted is refused, saying so, the process unharmed"

# A unix socket bound to a relative name (a restart binds it before the
# process has its directory), and a seqpacket socket connected to none.
refused_alive "a datagram socket bound to a relative name" \
	"a unix socket bound to a relative name: not taken yet" 'import os, socket
os.chdir("/run")
if os.path.exists("crak-rel-srv"):
    os.unlink("crak-rel-srv")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("crak-rel-srv")'
refused_alive "an unconnected seqpacket socket" "an unconnected unix seqpacket socket" 'import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)'
on a "rm -f /run/crak-rel-srv"
pass "a unix socket bound to a relative name, and an unconnected seqpacket socket, are refused, saying so, the process unharmed"

# An epoll watching a file whose descriptor it was registered as was
# closed (the file open on as another): a restart registers each interest
# as that number, where the file no longer is.
refused_alive "an epoll watching a file moved to another descriptor" \
	"watches a file that is not its descriptor" 'import os, select
ep = select.epoll()
r, w = os.pipe()
ep.register(r)
keep = os.dup(r)
os.close(r)'
pass "an epoll watching a file no longer at the descriptor it was registered as is refused, saying so, the process unharmed"

# A mapped file changed.
prog_start a memory changed-file
checkpoint a "$prog_pid" "$prog_dir/img"
wait_job "$prog_job" > /dev/null 2>&1
for f in "$prog_dir"/*; do
	[ -f "$f" ] && [ "$f" != "$prog_dir/img" ] && [ "$f" != "$prog_dir/ready" ] &&
		[ "$f" != "$prog_dir/pid" ] && echo "grown" >> "$f"
done
out=$(on a crak restart "$prog_dir/img" 2>&1) && fail "a restart over a changed file worked"
echo "$out" | grep -q "changed size since the checkpoint" ||
	fail "the changed file is not named: $out"
pass "a process whose mapped file changed is not restarted"
rm -rf "$CKPT_DIR"
