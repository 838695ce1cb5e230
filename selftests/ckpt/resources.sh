#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=900
#
# A restarted process finds everything exactly as it was.  For each kind of
# state (memory, registers, calls in progress, signals, timers, another
# user's credentials, process attributes, descriptors, threads, datagram
# sockets connected to another process's named socket) the fixture
# program sets it up and is checkpointed: with --leave-running (it runs on,
# and can tell nothing happened), then killed and restarted from its image
# on the same node, and on another node of the lab (the image on the shared
# directory).  Each time it checks itself on SIGUSR1.  The debug kernel
# restarts on the same node only; memory and files, whose shared writable
# file mapping and FIFO cannot live on the lab's 9p share (they go to the
# node's /dev/shm and /tmp), too.  It leaves running only the modes whose
# --leave-running differs (memory: read in place, swapped pages too, and
# left as it was; calls in progress resumed: sleep, futex; threads;
# files): the others' state is dumped by the same code either way, and on
# the debug kernel a mode costs ten seconds.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"

modes="memory regs sleep read futex poll signals timers creds process files threads syslog"
where="here there"
leave=$modes
if [ "$LAB_KERNEL" = debug ]; then
	where=here
	leave="memory sleep futex threads files"
fi

# Node a has swap (a loop device on a file in its memory): the memory
# mode's shared anonymous mapping is half out in swap when it is
# checkpointed, and must come back whole.
on a "modprobe loop 2> /dev/null; truncate -s 16M /dev/shm/swap &&
	dev=\$(losetup -f --show /dev/shm/swap) && mkswap \$dev > /dev/null && swapon \$dev" ||
	fail "cannot give node a swap"
in_swap() {
	[ "$mode" != memory ] ||
		grep -q "^# [1-9][0-9]* kB of the shared anonymous mapping in swap" "$prog_dir/out" ||
		fail "memory: none of the shared anonymous mapping went to swap:" \
			"$(grep "in swap" "$prog_dir/out")"
}

# What the syslog mode's sockets are connected to, on both nodes.
declare -A logs
for node in a b; do
	logs[$node]=$(syslog_start $node) || fail "the syslog mode has nothing to connect to"
done

for mode in $modes; do
	# It runs on after a checkpoint.
	if [[ " $leave " = *" $mode "* ]]; then
		prog_start a "$mode" "$mode-leave"
		in_swap
		checkpoint a "$prog_pid" "$prog_dir/img" --leave-running
		prog_verdict a "$prog_job" "$mode, left running"
		left="left running and "
	else
		left=
	fi

	# One checkpoint, restarted here and then on the other node (an image
	# stays whole after a restart).
	prog_start a "$mode" "$mode-moved"
	in_swap
	checkpoint a "$prog_pid" "$prog_dir/img"
	rc=0
	wait_job "$prog_job" > /dev/null 2>&1 || rc=$?
	[ $rc = 137 ] || fail "$mode: the checkpointed process was not killed (status $rc)"
	# The image says what became of a deleted file's mappings (the
	# image is a file of the shared directory: read here, on the host).
	if [ $mode = memory ]; then
		[ "$(build/bin/crak image show "$prog_dir/img" | grep -c " anon .*delmap (deleted file)$")" = 2 ] ||
			fail "memory: crak image show does not name the deleted file's two mappings"
		# Each advice prog gave (a kernel without THP or KSM refuses some).
		advice=
		for a in dontdump dontfork hugepage mergeable nohugepage random sequential wipeonfork; do
			grep -qi "refuses MADV_$a\$" "$prog_dir/out" || advice="$advice $a"
		done
		out=$(build/bin/crak image show "$prog_dir/img" | sed -n 's/.* madvise \([a-z,]*\)$/\1/p' |
		      sort | tr '\n' ' ')
		[ "$out" = "${advice# } " ] ||
			fail "memory: crak image show gives the advised mappings advice '$out', not '${advice# } '"
		build/bin/crak image show -j "$prog_dir/img" | python3 -c "
import json, sys
j = json.load(sys.stdin)
got = sorted(a for m in j['memory'] for a in m.get('advice', []))
assert got == sys.argv[1].split(), got" "$advice" ||
			fail "memory: crak image show -j does not give each advised mapping its advice"
		# The locks: mlock, mlock2(MLOCK_ONFAULT), mlockall(MCL_FUTURE |
		# MCL_ONFAULT) (which locks what came after, on fault).
		out=$(build/bin/crak image show "$prog_dir/img")
		grep -q "^memory: mlockall MCL_FUTURE|MCL_ONFAULT PR_SET_THP_DISABLE$" <<< "$out" &&
			grep -q " anon .* mlock$" <<< "$out" && grep -q " anon .* mlock onfault$" <<< "$out" ||
			fail "memory: crak image show does not give the locks and PR_SET_THP_DISABLE:" \
				"$(grep "^memory\| mlock" <<< "$out")"
		build/bin/crak image show -j "$prog_dir/img" | python3 -c "
