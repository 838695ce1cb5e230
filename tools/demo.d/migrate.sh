#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A server moves to another node mid-conversation, and back, and its client
# sees only two pauses.  The server runs in a pod (crak run: its own
# namespaces, and a crakvif that owns 192.0.2.100) on node a; a client on
# node peer sends it 1000 bytes every 50 ms and checks every byte of each
# answer.  crakd listens on nodes a and b; a move is one command, crak
# migrate NAME --to NODE:PORT --key FILE, on the node the pod leaves: its
# crakvif frozen (what the client sends held), its process checkpointed
# with its connection (crak_ckpt, crak_sockmig) straight into a TCP
# connection to crakd, which makes the pod again and restarts the process as
# it reads; the process here is killed once crakd has it, and crakd then
# delivers what was held and announces the address there.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../../selftests/sockmig/lib.sh"

declare -A crakd_job
demo_dir demo-migrate
rounds=240
port=7100

# move FROM TO: the pod, from node FROM to node TO, told as it goes.
move() {
	local out
	out=$(on "$1" crak migrate web --to "$(ip4 "$2"):7200" --key "$dir/key" 2>&1) ||
		{ echo "$out"; exit 1; }
	say "$1: $out"
}

for node in a b; do
	crakd_job[$node]=$(crakd_start $node "$(ip4 $node):7200" "$dir/key" "$dir/crakd-$node.log") || exit 1
done
say "crakd: listening on nodes a and b (port 7200), a key of their own"
pod_conv a
on a "crak run --detach --name web --addr $POD_IP4/24,$POD_IP6/64 --link eth0 -- \
	$POD_CONV server $POD_IP4 $port" || exit 1
until_on a 30 ss -N web -Hltn "'sport = :$port'" > /dev/null || exit 1
client=$(conv_client $rounds $port "$dir/progress" --interval 0.05)
wait_rounds "$dir/progress" 5
say "server: in pod web on node a (crak run), $POD_IP4 on its crakvif eth0 (lower device eth0)"
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
on a crak stop web > /dev/null
for node in a b; do
	kill_job "${crakd_job[$node]}" TERM
	wait_job "${crakd_job[$node]}" > /dev/null
done
if [ $rc = 0 ] && [ "$syn_rst" = 0 ] && [ "${n:-0}" -ge $rounds ]; then
	echo "The server moved to node b and back; its client saw two pauses and nothing else."
else
	echo "The conversation did not survive the moves: $out"
	tcpdump -nr "$dir/wire.pcap" 2> /dev/null | head -5
	exit 1
fi
rm -rf "$dir"
