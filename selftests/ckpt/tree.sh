#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=420 kernels=6.12,6.1
#
# A tree of processes outside any pod moves whole: crak checkpoint --tree
# PID takes PID and every process under it (../pod/tree.py: a producer and
# a consumer joined by a pipe and in one process group, a session leader
# with its child, a zombie, all sharing one open log file and a datagram
# socket connected outside, as syslog(3)'s to /dev/log), and crak restart
# makes each again with its PID, parent, session and group, the pipe (with
# what was in it), the log (one open file, one offset) and the datagram
# socket (connected to the same name) shared as they were, the zombie ready
# to be reaped with its exit status, and PID a child of crak restart.  Streamed from node a to node b, the tree goes
# on there; the producer's numbers reach the log in order, none lost or
# repeated.  What cannot be done is said in one line, the tree running on:
# no such process, PID 1, crak itself under PID.  Memory a parent and
# child share (shared anonymous, a memfd, a deleted /dev/shm file: one
# memory with their descriptors), and an epoll, are shared again when
# restarted, and a datagram server and a stream listener with their
# child's client and connection come back bound, connected and named as
# they were; an epoll interest no holder could register again is refused.
# A restart one of whose
# PIDs is taken (a child's, deep in the tree) names the holder and leaves
# no process of the tree behind; so does one of an image cut short or
# with a byte changed, and one killed halfway.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"

dir=$CKPT_DIR/tree
TREE_PY=$(dirname "$0")/../pod/tree.py
port=7412
rm -rf "$dir"
mkdir -p "$dir"
cp "$TREE_PY" "$dir/"
declare -A logs
for node in a b; do
	logs[$node]=$(syslog_start $node) || fail "the tree's datagram socket has nothing to connect to"
done

# lines: the log's numbers so far.
lines() { grep -c . "$dir/log"; }

# grows NODE: the log gains 20 numbers (the tree runs, on NODE).
grows() {
	local before
	before=$(lines)
	until_on "$1" 30 "[ \$(grep -c . $dir/log) -ge $((before + 20)) ] && echo on" > /dev/null
}

