#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A server moves to another node mid-conversation, and back, and its client
# sees only two pauses.  The server lives in a pod (a network namespace
# whose crakvif owns 192.0.2.100) on node a; a client on node peer sends it
# 1000 bytes every 50 ms and checks every byte of each answer.  To move the
# server, the pod's crakvif is frozen (what the client sends is held), the
# process is checkpointed with its connection (crak_ckpt, crak_sockmig) into
# a file both nodes share, the held frames are exported and the pod deleted;
# on node b the pod is made again, frozen, the frames imported, the process
# restarted from its image, and the thaw announces the address there and
# delivers what was held.  Then the same from b back to a.
source "$(dirname "$0")/../../selftests/lib.sh"
source "$(dirname "$0")/../../selftests/vif/lib.sh"
source "$(dirname "$0")/../../selftests/sockmig/lib.sh"

t0=$(date +%s.%N)
now() { echo "$(date +%s.%N) - $t0" | bc; }
say() { printf '[%5.1fs] %s\n' "$(now)" "$*"; }

dir=$LAB_DIR/shared/demo-migrate
rm -rf "$dir"
mkdir -p "$dir"
rounds=240
port=7100

# move FROM TO: the server's process and its pod, from node FROM to node TO.
move() {
	local from=$1 to=$2 t1 t2 out
	t1=$(now)
	in_pod "$from" crak vif freeze pod0 > /dev/null || fail "freeze on $from failed"
	out=$(in_pod "$from" crak checkpoint "$pid" -o "$dir/img" 2>&1) ||
		fail "checkpoint on $from failed: $out"
	say "$from: pod0 frozen; $out"
	in_pod "$from" crak vif export pod0 -o "$dir/held.pcap" drop > /dev/null ||
		fail "export on $from failed"
	wait_job "$server" > /dev/null 2>&1
	on "$from" ip netns del pod
	pod_create_frozen "$to"
	out=$(in_pod "$to" crak vif import pod0 -i "$dir/held.pcap") || fail "import on $to failed"
	say "$to: pod0 made again, frozen; $out"
	rm -f "$dir/pid"
	server=$(on_bg "$to" "ip netns exec pod crak restart $dir/img --pidfile $dir/pid \
		>> $dir/server.out 2>&1 < /dev/null")
	for _ in $(seq 300); do
		[ -s "$dir/pid" ] && break
		sleep 0.1
	done
	[ "$(cat "$dir/pid" 2> /dev/null)" = "$pid" ] ||
		fail "no restart on $to: $(wait_job "$server" 2>&1 | tail -3)"
	out=$(in_pod "$to" crak vif thaw pod0) || fail "thaw on $to failed"
	t2=$(now)
	say "$to: server restarted as PID $pid; ${out#pod0: }"
	printf '         moved %s -> %s in %.1f s (freeze to thaw)\n' "$from" "$to" \
		"$(echo "$t2 - $t1" | bc)"
}

pod_create a
# A PID the other node is unlikely to use: the restarted process keeps it.
on a "echo \$((10000 + RANDOM % 20000)) > /proc/sys/kernel/ns_last_pid"
server=$(on_bg a "ip netns exec pod $CONV server $POD_IP4 $port > $dir/server.out 2>&1 < /dev/null")
wait_bound a tcp $port
say "server: in a pod on node a, $POD_IP4 on crakvif pod0 (lower device eth0)"
wire=$(capture_start peer eth0 "tcp port $port and tcp[tcpflags] & (tcp-syn|tcp-rst) != 0" \
	"$dir/wire.pcap")
on peer "nstat -n" > /dev/null
client=$(conv_client $rounds $port "$dir/progress" --interval 0.05)
wait_rounds "$dir/progress" 2
read -r pid _ <<< "$(server_sock a $port)"
[ -n "$pid" ] || fail "no server connection in the pod"
say "client: on node peer, $rounds rounds of 1000 bytes, one every 50 ms, each answer checked"
wait_rounds "$dir/progress" 20
move a b
wait_rounds "$dir/progress" $(($(rounds "$dir/progress") + 20))
say "client: $(rounds "$dir/progress") rounds done"
move b a
out=$(wait_job "$client")
rc=$?
capture_stop "$wire" "$dir/wire.pcap"
syn_rst=$(tcpdump -nr "$dir/wire.pcap" 2> /dev/null | wc -l)
timeouts=$(on peer "nstat -az TcpExtTCPTimeouts" | awk '/TcpExtTCPTimeouts/ { print $2 }')
read -r _ n _ longest <<< "$out"
say "client: ${n:-?} rounds, $((${n:-0} * 1000 * 2)) bytes checked, longest round trip" \
	"${longest#longest=} s; SYNs and resets on the wire: $syn_rst;" \
	"retransmission timeouts at the client: $timeouts"
wait_job "$server" > /dev/null 2>&1
if [ $rc = 0 ] && [ "$syn_rst" = 0 ] && [ "${n:-}" = $rounds ]; then
	echo "The server moved to node b and back; its client saw two pauses and nothing else."
else
	echo "The conversation did not survive the moves: $out"
	exit 1
fi
on a ip netns del pod
rm -rf "$dir"
