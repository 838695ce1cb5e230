#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=300
#
# What a connection holds moves with it.  A server with unread data, whose
# client stopped reading until its window closed and whose send buffer is
# full of unsent data, is dumped and restored into a new process: the client
# then reads every byte the server ever wrote, in place, and the server
# every byte it had not read.  Urgent data moves where it was: the client's
# urgent byte still unread by the server (reads stop at its mark and step
# over it, recv(MSG_OOB) takes it), and the server's urgent pointer the
# client has not acknowledged yet (the restored server sends it).  A
# localhost pair, both ends dumped and both restored (frozen, then thawed),
# carries on over IPv4 and IPv6, one with an urgent byte read out of band
# before the move, the other with one unread.  No RST anywhere.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../vif/lib.sh"
source "$(dirname "$0")/lib.sh"

dir=$LAB_DIR/shared/sockmig-queues
rm -rf "$dir"
mkdir -p "$dir"
pod_create a
pod_create_in b podb 02:c0:00:00:01:01 192.0.2.101 2001:db8::101
wire=$(capture_start a eth0 "tcp portrange 7330-7331 and $RST_FILTER" "$dir/rst.pcap")
lo=$(capture_start a pod:lo "tcp portrange 7340-7341 and $RST_FILTER" "$dir/rst-lo.pcap")

# sent END: how many bytes END has sent.
sent() {
	awk '$1 == "sent" { print $2 }' "$ctl/$1/state"
}

name=zero-window
start 7330 "$POD_IP4" 192.0.2.101 "--sndbuf 131072" "--rcvbuf 65536"
step client send 1000
step server fill
n=$(sent server)
notsent=$(in_pod a ss -Htni sport = :7330 | grep -o 'notsent:[0-9]*')
[ -n "$notsent" ] || fail "$name: the server has no unsent data: $(in_pod a ss -Htni sport = :7330)"
echo "  $n bytes written by the server, $notsent"
move 7330 established
step server recv 1000
step client recv "$n"
step client send 10
step server recv 10
step server send 10
step client recv 10
finish
pass "unread, unsent data and a closed window move: every byte in place"

# The debug kernel, ten times slower, takes the module's urgent-data paths
# in the localhost pair below.
if [ "$LAB_KERNEL" != debug ]; then
	name=urgent
	start 7331 "$POD_IP4" 192.0.2.101
	step client "send 500; urgent 33; send 300"
	deaf_client on
	step server "send 200; urgent 44"
	move 7331 established
	deaf_client off
	# Reading in band past the urgent byte takes it off the queue: a
	# close with it still there would be a close with unread data (RST).
	step server "atmark 0; recv 500; atmark 1; oob 33; recv 300; send 10"
	step client "recv 200; oob 44; recv 10"
	finish
	pass "urgent data moves both ways: the byte unread at its mark, the pointer unacknowledged"
fi

# dump_end PORT ROLE: dump the localhost end ROLE, and end its owner.
dump_end() {
	local pid fd out filter="sport = :$1"
	[ "$2" = client ] && filter="dport = :$1"
	read -r pid fd <<< "$(pod_sock a state established $filter)"
	[ -n "$fd" ] || fail "$name: no $2 socket"
	out=$(in_pod a crak sock dump --pid "$pid" --fd "$fd" -o "$ctl/$2.img") ||
		fail "$name: dump of the $2 failed: $out"
	on a kill "$pid"
}

port=7340
for addr in 127.0.0.1 ::1; do
	name=localhost-$addr
	ctl=$dir/$port
	next=()
	mkdir -p "$ctl/server" "$ctl/client"
	server=$(on_bg a "ip netns exec pod $EP listen $addr $port --ctl $ctl/server")
	wait_bound a tcp $port
	client=$(on_bg a "ip netns exec pod $EP connect $addr $port --ctl $ctl/client")
	wait_file "$ctl/server/state" 30 || fail "$name: no connection"
	step client "send 3000; urgent 77; send 100"
	step server "send 2000; urgent 88; send 50; oob 77"
	dump_end $port server
	dump_end $port client
	wait_job "$server" > /dev/null 2>&1
	wait_job "$client" > /dev/null 2>&1
	# Each end restored alone would call on a peer not there yet, and
	# the kernel would answer with a reset: both come back frozen first.
	server=$(on_bg a "ip netns exec pod crak sock restore $ctl/server.img --frozen --fd 3 -- \
		$EP fd 3 --ctl $ctl/server")
	client=$(on_bg a "ip netns exec pod crak sock restore $ctl/client.img --frozen --fd 3 -- \
		$EP fd 3 --ctl $ctl/client")
	for _ in $(seq 100); do
		ids=$(in_pod a crak -j sock show | /usr/bin/python3 -c "
import json, sys
print(*[s['id'] for s in json.load(sys.stdin) if 'restored' in s['flags']])")
		[ "$(echo "$ids" | wc -w)" = 2 ] && break
		sleep 0.1
	done
	[ "$(echo "$ids" | wc -w)" = 2 ] || fail "$name: the restored pair is not there: $ids"
	for id in $ids; do
		in_pod a crak sock thaw --id "$id" > /dev/null || fail "$name: thaw of $id failed"
	done
	step server "atmark 0; recv 3100"
	step client "recv 2000; atmark 1; oob 88; recv 50"
	step client send 100
	step server recv 100
	step server send 100
	step client recv 100
	finish
	port=$((port + 1))
done
pass "a localhost pair, both ends dumped and restored, carries on over IPv4 and IPv6 (urgent data too)"

capture_stop "$wire" "$dir/rst.pcap"
capture_stop "$lo" "$dir/rst-lo.pcap"
out=$(wire_check "$dir/rst.pcap" rst) || fail "RST on the wire: $out"
out=$(wire_check "$dir/rst-lo.pcap" rst) || fail "RST on the pod's loopback: $out"
[ "$(in_pod a crak -j sock show)" = "[]" ] || fail "the module still tracks a socket"
pass "no RST, nothing left tracked"
rm -rf "$dir"