# procs NODE: the PIDs of the tree's processes on NODE, zombies aside.
procs() {
	on "$1" "for p in \$(pgrep -f '^/usr/bin/python3 $dir/tree.py'); do
		[ \"\$(cut -d' ' -f3 /proc/\$p/stat 2> /dev/null)\" = Z ] || echo \$p
	done | sort -n | tr '\n' ' '"
}

# gone NODE: no process of the tree on NODE (seconds for the killed to go).
gone() {
	for _ in $(seq $((50 * WAIT_SCALE))); do
		[ -z "$(procs "$1")" ] && return 0
		sleep 0.2
	done
	return 1
}

# verdict NODE N: the tree's N-th look at itself, on NODE.
verdict() {
	local v
	on "$1" "kill -USR1 $top" || fail "cannot signal the tree's root on $1"
	v=$(until_on "$1" 60 "grep '^$2 ' $dir/verdict 2> /dev/null") ||
		fail "the tree gave no verdict on $1: $(cat "$dir/verdict" 2> /dev/null)"
	[ "$v" = "$2 ok" ] || fail "the tree on $1 is not as it was: $v"
}

# ordered: every number in the log once, in order.
ordered() {
	$PY -c '
import sys
n = [int(x) for x in open(sys.argv[1])]
assert n == list(range(1, len(n) + 1)), [x for i, x in enumerate(n) if x != i + 1][:3]
' "$dir/log" || fail "the producer's numbers are not all in the log, in order, once: $(grep -v '^[0-9]*$' "$dir/log" | head -3)"
}

# The tree, from a job of node a (its session and group, not the tree's).
job=$(on_bg a "echo \$((10000 + RANDOM % 20000)) > /proc/sys/kernel/ns_last_pid
	/usr/bin/python3 $dir/tree.py $dir > $dir/out 2>&1 < /dev/null & echo \$! > $dir/pid
	wait \$!")
wait_file -s "$dir/tree" 60 && grows a ||
	fail "the tree did not start: $(cat "$dir/out"; wait_job "$job" 2>&1 | tail -3)"
top=$(cat "$dir/pid")
d=$(sed -n 's/^d //p' "$dir/tree")
live=$(procs a)
[ "$(wc -w <<< "$live")" = 5 ] || fail "the tree runs $live, not five processes and a zombie"
pass "a tree of six processes runs outside any pod: a pipe, a group, a session, a zombie, a shared log"

# Refused, in one line each (and a usage error's pointer to --help), the
# tree running on and no image left.
expect_refused() {
	local out
	out=$(on a "$1" 2>&1) && fail "'$1' worked"
	out=$(grep -v "^Try 'crak checkpoint --help'" <<< "$out")
	[ "$(wc -l <<< "$out")" = 1 ] && grep -q "$2" <<< "$out" ||
		fail "'$1' did not say in one line that $2: $out"
}
expect_refused "crak checkpoint --tree 4194000 -o $dir/x.img" "no process 4194000"
expect_refused "crak checkpoint --tree 1 -o $dir/x.img" "PID 1 is its PID namespace's init"
expect_refused "crak checkpoint --tree \$\$ -o $dir/x.img" "crak itself runs under process"
expect_refused "crak checkpoint $top --tree $top -o $dir/x.img" "takes the place of PID"
[ ! -e "$dir/x.img" ] && [ ! -e "$dir/x.img.partial" ] || fail "a refused checkpoint left an image"
[ "$(procs a)" = "$live" ] && grows a || fail "the tree does not run on after the refusals"
pass "a checkpoint of no process, of PID 1, of a tree crak runs in, is refused in one line; the tree runs on"

# Memory a parent shares with its child (MAP_SHARED | MAP_ANONYMOUS; a
# memfd mapped shared, whose descriptor both hold; a deleted file of
# /dev/shm mapped shared, whose descriptor the parent alone holds; two
# deleted files of two fresh tmpfs mounts, which number their files alike:
# two memories of one inode number, the first held by the parent too: all
# before a fork) comes back shared, as one memory each, one with its
# descriptors: on SIGUSR1 the parent writes a new number into each (those
# it holds through their descriptors; another number into each of the
# two of one inode number), and the child, which copies what it finds
# next to it in its mappings, must echo it within 5 s, read back through
# the mappings and the descriptors.
cat > "$dir/shm.py" << 'EOF'
import ctypes, mmap, os, signal, sys, time
verdict = sys.argv[1]
anon = mmap.mmap(-1, 3 * 4096)
# (Not with mmap.mmap, which keeps a descriptor of its own open.)
libc = ctypes.CDLL(None)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]

def shared(fd):
    os.ftruncate(fd, 4096)
    return (ctypes.c_char * 4096).from_address(
        libc.mmap(None, 4096, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0))

mfd = os.memfd_create("crak-shm")
mem = shared(mfd)
name = "/dev/shm/crak-del-%d" % os.getpid()
dfd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
os.unlink(name)
dmem = shared(dfd)
one = os.open(sys.argv[2] + "/crak-one", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
two = os.open(sys.argv[3] + "/crak-two", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
os.unlink(sys.argv[2] + "/crak-one")
os.unlink(sys.argv[3] + "/crak-two")
one_mem = shared(one)
two_mem = shared(two)
os.close(two)
anon[0:5] = b"tree\n"
if os.fork() == 0:
    os.close(dfd)
    os.close(one)
    anon[8192:8196] = b"kid!"
    while True:
        for m in (anon, mem, dmem, one_mem, two_mem):
            if m[200:208] != m[100:108]:
                m[200:208] = m[100:108]
        time.sleep(0.01)

def check(sig, frame):
    n = int.from_bytes(anon[100:108], "little") + 1
    b = n.to_bytes(8, "little")
    anon[100:108] = b
    os.pwrite(mfd, b, 100)
    os.pwrite(dfd, b, 100)
    b1 = (n + 1000).to_bytes(8, "little")
    b2 = (n + 2000).to_bytes(8, "little")
    os.pwrite(one, b1, 100)
    two_mem[100:108] = b2
    want = [b] * 5 + [b1, b1, b2]
    ok = False
    for _ in range(500):
        time.sleep(0.01)
        seen = [anon[200:208], mem[200:208], dmem[200:208], os.pread(mfd, 8, 200), os.pread(dfd, 8, 200),
                one_mem[200:208], os.pread(one, 8, 200), two_mem[200:208]]
        if seen == want:
            ok = anon[0:5] == b"tree\n" and anon[8192:8196] == b"kid!"
            break
    with open(verdict, "a") as f:
        f.write("%d %s\n" % (n, "ok" if ok else "bad %r %r" % (seen, anon[8192:8196])))

signal.signal(signal.SIGUSR1, check)
while True:
    time.sleep(0.1)
EOF
tmpfs="/tmp/crak-tmpfs1 /tmp/crak-tmpfs2"
on a "for t in $tmpfs; do mkdir -p \$t && mount -t tmpfs -o size=1M crak \$t || exit; done" ||
	fail "cannot mount two tmpfs on a"
shm=$(on a "echo $((10000 + RANDOM % 20000)) > /proc/sys/kernel/ns_last_pid; python3 $dir/shm.py $dir/shm.verdict $tmpfs > /dev/null 2>&1 < /dev/null & echo \$!")
kid=$(until_on a 30 "pgrep -P $shm") || fail "the process sharing memory with its child did not fork"
# (What makes the test: the two files' one inode number, of two devices.)
same=$(on a "grep ' /tmp/crak-tmpfs[12]/crak-[a-z]* (deleted)' /proc/$shm/maps | awk '{ print \$4, \$5 }' | sort -u")
[ "$(wc -l <<< "$same")" = 2 ] && [ "$(awk '{ print $2 }' <<< "$same" | sort -u | wc -l)" = 1 ] ||
	fail "the files of the two tmpfs mounts have not one inode number of two devices: $same"
# looks NODE PID VERDICT N WHAT: parent PID's N-th look (on SIGUSR1) at
# WHAT it shares with its child, on NODE, which it writes to VERDICT.
looks() {
	local v
	on "$1" "kill -USR1 $2" || fail "cannot signal the parent sharing $5 on $1"
	v=$(until_on "$1" 30 "grep '^$4 ' $3 2> /dev/null") ||
		fail "the parent sharing $5 gave no verdict on $1"
	[ "$v" = "$4 ok" ] || fail "on $1 the parent and child do not share $5 as they did: $v"
}
# shared NODE N: the parent's N-th look at the memory it shares, on NODE.
shared() { looks "$1" "$shm" "$dir/shm.verdict" "$2" "their memory"; }
shared a 1
out=$(on a crak checkpoint --tree "$shm" -o "$dir/shm.img" --leave-running 2>&1) ||
	fail "the checkpoint of a parent and child sharing memory failed: $out"
shared a 2
out=$(on a crak image show "$dir/shm.img") || fail "crak image show refuses the image: $out"
grep -q "shared #.*: shared memory dev/zero, made by $shm (12288 bytes), mapped by $shm $kid$" <<< "$out" &&
	grep -q "shared #.*: shared memory memfd:crak-shm, made by $shm (4096 bytes), mapped by $shm $kid, the memory of #" <<< "$out" &&
	grep -q "shared #.*: shared memory dev/shm/crak-del-$shm, made by $shm (4096 bytes), mapped by $shm $kid, the memory of #" <<< "$out" &&
	grep -q "shared #.*: shared memory tmp/crak-tmpfs1/crak-one, made by $shm (4096 bytes), mapped by $shm $kid, the memory of #" <<< "$out" &&
	grep -q "shared #.*: shared memory tmp/crak-tmpfs2/crak-two, made by $shm (4096 bytes), mapped by $shm $kid$" <<< "$out" ||
	fail "image show does not list the five memories shared, three of them descriptors': $out"
on a "kill -KILL $kid $shm; umount -l $tmpfs"
# (Its memory as the image has it: the next look is the second again.)
rm -f "$dir/shm.verdict"
out=$(on b crak restart "$dir/shm.img" --detach 2>&1) || fail "the restart on b failed: $out"
shared b 2
maps=$(on b "grep -h ' /dev/zero (deleted)\| /memfd:crak-shm (deleted)\| /dev/shm/crak-del-$shm (deleted)\| /tmp/crak-tmpfs[12]/crak-[a-z]* (deleted)' /proc/$shm/maps /proc/$kid/maps | awk '{ print \$2, \$5, \$6 }' | sort | uniq -c")
[ "$(grep -c '^ *2 ' <<< "$maps")" = 5 ] ||
	fail "on b the parent and child do not map the same five memories: $maps"
on b "kill -KILL $kid $shm"
pass "a parent and child sharing memory (shared anonymous, a memfd both hold, a deleted file one holds, two deleted files of two file systems with one inode number) share it again once restarted on b, as one memory each, one with its descriptors"

# An epoll a parent and its child share (made before the fork, and held
# twice by each: dup), watching the parent's pipe (registered before the
# fork) and one the child alone reads (registered by the child, as its
# descriptor: the parent has no such descriptor): each process registers
# its interests again, once, and the
# parent, on SIGUSR1, writes into both pipes and sees both ready through
# the epoll (the child then empties its own), with the interest list as
# it was.
cat > "$dir/epoll.py" << 'EOF'
import os, select, signal, sys, time
verdict = sys.argv[1]
ep = select.epoll()
ep_again = os.dup(ep.fileno())
r, w = os.pipe()
ep.register(r, select.EPOLLIN)
kid_r, kid_w = os.pipe()
tell_r, tell_w = os.pipe()
if os.fork() == 0:
    ev = os.dup(kid_r)
    os.close(kid_r)
    ep.register(ev, select.EPOLLIN)
    with open(verdict + ".kid.new", "w") as f:
        f.write("%d\n" % ev)
    os.rename(verdict + ".kid.new", verdict + ".kid")
    while True:
        os.read(tell_r, 1)
        os.read(ev, 1)
os.close(kid_r)
while not os.path.exists(verdict + ".kid"):
    time.sleep(0.01)
ev = int(open(verdict + ".kid").read())

def interests(fd=ep.fileno()):
    with open("/proc/self/fdinfo/%d" % fd) as f:
        return sorted(" ".join(l.split()[:6]) for l in f if l.startswith("tfd:"))

first = interests()
n = 0

def check(sig, frame):
    global n
    n += 1
    os.write(w, b"x")
    os.write(kid_w, b"x")
    seen = set()
    for _ in range(50):
        seen.update(fd for fd, _ in ep.poll(0.1))
        if seen == {r, ev}:
            break
    os.read(r, 1)
    os.write(tell_w, b"x")
    now = interests()
    ok = seen == {r, ev} and now == first == interests(ep_again) and len(now) == 2
    with open(verdict, "a") as f:
        f.write("%d %s\n" % (n, "ok" if ok else "bad: saw %r of %r; %r, was %r" % (sorted(seen), [r, ev], now, first)))

signal.signal(signal.SIGUSR1, check)
with open(verdict + ".fds", "w") as f:
    f.write("%d %d\n" % (r, ev))
while True:
    time.sleep(0.1)
EOF
ep=$(on a "echo $((10000 + RANDOM % 20000)) > /proc/sys/kernel/ns_last_pid; python3 $dir/epoll.py $dir/ep.verdict > /dev/null 2>&1 < /dev/null & echo \$!")
wait_file -s "$dir/ep.verdict.fds" 30 || fail "the process sharing its epoll with a child did not start"
ep_kid=$(on a "pgrep -P $ep") || fail "the process sharing its epoll did not fork"
read -r ep_r ep_ev < "$dir/ep.verdict.fds"
# epoll_looks NODE N: the parent's N-th look at the epoll, on NODE.
epoll_looks() { looks "$1" "$ep" "$dir/ep.verdict" "$2" "an epoll"; }
epoll_looks a 1
out=$(on a crak checkpoint --tree "$ep" -o "$dir/ep.img" --leave-running 2>&1) ||
	fail "the checkpoint of a parent and child sharing an epoll failed: $out"
epoll_looks a 2
out=$(on a crak image show "$dir/ep.img") || fail "crak image show refuses the image: $out"
grep -q "shared #.*: epoll, made by $ep$" <<< "$out" ||
	fail "image show does not list the shared epoll: $out"
on a "crak -j image show $dir/ep.img" | $PY -c '
import json, sys
j = json.load(sys.stdin)
w = {p["process"]["pid"]: [x["fd"] for f in p["files"] for x in f.get("watches", [])]
     for p in j["processes"]}
want = {int(sys.argv[1]): [int(sys.argv[3])], int(sys.argv[2]): [int(sys.argv[4])]}
assert w == want, (w, want)
' "$ep" "$ep_kid" "$ep_r" "$ep_ev" || fail "image show -j does not give each process the interests it registers"
on a "kill -KILL $ep_kid $ep"
rm -f "$dir/ep.verdict"
out=$(on b crak restart "$dir/ep.img" --detach 2>&1) || fail "the restart on b failed: $out"
epoll_looks b 2
on b "kill -KILL $ep_kid $ep"
pass "a parent and child sharing an epoll share it again once restarted on b, each interest registered again by the process that holds its file"

# A datagram server in a parent, bound to a path and connected to none,
# with a datagram queued from its child's client, connected to it by its
# name, and a stream listener with the connection it accepted from the
# child, bytes queued: restarted on b, the server is bound to its path
# again (a new socket's datagram reaches it), the datagram queued still
# there, and the child's client connected to it (its next datagram reaches
# the server; it tells the name it is connected to); the connection has
# the listener's name at the parent's end, and the bytes queued, and names
# the child to SO_PEERCRED (the parent, above both ends, made it again);
# the listener listens.
cat > "$dir/unix.py" << 'EOF'
import os, signal, socket, struct, sys, time
verdict, path = sys.argv[1], sys.argv[2]
spath, kpath = path + ".stream", path + ".kid"
srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
srv.bind(path)
lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
lst.bind(spath)
lst.listen()
kid = os.fork()
if kid == 0:
    srv.close()
    lst.close()
    # A listener of the child's own, its parent its client: made again by
    # the parent (above them both), it listens again from the child.
    kl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    kl.bind(kpath)
    kl.listen(3)
    ka, _ = kl.accept()
    ka.sendall(b"hi")
    c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)

    def again(sig, frame):
        c.send(b"after " + c.getpeername().encode())
        s.sendall(b"to " + s.getpeername().encode())
    signal.signal(signal.SIGUSR1, again)
    c.connect(path)
    c.send(b"before")
    s.connect(spath)
    s.sendall(b"queued ")
    while True:
        time.sleep(0.1)
kc = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
while kc.connect_ex(kpath):
    time.sleep(0.01)
conn, _ = lst.accept()
# (What the child sent, queued before the parent says it is ready.)
while (srv.recv(100, socket.MSG_PEEK) != b"before" or conn.recv(100, socket.MSG_PEEK) != b"queued " or
       kc.recv(100, socket.MSG_PEEK) != b"hi"):
    time.sleep(0.01)

def pid_of(s):
    return struct.unpack("3i", s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]

def peer_pid(name):
    n = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    n.connect(name)
    return pid_of(n)

def check(sig, frame):
    os.kill(kid, signal.SIGUSR1)
    got = []
    want = ["before", "new", "after " + path]
    stream, swant = b"", ("queued to " + spath).encode()
    try:
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"new", path)
        srv.settimeout(5)
        while len(got) < 3:
            got.append(srv.recv(100).decode())
        conn.settimeout(5)
        while len(stream) < len(swant):
            stream += conn.recv(100) or b"(closed)"
        # The listener listens.
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).connect(spath)
        lst.settimeout(5)
        lst.accept()
        listens = True
        # A new client of the child's listener is told the child listens.
        kpeer = peer_pid(kpath)
        cpeer = pid_of(conn)
    except OSError as e:
        got.append(str(e))
        listens = False
        kpeer = cpeer = None
    ok = (srv.getsockname() == path and sorted(got) == sorted(want) and got[0] == "before" and
          stream == swant and conn.getsockname() == spath and cpeer == kid and
          listens and kpeer == kid and kc.recv(100) == b"hi")
    with open(verdict, "a") as f:
        f.write("1 %s\n" % ("ok" if ok else "bad: %r named %r; %r at %r, its peer %r; "
                             "the child's listener by %r" %
                             (got, srv.getsockname(), stream, conn.getsockname(), cpeer, kpeer)))