import json, sys
j = json.load(sys.stdin)
assert j['memory_future'] == {'mlock': 'onfault', 'thp_disable': True}, j['memory_future']
assert {m.get('mlock') for m in j['memory']} == {None, 'all', 'onfault'}" ||
			fail "memory: crak image show -j does not give the locks and PR_SET_THP_DISABLE"
	fi
	if [ $mode = files ]; then
		build/bin/crak image show "$prog_dir/img" | grep -q " unix .*signals thread [0-9]* with 36$" ||
			fail "files: crak image show does not give the O_ASYNC socket's owner and signal"
		out=$(build/bin/crak image show "$prog_dir/img")
		grep -q " unix socket  *[^ ]* listening, backlog 4 " <<< "$out" &&
			grep -q " unix socket  *@[^ ]* listening, backlog 1 " <<< "$out" &&
			build/bin/crak image show -j "$prog_dir/img" | python3 -c "
import json, sys
assert sorted(f['backlog'] for f in json.load(sys.stdin)['files'] if 'backlog' in f) == [1, 4]" ||
			fail "files: crak image show does not give the listeners' backlogs:" \
				"$(grep listening <<< "$out")"
		# The sockets' options (prog.c's unix_set_opts()).
		grep -q " unix socket  *receive timeout 2.500000 s send timeout 1.500000 s " <<< "$out" &&
			[ "$(grep -c " unix socket .*SO_PASSCRED " <<< "$out")" = 2 ] &&
			grep -q " unix socket  *peeking at 3 " <<< "$out" &&
			build/bin/crak image show -j "$prog_dir/img" | python3 -c "
import json, sys
o = [f['options'] for f in json.load(sys.stdin)['files'] if f['type'] == 'unix socket']
assert sum(x['passcred'] for x in o) == 2 and [x['peek_off'] for x in o].count(3) == 1
assert [(x['rcvtimeo'], x['sndtimeo']) for x in o].count((2.5, 1.5)) == 1" ||
			fail "files: crak image show does not give the unix sockets' options:" \
				"$(grep "unix socket" <<< "$out")"
	fi
	# Whom its unix sockets named to SO_PEERCRED: root (a pair made
	# before it took the other user's credentials), the other user (a
	# pair, a listener, its client and the connection accepted).
	if [ $mode = creds ]; then
		out=$(build/bin/crak image show "$prog_dir/img")
		[ "$(grep -c " unix socket .*peer $prog_pid uid 0 gid 0 " <<< "$out")" = 2 ] &&
			[ "$(grep -c " unix socket .*peer $prog_pid uid 2002 gid 1002 " <<< "$out")" = 5 ] &&
			build/bin/crak image show -j "$prog_dir/img" | python3 -c "
import json, sys
p = [f['peer'] for f in json.load(sys.stdin)['files'] if 'peer' in f]
assert sorted((x['pid'], x['uid'], x['gid']) for x in p) == [($prog_pid, 0, 0)] * 2 + [($prog_pid, 2002, 1002)] * 5, p" ||
			fail "creds: crak image show does not give whom the unix sockets named:" \
				"$(grep "unix socket" <<< "$out")"
	fi
	if [ $mode = syslog ]; then
		out=$(build/bin/crak image show "$prog_dir/img")
		grep -q " unix socket  *to $SYSLOG_PATH $" <<< "$out" &&
			grep -q " unix socket  *to @$SYSLOG_NAME $" <<< "$out" ||
			fail "syslog: crak image show does not say where the datagram sockets connect: $out"
	fi
	# KSM merging all it maps (PR_SET_MEMORY_MERGE), where the kernel
	# has it (Linux 6.4 on, built with KSM): asked, and in the image.
	if [ $mode = process ]; then
		if grep -q "refuses PR_SET_MEMORY_MERGE$" "$prog_dir/out"; then
			! merge_any_kernel a || fail "process: a kernel that has it refused PR_SET_MEMORY_MERGE"
		else
			[ "$(build/bin/crak image show "$prog_dir/img" | grep "^memory:")" = "memory: PR_SET_MEMORY_MERGE" ] &&
				build/bin/crak image show -j "$prog_dir/img" |
				python3 -c "import json, sys; assert json.load(sys.stdin)['memory_future'] == {'merge_any': True}" ||
				fail "process: crak image show does not give PR_SET_MEMORY_MERGE"
		fi
	fi
	if [ $mode = timers ]; then
		out=$(build/bin/crak image show "$prog_dir/img" | sed -n '/^POSIX timers:/,/^memory:/p')
		[ "$(echo "$out" | grep -cE "^  [0-9]+ (monotonic|realtime|boottime|process-cpu|process-cpu-prof) (signal|none|thread)")" = 8 ] &&
			echo "$out" | grep -q " process-cpu signal .*, every 40.000 s" ||
			fail "timers: crak image show does not list the eight POSIX timers: $out"
	fi
	for w in $where; do
		[ $w = there ] && { [ $mode = memory ] || [ $mode = files ]; } && continue
		node=a
		[ $w = there ] && node=b
		job=$(restart_bg "$node" "$prog_dir/img") || exit 1
		prog_verdict "$node" "$job" "$mode, restarted on $node"
	done
	pass "$mode: as it was, ${left}restarted ($where)"
