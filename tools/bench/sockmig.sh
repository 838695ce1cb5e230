#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Moving connections with crak against CRIU, in the lab (make bench, or: lab
# with -- tools/bench/sockmig.sh).
#
#   move    A streaming conversation (conv.py: 4 KiB each way, round after
#           round, so that data is always in flight) between the peer and a
#           server in a pod on node a; the server moves to node b
#           mid-conversation.  crak: the destination pod waits on b, frozen;
#           vif freeze, sock dump, vif export, pod gone on a; vif import, sock
#           restore, thaw on b (held frames delivered, address announced).  CRIU:
#           criu dump --tcp-established (its network lock drops what the
#           peer sends), pod gone; pod on b, criu restore --tcp-established,
#           address announced.  migrate: the whole pod (crak run) moved by
#           crak migrate to crakd on b, one command (its process, not only
#           its connection).  Measured: the peer-visible stall (the longest
#           round the client saw), the move's wall time, and the peer's
#           retransmission timeouts (TcpExtTCPTimeouts).
#   conns   A server in the pod holding N (BENCH_CONNS: 1 100 1000) idle
#           connections from the peer is checkpointed and restarted on node
#           a: crak checkpoint + crak restart (each connection frozen, dumped,
#           restored and thawed through crak_sockmig) against criu dump +
#           criu restore --tcp-established; then every connection answers.
#
# BENCH_PARTS ("move conns") chooses the parts; CRIU, which locks every
# connection with iptables rules of its own, is not run past BENCH_CRIU_MAX
# (100) connections.  BENCH_REPS (3) rounds each; medians and ratios are
# printed and kept in build/bench/sockmig-KERNEL.txt.  Goals: peer stall
# <= 0.5x CRIU's; zero peer retransmission timeouts.  Nothing here passes or
# fails on a number.
source "$(dirname "$0")/../../selftests/lib.sh"
source "$(dirname "$0")/../../selftests/vif/lib.sh"
source "$(dirname "$0")/../../selftests/sockmig/lib.sh"
source "$(dirname "$0")/lib.sh"

reps=${BENCH_REPS:-3}
# CRIU locks each connection with its own iptables rules: about 0.4 s per
# connection each way here, so it is not run past this many.
criu_max=${BENCH_CRIU_MAX:-100}
# Rounds of the streaming conversation: enough to outlast a move.
rounds=${BENCH_ROUNDS:-4000}
nconns=${BENCH_CONNS:-1 100 1000}
out=${BENCH_OUT:-$CRAK_BUILD/bench}
dir=$LAB_DIR/shared/bench-sockmig
CONNS="$PY $CRAK_SRC/tools/bench/conns.py"
mkdir -p "$out" "$dir"
for n in a b; do
	on "$n" "modprobe crak_vif && modprobe crak_sockmig && modprobe crak_ckpt" || exit 1
done

timeout_count() { on peer nstat -az TcpExtTCPTimeouts | awk '/TCPTimeouts/ { print $2 }'; }
# in_net NODE CMD: CMD in NODE's pod network namespace only (CRIU wants the
# task's mount namespace to be its own).
in_net() {
	local node=$1
	shift
	on "$node" "nsenter --net=/run/netns/pod $*"
}
# timed2 NODE CMD1 CMD2: runs CMD1 then CMD2 on NODE, timed there (no lab
# overhead in the numbers); prints their seconds, or "fail:" and what failed.
timed2() {
	on "$1" "t0=\$(date +%s%N); { $2; } > /tmp/timed.out 2>&1 || { echo fail: \$(tail -2 /tmp/timed.out); exit; }
		t1=\$(date +%s%N); { $3; } > /tmp/timed.out 2>&1 || { echo fail: \$(tail -2 /tmp/timed.out); exit; }
		t2=\$(date +%s%N)
		echo \$(( (t1 - t0) / 1000000 )) \$(( (t2 - t1) / 1000000 )) |
			awk '{ printf \"%.3f %.3f\", \$1 / 1000, \$2 / 1000 }'"
}