signal.signal(signal.SIGUSR1, check)
open(verdict + ".ready", "w").close()
while True:
    time.sleep(0.1)
EOF
un=$(on a "echo $((10000 + RANDOM % 20000)) > /proc/sys/kernel/ns_last_pid; python3 $dir/unix.py $dir/un.verdict /tmp/crak-tree.dgram > /dev/null 2>&1 < /dev/null & echo \$!")
wait_file "$dir/un.verdict.ready" 30 || fail "the unix servers and their child did not start"
un_kid=$(on a "pgrep -P $un") || fail "the unix servers did not fork"
out=$(on a crak checkpoint --tree "$un" -o "$dir/un.img" 2>&1) ||
	fail "the checkpoint of unix servers and their child's clients failed: $out"
out=$(on b crak restart "$dir/un.img" --detach 2>&1) || fail "the restart on b failed: $out"
looks b "$un" "$dir/un.verdict" 1 "a datagram server and a stream connection"
on b "kill -KILL $un_kid $un; rm -f /tmp/crak-tree.dgram*"
on a "rm -f /tmp/crak-tree.dgram*"
pass "a datagram server and a stream listener bound to paths, with their child's client and connection, come back bound and connected on b, named as they were, what was queued kept, the connection's peer the child; a listener the child made listen, whose client is its parent, names the child to a new client"