done

# Where the name a datagram socket was connected to is gone, the restart
# fails in one line naming it, and nothing runs.
syslog_stop ${logs[a]}
out=$(on a "crak restart $CKPT_DIR/syslog-moved/img 2>&1") &&
	fail "syslog: a restart without the socket it was connected to worked: $out"
grep -q "^crak: restart: descriptor [0-9]* (unix socket .*$SYSLOG_NAME): " <<< "$out" &&
	[ "$(grep -c "^crak: " <<< "$out")" = 1 ] ||
	fail "syslog: a restart without the socket it was connected to said: $out"
on a "! kill -0 $prog_pid 2> /dev/null && ! kill -0 \$(cat $CKPT_DIR/syslog-moved/pid) 2> /dev/null" ||
	fail "syslog: a restart that failed left the process running"
syslog_stop ${logs[b]}
pass "syslog: a restart without the name a datagram socket was connected to fails in one line, nothing runs"

# node_ms NODE: NODE's CLOCK_BOOTTIME in milliseconds (from /proc/uptime).
node_ms() {
	on "$1" 'read -r up _ < /proc/uptime && echo $((10#${up/./} * 10))'
}

# A relative wait a checkpoint interrupted waits, once restarted, only what
# it had left: four waits of 8 s (nanosleep, clock_nanosleep on
# CLOCK_BOOTTIME, poll and FUTEX_WAIT, a thread each; 24 s on the debug
# kernel, whose checkpoints, two debug labs side by side, took 8 s),
# checkpointed 3 s into them and more, end after the restart no sooner
# than what they had left once the checkpoint was over (less a second),
# nor after their whole length (made again whole), nor at once (with
# nothing left).  Timed by node a's clock (CLOCK_BOOTTIME): the debug
# kernel's clock is jiffies, which fall behind the host's when a loaded
# machine delivers its ticks late (waits took 1.2-1.3 times as long by the
# host's clock as by its own), and the restart is timed from before it
# began.  A checkpoint with --leave-running 1.5 s into them comes first:
# there the waits go on as the calls they were, not through
# restart_syscall(2), whose continuation a later checkpoint cannot take
# (its restart found nothing to continue: EINTR at once).  On a machine so
# slow that the checkpoints leave the waits under 2 s, or the restart takes
# most of what they had left, the case says nothing either way: it runs
# again with waits twice as long (three tries; waits made whole again fail
# every one).
# sleep_left WAIT_S: 0 if it passed, 1 if the machine was too slow to tell.
sleep_left() {
	local wait_s=$1 t0 left job ms most

	export CRAK_PROG_WAIT_S=$wait_s
	prog_start a sleep-left sleep-left
	unset CRAK_PROG_WAIT_S
	sleep 1.5
	checkpoint a "$prog_pid" "$prog_dir/img0" --leave-running
	sleep 1.5
	checkpoint a "$prog_pid" "$prog_dir/img"
	left=$((wait_s * 1000 - ($(node_ms a) - $(cat "$prog_dir/began"))))
	wait_job "$prog_job" > /dev/null 2>&1
	if [ $left -lt 2000 ]; then
		echo "# sleep-left: the checkpoints left the waits of $wait_s s only $left ms"
		return 1
	fi
	t0=$(node_ms a)
	job=$(restart_bg a "$prog_dir/img") || exit 1
	# (A bound by the host's clock: the node's may lag it.)
	wait_file "$prog_dir/woke" $((2 * wait_s + 3)) ||
		fail "sleep-left: the restarted waits did not end within $((2 * wait_s + 3)) s"
	ms=$(($(cat "$prog_dir/woke") - t0))
	prog_verdict a "$job" "sleep-left, restarted"
	[ $ms -ge $((left - 1000)) ] ||
		fail "sleep-left: the waits ended $ms ms after the restart (they had $left ms left after the checkpoint)"
	# (The waits made again whole would end $wait_s s after the restart
	# began, or later.)
	most=$((wait_s * 1000 - 500))
	if [ $ms -ge $most ]; then
		echo "# sleep-left: the waits of $wait_s s ended $ms ms after the restart, $left ms left"
		return 1
	fi
	pass "sleep-left: a relative sleep, poll and FUTEX_WAIT wait what they had left, after a checkpoint that left them running too ($ms ms after the restart, about $left ms left)"
}
wait_s=8
[ "${LAB_KERNEL:-}" = debug ] && wait_s=24
for try in 1 2 3; do
	sleep_left $wait_s && break
	[ $try = 3 ] && fail "sleep-left: three tries up to waits of $wait_s s, none told the waits were not made whole again"
	wait_s=$((wait_s * 2))
done

on a "swapoff -a && losetup -D && rm /dev/shm/swap" || fail "cannot take node a's swap away"
rm -rf "$CKPT_DIR"
