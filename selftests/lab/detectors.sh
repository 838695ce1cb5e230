#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: kernels=debug timeout=600
#
# Each detector of the debug kernel fires and fails the run, its report
# shown: a use-after-free (KASAN), a lock-order inversion (lockdep), a
# sleeping call in atomic context (DEBUG_ATOMIC_SLEEP) and a leak (kmemleak),
# from a test-only module, in a guest of their own.  Every report must come
# out as a kernel splat of its own, which is what fails a run; lockdep's
# goes before KASAN's, since a KASAN report switches lockdep off.  Frames of
# the module are mapped to source lines.
source "$(dirname "$0")/../lib.sh"

[ "$LAB_KERNEL" = debug ] || skip "needs the debug kernel"
mod=$CRAK_KBUILD/selftests/lab/modules/crak_lab_bugs.ko

cmd=""
for bug in sleep lockdep uaf; do
	cmd+="insmod $mod bug=$bug && rmmod crak_lab_bugs && echo loaded-$bug; "
done
# The leaking module stays loaded, for its frames to have names: lab run
# ends by waiting until the leak is old enough and scanning for it.
cmd+="insmod $mod bug=leak && echo loaded-leak"
# KFENCE, which samples allocations, would catch some use-after-frees first.
out=$(lab run -k debug --append kfence.sample_interval=0 -- "$cmd" 2>&1)
rc=$?
echo "$out" | sed 's/^/  | /'
[ $rc -ne 0 ] || fail "the run did not fail"

# The report of each detector: the splat's first line, then what names it.
check() {
	local bug=$1 first=$2 names=$3
	echo "$out" | grep -q "loaded-$bug" || fail "bug=$bug: the module did not load"
	echo "$out" | awk -v first="$first" -v names="$names" '
		/^lab: kernel splat:/ { inside = 1; head = 1; next }
		inside && head { head = 0; found = ($0 ~ first) }
		found && $0 ~ names { ok = 1 }
		END { exit !ok }' ||
		fail "bug=$bug: no splat starting with '$first' naming '$names'"
	pass "bug=$bug: reported as a splat: $first"
}
check sleep "BUG: sleeping function called from invalid context" "crak_lab_atomic_sleep"
check leak "unreferenced object 0x" "crak_lab_leak"
check lockdep "WARNING: possible circular locking dependency detected" "crak_lab_lock_[ab]"
check uaf "BUG: KASAN: slab-use-after-free in crak_lab_uaf" \
	"-> selftests/lab/modules/crak_lab_bugs.c:[0-9]+"
pass "each detector fails the run (exit $rc) and shows its report"