# move_round crak|criu|migrate: "stall move_seconds timeouts" for one move a -> b.
move_round() {
	local how=$1 server client pid fd t0 t1 to0 res
	if [ "$how" = migrate ]; then
		# A pod named pod: the lab's helpers find its namespace.
		pod_conv a
		on a "crak run --detach --name pod --addr $POD_IP4/24 --link eth0 -- \
			$POD_CONV server $POD_IP4 7601" || echo "  migrate: crak run failed" >&2
	else
		pod_create a
		# The address was elsewhere a moment ago (the pod crak migrate
		# moved, at another MAC): the peer learns where it is now.
		on a "ip netns exec pod crak vif announce pod0" > /dev/null
		server=$(on_bg a "nsenter --net=/run/netns/pod $CONV server $POD_IP4 7601 \
			< /dev/null > /dev/null 2>&1")
	fi
	wait_bound a tcp 7601
	client=$(conv_client "$rounds" 7601 "$dir/progress" --size 4096)
	wait_rounds "$dir/progress" 50
	read -r pid fd <<< "$(server_sock a 7601)"
	on a "rm -rf $dir/criu && mkdir -p $dir/criu"
	# crak's destination waits ready, frozen (it says nothing on the segment
	# until its thaw); CRIU's cannot exist before the source's address goes.
	[ "$how" = crak ] && pod_create_frozen b
	to0=$(timeout_count)
	# One guest command per node and step, for each tool: what a migration
	# tool would run, without the lab's per-command cost in between.
	t0=$(now)
	if [ "$how" = migrate ]; then
		on a "crak migrate pod --to $(ip4 b):7201 --key $dir/key > /dev/null" ||
			echo "  migrate: crak migrate failed" >&2
	elif [ "$how" = crak ]; then
		# The connection first: its peer is told to wait at once.
		on a "ip netns exec pod sh -c 'crak sock freeze --pid $pid --fd $fd > /dev/null &&
			crak vif freeze pod0 &&
			crak sock dump --pid $pid --fd $fd -o $dir/conn.img > /dev/null &&
			crak vif export pod0 -o $dir/held.pcap drop > /dev/null' &&
			kill $pid && ip netns del pod" || echo "  crak: the dump failed" >&2
		server=$(on_bg b "ip netns exec pod crak vif import pod0 -i $dir/held.pcap > /dev/null &&
			ip netns exec pod crak sock restore $dir/conn.img --fd 3 -- $CONV serve-fd 3")
		# The restored socket, then the thaw: /proc/net/tcp is cheaper than ss.
		on b "for i in \$(seq 400); do
				ip netns exec pod grep -q ':$(printf %04X 7601) .* 01 ' /proc/net/tcp && break
				sleep 0.02
			done
			ip netns exec pod crak vif thaw pod0 > /dev/null" || echo "  crak: the thaw failed" >&2
	else
		criu_move "$pid"
	fi
	t1=$(now)
	conv_go "$dir/progress"
	res=$(wait_job "$client") || echo "  $how: the conversation broke: $res" >&2
	if [ "$how" = migrate ]; then
		on b "crak stop pod" > /dev/null
	else
		on b "pkill -f 'conv.py (serve-fd|server)'; ip netns del pod"
		wait_job "$server" > /dev/null 2>&1
	fi
	echo "$(echo "$res" | sed -n 's/.*longest=\([0-9.]*\).*/\1/p') $(elapsed "$t0" "$t1")" \
		"$(($(timeout_count) - to0))"
}

# conns_round N crak|criu: "checkpoint_seconds restart_seconds" for a server
# holding N connections.
conns_round() {
	local n=$1 how=$2 server client pid times res
	pod_create a
	rm -f "$dir/ready" "$dir/cready" "$dir/go"
	server=$(on_bg a "ulimit -n 4096; nsenter --net=/run/netns/pod $CONNS server $POD_IP4 7602 \
		$n $dir/ready < /dev/null > /dev/null 2>&1")
	wait_bound a tcp 7602
	client=$(on_bg peer "ulimit -n 4096; $CONNS client $POD_IP4 7602 $n $dir/cready $dir/go")
	for _ in $(seq 1200); do
		[ -e "$dir/ready" ] && [ -e "$dir/cready" ] && break
		sleep 0.1
	done
	pid=$(cat "$dir/ready")
	if [ "$how" = crak ]; then
		times=$(timed2 a "nsenter --net=/run/netns/pod crak checkpoint $pid -o $dir/conns.img" \
			"nsenter --net=/run/netns/pod crak restart $dir/conns.img --detach")
	else
		on a "rm -rf $dir/criu && mkdir -p $dir/criu"
		times=$(timed2 a "nsenter --net=/run/netns/pod criu dump -t $pid --tcp-established -j \
				-D $dir/criu -o dump.log" \
			"nsenter --net=/run/netns/pod criu restore --tcp-established -j -d \
				-D $dir/criu -o restore.log")
	fi
	case $times in fail*) echo "  $how, $n connections: $times" >&2; times="nan nan" ;; esac
	touch "$dir/go"
	res=$(wait_job "$client") || echo "  $how, $n connections: $res" >&2
	on a "pkill -f 'conns.py server'; ip netns del pod"
	wait_job "$server" > /dev/null 2>&1
	rm -f "$dir/conns.img"
	echo "$times"
}

