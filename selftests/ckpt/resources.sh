#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=900
#
# A restarted process finds everything exactly as it was.  For each kind of
# state (memory, registers, calls in progress, signals, timers, another
# user's credentials, process attributes, descriptors, threads) the fixture
# program sets it up and is checkpointed: with --leave-running (it runs on,
# and can tell nothing happened), then killed and restarted from its image
# on the same node, and on another node of the lab (the image on the shared
# directory).  Each time it checks itself on SIGUSR1.  The debug kernel
# restarts on the same node only; memory and files, whose shared writable
# file mapping and FIFO cannot live on the lab's 9p share (they go to the
# node's /dev/shm and /tmp), too.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"

modes="memory regs sleep read futex poll signals timers creds process files threads"
where="here there"
[ "$LAB_KERNEL" = debug ] && where=here

for mode in $modes; do
	# It runs on after a checkpoint.
	prog_start a "$mode" "$mode-leave"
	checkpoint a "$prog_pid" "$prog_dir/img" --leave-running
	prog_verdict a "$prog_job" "$mode, left running"

	for w in $where; do
		[ $w = there ] && { [ $mode = memory ] || [ $mode = files ]; } && continue
		node=a
		[ $w = there ] && node=b
		prog_start a "$mode" "$mode-$w"
		checkpoint a "$prog_pid" "$prog_dir/img"
		rc=0
		wait_job "$prog_job" > /dev/null 2>&1 || rc=$?
		[ $rc = 137 ] || fail "$mode: the checkpointed process was not killed (status $rc)"
		# The image says what became of a deleted file's mappings (the
		# image is a file of the shared directory: read here, on the host).
		if [ $mode = memory ]; then
			[ "$(build/bin/crak image show "$prog_dir/img" | grep -c " anon .*delmap (deleted file)$")" = 2 ] ||
				fail "memory: crak image show does not name the deleted file's two mappings"
		fi
		job=$(restart_bg "$node" "$prog_dir/img") || exit 1
		prog_verdict "$node" "$job" "$mode, restarted on $node"
	done
	pass "$mode: as it was, left running and restarted ($where)"
done
rm -rf "$CKPT_DIR"
