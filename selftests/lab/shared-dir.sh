#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: kernels=6.12,6.1
#
# The nodes share a filesystem ($LAB_DIR/shared): what one node writes, the
# others read at once, and barriers line up scripts running on several
# nodes at the same time.
source "$(dirname "$0")/../lib.sh"

dir=$LAB_DIR/shared/shared-dir.$$
token=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
on a "mkdir $dir && echo $token > $dir/from-a" || fail "a cannot write the shared directory"
for n in b peer; do
	[ "$(on "$n" head -n 1 "$dir/from-a")" = "$token" ] || fail "$n does not see a's file"
	on "$n" "echo $n >> $dir/from-a" || fail "$n cannot append to a's file"
done
[ "$(on a "sed -n 2,3p $dir/from-a | tr '\n' ' '")" = "b peer " ] ||
	fail "a does not see the others' writes"
[ "$(sed -n 1p "$dir/from-a")" = "$token" ] || fail "the host does not see the nodes' files"
pass "files written on one node are read on the others and on the host"

# Three scripts at once: each, once past the barrier, counts the others'
# arrivals (the shared directory, not the guests' clocks, which a busy host
# lets drift apart): none may pass before the last one arrived.
jobs=()
for n in $LAB_NODES; do
	delay=0
	[ "$n" = peer ] && delay=2
	jobs+=("$(on_bg "$n" "sleep $delay; touch $dir/arrive-$n;
		lab barrier meet-$$ 3 && ls $dir | grep -c '^arrive-' > $dir/seen-$n")")
done
for h in "${jobs[@]}"; do
	wait_job "$h" || fail "a node failed at the barrier"
done
for n in $LAB_NODES; do
	[ "$(cat "$dir/seen-$n")" = 3 ] ||
		fail "$n left the barrier having seen $(cat "$dir/seen-$n") arrivals, not 3"
done
pass "a barrier holds every node until all three arrived"
rm -rf "$dir"