report=$out/sockmig-$LAB_KERNEL.txt
parts=${BENCH_PARTS:-move conns}
declare -A col=()
: > "$report"
[[ " $parts " = *" move "* ]] && {
	key_new "$dir/key"
	crakd=$(crakd_start b "$(ip4 b):7201" "$dir/key" "$dir/crakd.log")
}
[[ " $parts " = *" move "* ]] && for rep in $(seq "$reps"); do
	for how in crak migrate criu; do
		read -r s m t < <(move_round "$how")
		echo "  move round $rep, $how: stall $s s, move $m s, $t timeouts" >&2
		col[stall_$how]+="$s "
		col[move_$how]+="$m "
		col[to_$how]+="$t "
	done
done
[[ " $parts " = *" move "* ]] && {
	echo "connection move benchmark: $LAB_KREL, a -> b, medians of $reps rounds (seconds)"
	printf '  %-8s %8s %8s %8s\n' "" "stall" "move" "RTOs"
	for how in crak migrate criu; do
		printf '  %-8s %8s %8s %8s\n' "$how" "$(echo "${col[stall_$how]}" | median)" \
			"$(echo "${col[move_$how]}" | median)" "$(echo "${col[to_$how]}" | median)"
	done
	echo "  stall crak/CRIU: $(ratio "$(echo "${col[stall_crak]}" | median)" \
		"$(echo "${col[stall_criu]}" | median)"), crak migrate/CRIU: $(ratio \
		"$(echo "${col[stall_migrate]}" | median)" "$(echo "${col[stall_criu]}" | median)")" \
		"(goal <= 0.5); RTOs: the peer's retransmission timeouts per move (goal 0 for crak)"
} | tee -a "$report"
[[ " $parts " = *" move "* ]] && { kill_job "$crakd" TERM; wait_job "$crakd" > /dev/null; }

[[ " $parts " = *" conns "* ]] || nconns=
for n in $nconns; do
	for how in crak criu; do
		if [ "$how" = criu ] && [ "$n" -gt "$criu_max" ]; then
			echo "  $n connections: CRIU not run (over BENCH_CRIU_MAX=$criu_max)" >&2
			continue
		fi
		for rep in $(seq "$reps"); do
			read -r c r < <(conns_round "$n" "$how")
			echo "  $n connections round $rep, $how: checkpoint $c s, restart $r s" >&2
			col[ck_${how}_$n]+="$c "
			col[rs_${how}_$n]+="$r "
		done
	done
done
[ -n "$nconns" ] && {
	echo "many connections: checkpoint and restart of a server holding N, node a (seconds)"
	printf '  %6s %8s %8s %6s %8s %8s %6s\n' N ck-crak ck-criu x rs-crak rs-criu x
	for n in $nconns; do
		ckc=$(echo "${col[ck_crak_$n]:-}" | median)
		ckr=$(echo "${col[ck_criu_$n]:-}" | median)
		rsc=$(echo "${col[rs_crak_$n]:-}" | median)
		rsr=$(echo "${col[rs_criu_$n]:-}" | median)
		printf '  %6s %8s %8s %6s %8s %8s %6s\n' "$n" "$ckc" "${ckr:--}" "$(ratio "$ckr" "$ckc")" \
			"$rsc" "${rsr:--}" "$(ratio "$rsr" "$rsc")"
	done
	echo "  x: how many times faster crak is than CRIU"
} | tee -a "$report"
rm -rf "$dir"
