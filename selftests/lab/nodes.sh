#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every node of the lab booted the kernel under test, knows its name, runs
# commands as root and hands back their output, standard error and exit
# status; background jobs can be waited for and killed.
source "$(dirname "$0")/../lib.sh"

for n in $LAB_NODES; do
	rel=$(on "$n" uname -r) || fail "node $n does not run commands"
	[ "$rel" = "$LAB_KREL" ] || fail "node $n runs $rel, not $LAB_KREL"
	[ "$(on "$n" hostname)" = "$n" ] || fail "node $n does not know its name"
	[ "$(on "$n" id -u)" = 0 ] || fail "node $n does not run jobs as root"
	pass "node $n is up on $rel"
done

on a 'exit 7'
[ $? -eq 7 ] || fail "exit status lost"
out=$(on a 'echo out; echo err >&2' 2> /dev/null)
[ "$out" = out ] || fail "stdout and stderr are mixed: '$out'"
err=$(on a 'echo out; echo err >&2' 2>&1 > /dev/null)
[ "$err" = err ] || fail "stderr lost: '$err'"
[ "$(on a pwd)" = "$PWD" ] || fail "jobs do not start in the caller's directory"
[ "$(LAB_PROBE=$$ on a 'echo $LAB_PROBE')" = $$ ] || fail "LAB_* variables do not reach the node"
pass "exit status, stdout, stderr, directory and environment come back"

h=$(on_bg a 'sleep 0.5; echo late; exit 3')
wait_job "$h" | grep -qx late || fail "background job output lost"
h=$(on_bg a 'echo started; exec sleep 1000')
sleep 0.5
kill_job "$h" KILL
wait_job "$h" > /dev/null
[ $? -eq 137 ] || fail "a killed job does not report SIGKILL"
pass "background jobs are waited for and killed"