# An interest a child registered as a descriptor it has closed since (the
# file open on as another): no holder could register it again.
stale=$(on a "python3 -c '
import os, select, time
ep = select.epoll()
if os.fork() == 0:
    e = os.eventfd(0)
    keep = os.dup(e)
    ep.register(e)
    os.close(e)
    open(\"$dir/stale.ready\", \"w\").close()
    time.sleep(1000)
time.sleep(1000)' > /dev/null 2>&1 < /dev/null & echo \$!")
wait_file "$dir/stale.ready" 30 || fail "the tree with a stale epoll interest did not start"
expect_refused "crak checkpoint --tree $stale -o $dir/stale.img" "watches a file that is no holder's descriptor"
on a "kill -0 $stale" || fail "the tree with a stale epoll interest does not run on after the refusal"
on a "pkill -KILL -P $stale; kill -KILL $stale"
pass "an epoll interest no process of the tree could register again is refused in one line, the tree running on"

out=$(on a crak checkpoint --tree "$top" -o "$dir/left.img" --leave-running 2>&1) ||
	fail "crak checkpoint --tree --leave-running failed: $out"
echo "  $out"
grep -q "checkpoint tree $top: 6 processes" <<< "$out" || fail "the checkpoint did not say it took 6 processes: $out"
[ "$(procs a)" = "$live" ] && grows a || fail "the tree does not run on after --leave-running"
out=$(on a crak image show "$dir/left.img") || fail "crak image show refuses the tree's image: $out"
grep -q "^tree of process $top" <<< "$out" && grep -q "^process tree: 6 processes" <<< "$out" &&
	grep -q "^  $top: parent 0, .*the root" <<< "$out" && grep -q "a zombie (exit 7)" <<< "$out" &&
	grep -q "shared #.*: pipe" <<< "$out" && grep -q "shared #.*: unix socket" <<< "$out" &&
	grep -q "shared #.*: unix socket to $SYSLOG_PATH, made by $top" <<< "$out" ||
		fail "image show does not show the tree as it is: $out"
on a "crak -j image show $dir/left.img" | $PY -c '
import json, sys
j = json.load(sys.stdin)
assert j["valid"] and j["root"] == int(sys.argv[1]), j
assert len(j["tree"]) == 6 and len(j["processes"]) == 5, j.keys()
assert [p["pid"] for p in j["tree"] if p["command"]] == [int(sys.argv[1])]
assert [s["owner"] for s in j["shared"] if s.get("connected_to") == sys.argv[2]] == [int(sys.argv[1])], j["shared"]
' "$top" "$SYSLOG_PATH" || fail "image show -j does not describe the tree"
pass "--leave-running: the tree runs on; crak image show lists it, its root, zombie, shared pipe and where its shared datagram socket connects (text and JSON)"

# Streamed to node b: the tree goes on there, and is gone from a.
rjob=$(on_bg b "socat -u TCP-LISTEN:$port,reuseaddr STDOUT | crak restart - --detach")
until_on b 30 ss -Hltn "'sport = :$port'" > /dev/null || fail "socat does not listen on b"
out=$(on a "set -o pipefail; crak checkpoint --tree $top -o - | socat -u STDIN TCP:$(ip4 b):$port" 2>&1) ||
	fail "the streamed checkpoint failed: $out; on b: $(wait_job "$rjob" 2>&1 | tail -3)"
out=$(wait_job "$rjob" 2>&1) || fail "the streamed restart on b failed: $out"
grep -q "restarted tree $top: 6 processes" <<< "$out" || fail "crak restart did not say it made the tree: $out"
wait_job "$job" > /dev/null 2>&1
[ -z "$(procs a)" ] || fail "processes of the tree are left on a: $(procs a)"
grows b || fail "the log does not go on on node b"
[ "$(procs b)" = "$live" ] || fail "on b the tree runs $(procs b), not $live"
verdict b 1
exes=$(on b "for p in $live; do readlink /proc/\$p/exe; done | sort -u")
[ "$exes" = "$(readlink -f /usr/bin/python3)" ] || fail "/proc/PID/exe of the tree's processes on b: $exes"
ordered
pass "streamed from a to b, each process has its PID, parent, group and session again; the log and pipe are shared; the zombie reaps with exit 7; $(lines) numbers in order"

# A grandchild's PID taken on a (and the PIDs after it kept clear): the
# restart names the holder and leaves nothing made.
# (The jobs' own processes take PIDs from elsewhere, before and after; the
# tree's are between 10001 and 30006, pid_max 32768.)
far=$((top > 20000 ? top - 8000 : top + 8000))
on a "echo $far > /proc/sys/kernel/ns_last_pid" || fail "cannot set ns_last_pid on a"
holder=$(on a "echo $((d - 1)) > /proc/sys/kernel/ns_last_pid
	setsid sleep 600 < /dev/null > /dev/null 2>&1 & echo \$!
	echo $((far + 1000)) > /proc/sys/kernel/ns_last_pid")
[ "$holder" = "$d" ] || skip "PID $d could not be taken on a (got $holder)"
out=$(on a crak restart "$dir/left.img" --detach 2>&1) && fail "a restart whose PID $d is taken worked"
grep -q "PID $d is taken by 'sleep'" <<< "$out" || fail "the restart did not name the holder of PID $d: $out"
gone a || fail "a failed restart left processes of the tree on a: $(procs a)"
on a "kill $holder"
pass "a restart whose PID $d (a grandchild's) is taken says by what, and leaves none of the tree behind"

# Cut short (in the middle of a process's image, or of the last one's) or
# with a byte changed, the image is refused, and nothing of it runs.
size=$(stat -c %s "$dir/left.img")
head -c $((size / 2)) "$dir/left.img" > "$dir/half.img"
head -c $((size - 100)) "$dir/left.img" > "$dir/most.img"
cp "$dir/left.img" "$dir/flip.img"
printf '\x55' | dd of="$dir/flip.img" bs=1 seek=100 conv=notrunc status=none
for bad in half most flip; do
	out=$(on a crak restart "$dir/$bad.img" --detach 2>&1) && fail "the broken image $bad.img restarted"
	grep -q "image" <<< "$out" || fail "the refusal of $bad.img does not say what is wrong with the image: $out"
	gone a || fail "the broken image $bad.img left processes on a: $(procs a)"
done
pass "an image cut short, or with a byte changed, is refused, and nothing of it runs"

# crak restart killed (SIGKILL) while it waits for the rest of the image,
# the processes it made whole already: the kernel kills them too
# (CRAK_CKPT_A_HOLD_KILL), none runs alone.
rm -f "$dir/fifo"
mkfifo "$dir/fifo"
rjob=$(on_bg a "exec crak restart $dir/fifo --detach")
wjob=$(on_bg a "exec 3> $dir/fifo; head -c $((size * 3 / 4)) $dir/left.img >&3; exec sleep 600")
until_on a 60 "[ \$(pgrep -fc '^/usr/bin/python3 $dir/tree.py') -ge 3 ] && echo made" > /dev/null ||
	fail "crak restart did not make the tree's first processes from three quarters of its image: $(procs a)"
on a "pkill -KILL -f '^crak restart $dir/fifo'" || fail "crak restart was not there to kill"
wait_job "$rjob" > /dev/null 2>&1
kill_job "$wjob" KILL
wait_job "$wjob" > /dev/null 2>&1
gone a || fail "crak restart killed left processes of the tree running: $(procs a)"
pass "crak restart killed halfway: the processes it had made go with it"

# The image left running restarts on a, once the tree on b is gone.
on b "pkill -KILL -f '^/usr/bin/python3 $dir/tree.py'"
gone b || fail "the tree on b did not go when killed: $(procs b)"
rm -f "$dir/verdict"
out=$(on a crak restart "$dir/left.img" --detach 2>&1) || fail "the restart of the image left running failed on a: $out"
[ "$(procs a)" = "$live" ] || fail "on a the tree runs $(procs a), not $live"
verdict a 1
pass "the image taken with --leave-running restarts the tree on a, zombie and all"
on a "pkill -KILL -f '^/usr/bin/python3 $dir/tree.py'"
syslog_stop ${logs[a]} ${logs[b]}
rm -rf "$dir"
