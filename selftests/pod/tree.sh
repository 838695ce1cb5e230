#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=420 kernels=6.12,6.1
#
# A pod of many processes moves whole: crak checkpoint NAME takes every
# process of the pod (tree.py: a producer and a consumer joined by a pipe
# and in one process group, a session leader with its child, a zombie, all
# sharing one open log file and a datagram socket connected to a socket
# outside the pod, as syslog(3)'s to /dev/log), crak image show lists the
# tree, and crak restart on another node makes each process again with its
# PID, parent, session and group, the pipe (with what was in it) and the
# log (one open file, one offset) shared as they were, the datagram socket
# connected to the same name there, and the zombie ready to be reaped with
# its exit status.  Then crak migrate --live brings it back over
# crakd (every process's memory sent ahead, and filled in after while they
# run), the same.  The producer's numbers reach the log in order, none lost or
# repeated, across both moves.  (The nodes share the pod's directory.)
source "$(dirname "$0")/../lib.sh"

NAME=tree
RUN=/run/crak-selftests/tree
CRAKD=$(ip4 a):7602
dir=$LAB_DIR/shared/pod-tree
rm -rf "$dir"
mkdir -p "$dir"
key_new "$dir/key"

# lines NODE: the log's numbers so far, seen from NODE.
lines() { on "$1" "grep -c . $RUN/log"; }

# programs NODE: what /proc/PID/exe names for the tree's live processes on
# NODE (a program that runs itself again execs it): python, never crak.
programs() {
	local exes
	exes=$(on "$1" "for p in \$(pgrep -f $RUN/tree.py); do readlink /proc/\$p/exe; done | sort -u")
	[ "$exes" = "$(readlink -f /usr/bin/python3)" ] ||
		fail "/proc/PID/exe of the tree's processes on $1: $exes"
}

# stuck NODE: the log's end and where the tree's processes wait, on NODE.
stuck() {
	on "$1" "tail -3 $RUN/log | tr '\n' ' '
		for p in \$(pgrep -f $RUN/tree.py); do
			echo; echo -n \"\$p \$(cut -d' ' -f3 /proc/\$p/stat) \$(cat /proc/\$p/wchan)\"
			echo -n \" \$(tr '\n' ' ' < /proc/\$p/stack 2> /dev/null | cut -c1-200)\"
		done"
}

# verdict NODE N: the tree's N-th look at itself, on NODE.
verdict() {
	local top v
	top=$(on "$1" "pgrep -P \$(sed -n 's/^pid=//p' /run/crak/pods/$NAME)")
	[ -n "$top" ] || fail "the pod's command is not its init's child on $1"
	on "$1" "kill -USR1 $top" || fail "cannot signal the pod's command on $1"
	v=$(until_on "$1" 60 "grep '^$2 ' $RUN/verdict 2> /dev/null") ||
		fail "the tree gave no verdict on $1: $(on "$1" "cat $RUN/verdict")"
	[ "$v" = "$2 ok" ] || fail "the tree on $1 is not as it was: $v"
}

# ordered NODE: every number in the log once, in order.
ordered() {
	on "$1" "/usr/bin/python3 -c '
import sys
n = [int(x) for x in open(sys.argv[1])]
assert n == list(range(1, len(n) + 1)), [x for i, x in enumerate(n) if x != i + 1][:3]
' $RUN/log" || fail "the producer's numbers are not all in the log, in order, once: $(on "$1" "grep -v '^[0-9]*$' $RUN/log | head -3")"
}

# The pod's directory: the shared one, where a pod sees it (not under /tmp);
# what the tree's datagram socket is connected to.
declare -A logs
for node in a b; do
	logs[$node]=$(syslog_start $node) || fail "the tree's datagram socket has nothing to connect to"
	on $node "mkdir -p $RUN && mount --bind $dir $RUN" || fail "cannot mount the pod's directory on $node"
