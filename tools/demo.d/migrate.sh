#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A server moves to another node mid-conversation, and back, and its client
# sees only two pauses.  The server lives in a pod (a network namespace
# whose crakvif owns 192.0.2.100) on node a; a client on node peer sends it
# 1000 bytes every 50 ms and checks every byte of each answer.  To move the
# server, a pod is made ready on node b (frozen, so silent); then the pod's
# crakvif on a is frozen (what the client sends is held), the process is
# checkpointed with its connection (crak_ckpt, crak_sockmig) into a file
# both nodes share, the held frames are exported and the pod deleted; on b
# the frames are imported, the process restarted from its image, and the
# thaw announces the address there and delivers what was held.  Then the
# same from b back to a.
source "$(dirname "$0")/../../selftests/lib.sh"
source "$(dirname "$0")/../../selftests/vif/lib.sh"
source "$(dirname "$0")/../../selftests/sockmig/lib.sh"
source "$(dirname "$0")/../../selftests/ckpt/lib.sh"

t0=$(date +%s.%N)
say() { printf '[%5.1fs] %s\n' "$(echo "$(date +%s.%N) - $t0" | bc)" "$*"; }

dir=$LAB_DIR/shared/demo-migrate
rm -rf "$dir"
mkdir -p "$dir"
rounds=240
port=7100

# move FROM TO: the server, from node FROM to node TO, told as it goes.
move() {
	pod_move "$1" "$2" "$pid" "$server" "$dir/img"
	server=$move_job
	say "$2: the pod made ready beforehand: same MAC and addresses, frozen, so silent"
	say "$1: pod0 frozen; ${move_ckpt%%; killed*}"
	say "$1: the process killed, its held frames exported, the pod deleted"
	say "$2: the frames imported; PID $pid restarted; pod0 thawed (and announced)"
	printf '         moved %s -> %s in %.1f s, from freeze to thaw\n' "$1" "$2" "$move_secs"
}

pod_conversation $port $rounds "$dir"
say "server: in a pod on node a, $POD_IP4 on crakvif pod0 (lower device eth0)"
say "client: on node peer, $rounds rounds of 1000 bytes, one every 50 ms, each answer checked"
on peer "nstat -n" > /dev/null
wire=$(capture_start peer eth0 "tcp port $port and tcp[tcpflags] & (tcp-syn|tcp-rst) != 0" \
	"$dir/wire.pcap")
wait_rounds "$dir/progress" 20
move a b
wait_rounds "$dir/progress" 80
say "client: 80 rounds done, the server answering from node b"
move b a
conv_go "$dir/progress"
out=$(wait_job "$client")
rc=$?
capture_stop "$wire" "$dir/wire.pcap"
syn_rst=$(tcpdump -nr "$dir/wire.pcap" 2> /dev/null | wc -l)
timeouts=$(on peer "nstat -z TcpExtTCPTimeouts" | awk '/TcpExtTCPTimeouts/ { print $2 }')
read -r _ n _ longest <<< "$out"
say "client: ${n:-0} rounds, $((${n:-0} * 2000)) bytes checked; longest round trip" \
	"${longest#longest=} s; SYNs and resets on the wire: $syn_rst;" \
	"retransmission timeouts at the client: $timeouts"
wait_job "$server" > /dev/null 2>&1
if [ $rc = 0 ] && [ "$syn_rst" = 0 ] && [ "${n:-0}" -ge $rounds ]; then
	echo "The server moved to node b and back; its client saw two pauses and nothing else."
else
	echo "The conversation did not survive the moves: $out"
	tcpdump -nr "$dir/wire.pcap" 2> /dev/null | head -5
	exit 1
fi
rm -rf "$dir"
