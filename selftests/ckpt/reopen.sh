#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=300
#
# What a restart opens again is what the process had.  Its standard
# descriptors, which a terminal's three share, are the restarter's own,
# each of its number (in a tree, in each process): restarted with its
# input from /dev/null and its output and errors to two files, it writes
# to those files.  A FIFO it holds for reading and writing keeps the data
# queued in it.  A path that leads elsewhere now is refused in one line,
# and nothing is written there: to another kind of file (a FIFO's data
# never goes into a regular file put in its place), or, for another
# user's process, through a symbolic link (root restarting it follows
# none its user could plant since).  Put back as it was, the same image
# restarts.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"

dir=$CKPT_DIR/reopen
tmp=/tmp/crak-reopen
rm -rf "$dir"
mkdir -p "$dir"

# -- a terminal's three descriptors --------------------------------------
# pty_start NAME SCRIPT: sh -c SCRIPT on a pseudo-terminal of node a (its
# 0, 1 and 2 one open file), once it printed ready; sets pid and job.
pty_start() {
	job=$(on_bg a "$PY -c '
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(\"/bin/sh\", [\"sh\", \"-c\", sys.argv[2]])
buf = b\"\"
while b\"ready\" not in buf:
    buf += os.read(fd, 100)
open(sys.argv[1], \"w\").write(\"%d\\n\" % pid)
try:
    while os.read(fd, 100):
        pass
except OSError:
    pass
os.waitpid(pid, 0)
' $dir/$1.pid '$2'")
	wait_file -s "$dir/$1.pid" 30 ||
		fail "$1: the shell on a terminal did not start: $(wait_job "$job" 2>&1)"
	pid=$(cat "$dir/$1.pid")
}

# in_read PID: until process PID waits in read(2).
in_read() {
	until_on a 10 "awk '\$1 == 0 { print }' /proc/$1/syscall" > /dev/null ||
		fail "process $1 does not wait in read(2)"
}

# restarted NAME WANT_OUT WANT_ERR: NAME's image restarted with its input
# from /dev/null and its output and errors to two files, which must hold
# WANT_OUT and WANT_ERR once it ends.
restarted() {
	local out
	out=$(on a "crak restart $dir/$1.img < /dev/null > $dir/$1.out 2> $dir/$1.err; echo rc=\$?")
	[ "$out" = rc=0 ] || fail "$1: the restart ended with $out: $(cat "$dir/$1.err")"
	[ "$(cat "$dir/$1.out")" = "$2" ] && [ "$(cat "$dir/$1.err")" = "$3" ] ||
		fail "$1: the restarted output is not where its restarter's is:" \
			"out '$(cat "$dir/$1.out")', err '$(cat "$dir/$1.err")'"
}

# A shell waiting in a read of its terminal.
pty_start tty "echo ready; read x; echo out; echo err >&2"
in_read "$pid"
checkpoint a "$pid" "$dir/tty.img"
wait_job "$job" > /dev/null 2>&1
restarted tty out err
pass "a terminal's three descriptors become the restarter's three, each its own"

# A shell and its child, both reading the terminal they share (a shell
# gives a child in the background /dev/null: this one takes the terminal
# back): a tree, under the terminal's session leader, which a tree does
# not take.
pty_start tree 'echo ready; sh -c "exec 3<&0; (exec <&3 3<&-; read x; echo child) & exec 3<&-; read y; wait; echo parent; echo err >&2"; true'
top=$(until_on a 10 "pgrep -P $pid") || fail "the tree's shell did not start"
child=$(until_on a 10 "pgrep -P $top") || fail "the tree's shell's child did not start"
in_read "$top"
in_read "$child"
out=$(on a crak checkpoint --tree "$top" -o "$dir/tree.img" 2>&1) ||
	fail "the checkpoint of the shell's tree failed: $out"
wait_job "$job" > /dev/null 2>&1
until_on a 10 "[ -e /proc/$top ] || [ -e /proc/$child ] || echo gone" > /dev/null ||
	fail "the tree checkpointed is still there"
restarted tree "child
parent" err
pass "in a tree too: each process's three are the restarter's own"

# -- paths that lead elsewhere now ---------------------------------------
# Another user's process (nobody's), restarted by root: the case where a
# link its user planted would lend it root's reach.
on a "rm -rf $tmp && mkdir -p $tmp/d $tmp/other && echo in-d > $tmp/d/f &&
	echo in-other > $tmp/other/f && mkfifo -m 666 $tmp/fifo" || fail "cannot set up $tmp"
pid=$(on a "setpriv --reuid=65534 --regid=65534 --clear-groups \
	sh -c 'exec 3< $tmp/d/f 4<> $tmp/fifo; echo queued >&4; exec sleep 1000' \
	> /dev/null 2>&1 & echo \$!")
until_on a 10 "grep -q '^sleep' /proc/$pid/comm && ls -l /proc/$pid/fd/4" > /dev/null ||
	fail "the process holding the file and the FIFO did not start"
checkpoint a "$pid" "$dir/paths.img"
# (Its PID free again, reaped by whoever adopted it, before any restart.)
until_on a 10 "[ -e /proc/$pid ] || echo gone" > /dev/null ||
	fail "the process checkpointed is still there"

# refused WHAT WANT: crak restart of the image must fail (WHAT the case) in one line
# saying WANT.
refused() {
	local out rc=0
	out=$(on a "crak restart $dir/paths.img --detach --pidfile $dir/paths.pid" 2>&1) || rc=$?
	[ $rc = 1 ] && [ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -qF "$2" ||
		fail "$1: restart exit $rc, not one line saying '$2': $out"
}

on a "mv $tmp/d $tmp/d.was && ln -s other $tmp/d" || fail "cannot plant the link"
refused "a directory on the path now a symbolic link" "a symbolic link is on its path now"
on a "rm $tmp/d && mv $tmp/d.was $tmp/d && rm $tmp/fifo && echo untouched > $tmp/fifo" ||
	fail "cannot put a regular file in the FIFO's place"
refused "a regular file where the FIFO was" "it is another kind of file now"
[ "$(on a cat $tmp/fifo)" = untouched ] ||
	fail "the FIFO's data went into the regular file in its place: $(on a cat $tmp/fifo)"
pass "a path through a symbolic link, or to another kind of file, is refused in one line"

on a "rm $tmp/fifo && mkfifo -m 666 $tmp/fifo" || fail "cannot make the FIFO again"
out=$(on a "crak restart $dir/paths.img --detach --pidfile $dir/paths.pid" 2>&1) ||
	fail "the image does not restart with its paths as they were: $out"
pid=$(cat "$dir/paths.pid")
[ "$(on a "timeout 10 head -c 7 /proc/$pid/fd/4")" = queued ] ||
	fail "the data queued in the FIFO held for reading and writing is gone"
[ "$(on a cat /proc/$pid/fd/3)" = in-d ] || fail "descriptor 3 is not the file it was"
on a "kill -KILL $pid; rm -rf $tmp"
pass "put back as it was, the image restarts, the FIFO's data in it"
rm -rf "$dir"