done
cp "$(dirname "$0")/tree.py" "$dir/"
on a "crak run --detach --name $NAME --addr 192.0.2.160/24 --link eth0 -- /usr/bin/python3 $RUN/tree.py $RUN" ||
	fail "crak run of the tree's pod failed"
until_on a 30 "[ -e $RUN/tree ] && [ \$(grep -c . $RUN/log) -ge 20 ] && echo up" > /dev/null ||
	fail "the tree did not start: $(on a "tail -3 $RUN/log")"
procs=$(on a crak -j ps | /usr/bin/python3 -c '
import json, sys
print([p["processes"] for p in json.load(sys.stdin) if p["name"] == sys.argv[1]][0])' "$NAME")
[ "$procs" = 7 ] || fail "crak ps counts $procs processes in the pod, not 7 (the init and six)"
pass "a pod of six processes runs: a pipe, a group, a session, a zombie, a shared log"

out=$(on a crak checkpoint "$NAME" -o "$dir/$NAME.img" 2>&1) || fail "crak checkpoint $NAME failed: $out"
echo "  $out"
grep -q "6 processes" <<< "$out" || fail "the checkpoint did not say it took 6 processes: $out"
out=$(on a crak image show "$dir/$NAME.img") || fail "crak image show refuses the tree's image: $out"
grep -q "^process tree: 6 processes" <<< "$out" || fail "image show does not list the tree: $out"
grep -q "a zombie (exit 7)" <<< "$out" || fail "image show does not show the zombie: $out"
grep -q "shared #.*: pipe" <<< "$out" || fail "image show does not show the shared pipe: $out"
[ "$(grep -c '^process [0-9]* (python3)' <<< "$out")" = 5 ] ||
	fail "image show does not show five process images: $(grep '^process' <<< "$out")"
on a "crak -j image show $dir/$NAME.img" | /usr/bin/python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["valid"] and len(j["tree"]) == 6 and len(j["processes"]) == 5, j.keys()
assert sum(p["zombie"] for p in j["tree"]) == 1 and sum(p["command"] for p in j["tree"]) == 1
' || fail "image show -j does not describe the tree"
pass "crak checkpoint takes all six; crak image show lists the tree, its zombie and shared pipe (text and JSON)"

before=$(lines b)
out=$(on b crak restart "$dir/$NAME.img" --detach 2>&1) || fail "crak restart of the tree failed: $out"
echo "  $out"
until_on b 30 "[ \$(grep -c . $RUN/log) -ge $((before + 20)) ] && echo on" > /dev/null ||
	fail "the log did not go on on node b: $(stuck b)"
verdict b 1
programs b
pass "on node b each process has its PID, parent, group and session again; the log and pipe are shared; the zombie reaps with exit 7; /proc/PID/exe names python"

crakd=$(crakd_start a "$CRAKD" "$dir/key" "$dir/crakd.log") || fail "crakd did not start"
out=$(on b crak migrate "$NAME" --to "$CRAKD" --key "$dir/key" --live 2>&1) || fail "crak migrate --live of the tree failed: $out"
echo "  $out"
before=$(lines a)
until_on a 30 "[ \$(grep -c . $RUN/log) -ge $((before + 20)) ] && echo on" > /dev/null ||
	fail "the log did not go on on node a: $(stuck a)"
verdict a 2
ordered a
programs a
pass "crak migrate --live brings the tree back over crakd, the same; $(lines a) numbers through the pipe, in order, none lost or repeated"

on a crak stop "$NAME" > /dev/null || fail "crak stop $NAME failed"
on a "! pgrep -f $RUN/tree.py" > /dev/null || fail "processes of the tree outlived crak stop"
kill_job "$crakd" TERM
wait_job "$crakd" > /dev/null || fail "crakd did not end cleanly: $(tail -3 "$dir/crakd.log")"
for node in a b; do
	on $node "umount $RUN" || fail "cannot unmount the pod's directory on $node"
	syslog_stop ${logs[$node]}
done
rm -rf "$dir"
