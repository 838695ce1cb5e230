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

out=$(lab run -k "$LAB_KREL" -- 'modprobe crak_lab_hello && modprobe -r crak_lab_hello' 2>&1) ||
	fail "a clean run failed: $out"
pass "a clean run passes"
