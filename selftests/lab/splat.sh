#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=240 kernels=6.12,6.1
#
# A guest that warns fails the run and shows the trace: a run whose command
# succeeds but loads a module that WARNs exits non-zero and prints the
# warning, its call trace and the source line of the warning.  (The lab's
# watch is the same on every kernel; the debug kernel's own detectors have
# lab/detectors.)
source "$(dirname "$0")/../lib.sh"

# A clean run beside it (each boots a guest of its own).
clean=$(mktemp)
lab run -k "$LAB_KREL" -- 'modprobe crak_lab_hello && modprobe -r crak_lab_hello' > "$clean" 2>&1 &
clean_pid=$!
# (Torn down if this test fails first: lab run leaves on SIGTERM.)
trap '[ -z "$clean_pid" ] || kill $clean_pid 2> /dev/null; wait; rm -f "$clean"' EXIT

out=$(lab run -k "$LAB_KREL" -- 'modprobe crak_lab_warn && echo command-succeeded' 2>&1)
rc=$?
echo "$out" | sed 's/^/  | /'
echo "$out" | grep -q command-succeeded || fail "the command itself did not run"
[ $rc -ne 0 ] || fail "a WARN in the guest did not fail the run"
echo "$out" | grep -q "WARNING: CPU:.*crak_lab_warn_fire" || fail "the warning is not shown"
echo "$out" | grep -q "Call Trace:" || fail "the call trace is not shown"
echo "$out" | grep -q -- "-> selftests/lab/modules/crak_lab_warn.c:" ||
	fail "the warning is not mapped to its source line"
pass "a WARN in a guest fails the run (exit $rc) and shows its trace"

rc=0
wait $clean_pid || rc=$?
clean_pid=
[ $rc = 0 ] || fail "a clean run failed: $(cat "$clean")"
pass "a clean run passes"
