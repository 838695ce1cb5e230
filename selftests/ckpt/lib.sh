# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the ckpt selftests (source after ../lib.sh).  The fixture
# program prog.c sets up the state of one MODE, says it is ready, waits to
# be checkpointed, and on SIGUSR1 checks that it finds everything as it was
# and exits 0 (PASS) or 1.

PROG=$CRAK_BUILD/selftests/ckpt/prog
CKPT_DIR=$LAB_DIR/shared/ckpt
[ -x "$PROG" ] || fail "$PROG is missing: run make"

# prog_start NODE MODE NAME: the program in mode MODE on NODE, in the
# directory $CKPT_DIR/NAME; once it is ready, sets prog_job, prog_pid and
# prog_dir.
prog_start() {
	local node=$1 mode=$2
	prog_dir=$CKPT_DIR/$3
	rm -rf "$prog_dir"
	mkdir -p "$prog_dir"
	# PIDs are the nodes' own: a high one is likely free on another node too.
	# Its output in its directory: a job's own output file goes with the job.
	prog_job=$(on_bg "$node" "echo \$((10000 + RANDOM % 20000)) > /proc/sys/kernel/ns_last_pid
		$PROG $mode $prog_dir > $prog_dir/out 2>&1 < /dev/null & echo \$! > $prog_dir/pid
		wait \$!")
	wait_file "$prog_dir/ready" 60 ||
		fail "$mode: the program did not get ready: $(wait_job "$prog_job" 2>&1 | tail -3)"
	prog_pid=$(cat "$prog_dir/pid")
	# Into the call it waits in, if it waits in one: every mode enters it
	# right after writing ready, and the host sees that file up to a poll
	# (50 ms) later; this is margin for a guest preempted in between.
	sleep 0.1
}

# prog_verdict NODE JOB WHAT: SIGUSR1 to the program (its PID never
# changes), then its verdict: the exit status of JOB, which ran it or
# restarted it.
prog_verdict() {
	local out
	on "$1" kill -USR1 "$prog_pid" || fail "$3: the program is not there to check itself"
	out=$(wait_job "$2" 2>&1) ||
		fail "$3: $(echo "$out" | head -5) $(grep -v '^PASS' "$prog_dir/out" | head -5)"
}

# checkpoint NODE PID IMAGE [OPTIONS]: crak checkpoint, which must work.
checkpoint() {
	local out
	out=$(on "$1" crak checkpoint "$2" -o "$3" "${@:4}" 2>&1) ||
		fail "checkpoint of $2 on $1 failed: $out"
}

# stream_to_b PORT WHAT [OPTIONS]: the program (prog_pid, on a) checkpointed
# with OPTIONS into a TCP connection to b, where crak restart - makes it
# again as the image comes; its verdict there (WHAT names it).
stream_to_b() {
	local port=$1 what=$2 job out
	job=$(on_bg b "socat -u TCP-LISTEN:$port,reuseaddr STDOUT | crak restart - --pidfile $prog_dir/pid.b")
	until_on b 30 ss -Hltn "'sport = :$port'" > /dev/null
	out=$(on a "set -o pipefail; crak checkpoint $prog_pid -o - ${*:3} | socat -u STDIN TCP:$(ip4 b):$port" 2>&1) ||
		fail "$what: the streamed checkpoint failed: $out; on b: $(wait_job "$job" 2>&1 | tail -3)"
	wait_file -s "$prog_dir/pid.b" 30
	[ "$(cat "$prog_dir/pid.b" 2> /dev/null)" = "$prog_pid" ] ||
		fail "$what: no process restarted on b from the stream: $(wait_job "$job" 2>&1 | tail -3)"
	wait_job "$prog_job" > /dev/null 2>&1
	prog_verdict b "$job" "$what"
}

# merge_any_kernel NODE: whether NODE's kernel lets a process have KSM merge
# all it maps (PR_SET_MEMORY_MERGE): Linux 6.4 on, built with KSM.
merge_any_kernel() {
	local v
	v=$(on "$1" "test -d /sys/kernel/mm/ksm && uname -r") || return 1
	[ "$(printf '%s\n' 6.4 "${v%%-*}" | sort -V | head -1)" = 6.4 ]
}

# restart_bg NODE IMAGE [OPTIONS]: crak restart in the background on NODE,
# once the process runs (its PID file is written then); prints the handle.
restart_bg() {
	local h pidfile=$2.pid
	rm -f "$pidfile"
	h=$(on_bg "$1" "crak restart $2 --pidfile $pidfile ${*:3}")
	wait_file -s "$pidfile" 60 || fail "restart of $2 on $1 failed: $(wait_job "$h" 2>&1 | tail -3)"
	echo "$h"
}

# pod_conversation PORT ROUNDS DIR: a conversation server in a pod on node a
# (its output in DIR/server.out, its PID high, likely free on another node)
# and its client on the peer (conv_client: ROUNDS rounds at least, every 50
# ms, until conv_go DIR/progress), 5 rounds into it; sets server and client
# (their jobs) and pid.
pod_conversation() {
	pod_create a
	on a "echo \$((10000 + RANDOM % 20000)) > /proc/sys/kernel/ns_last_pid"
	server=$(on_bg a "ip netns exec pod $CONV server $POD_IP4 $1 > $3/server.out 2>&1 < /dev/null")
	wait_bound a tcp "$1"
	client=$(conv_client "$2" "$1" "$3/progress" --interval 0.05)
	wait_rounds "$3/progress" 5
	read -r pid _ <<< "$(server_sock a "$1")"
	[ -n "$pid" ] || fail "no established server socket in the pod"
}

# pod_move FROM TO PID JOB IMAGE: the process PID in the pod of node FROM
# (its job JOB there), with its connections, to the pod made again on TO.
# The pod is made on TO first, frozen before it comes up, so silent: the
# segment goes on reaching FROM.  Then on FROM the pod's crakvif is frozen
# (what comes for it is held), the process checkpointed into IMAGE (a
# shared file) and killed, the held frames exported and the pod deleted; on
# TO the frames are imported, the process restarted with its PID, and the
# crakvif thawed: the address is announced there and what was held
# delivered.  Sets move_job (the restarted process's job on TO), move_ckpt
# (what the checkpoint said) and move_secs (freeze to thaw).  Each half is
# one job on its node: the peer waits for the move, and a job costs a TCG
# guest ~0.2 s.
pod_move() {
	local from=$1 to=$2 pid=$3 job=$4 img=$5 t0
	pod_create_frozen "$to"
	t0=$(date +%s.%N)
	move_ckpt=$(on "$from" "set -e
		ip netns exec pod crak vif freeze pod0 > /dev/null
		ip netns exec pod crak checkpoint $pid -o $img
		ip netns exec pod crak vif export pod0 -o $img.held drop > /dev/null
		ip netns del pod" 2>&1) || fail "the move from $from failed: $move_ckpt"
	rm -f "$img.pid" "$img.thawed"
	# The restarted process runs on in crak restart, the job's last word.
	move_job=$(on_bg "$to" "set -e
		ip netns exec pod crak vif import pod0 -i $img.held > /dev/null
		ip netns exec pod crak restart $img --pidfile $img.pid > $img.out 2>&1 < /dev/null &
		until [ -s $img.pid ]; do kill -0 \$! 2> /dev/null || exit 1; sleep 0.02; done
		ip netns exec pod crak vif thaw pod0 > $img.thawed
		wait \$!")
	wait_file -s "$img.thawed" 60 ||
		fail "the move to $to failed: $(kill_job "$move_job" KILL; wait_job "$move_job" 2>&1
			tail -3 "$img.out")"
	move_secs=$(echo "$(date +%s.%N) - $t0" | bc)
	[ "$(cat "$img.pid")" = "$pid" ] || fail "restarted as PID $(cat "$img.pid"), not $pid"
	wait_job "$job" > /dev/null 2>&1
}
