#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=360 kernels=6.12,6.1
#
# A pod serving 100 TCP connections and a UDP flow moves with crak migrate
# from node a to node b, then back while the peer floods it.  The client on
# the peer goes on round after round on every connection across both moves:
# every byte in its place, no SYN, no RST.  Over the first move the server
# gets every datagram the client sent, in order: what came while the pod was
# frozen was held on a, or on b once b announced the address, and delivered
# there.  Under the flood (what the crakvif holds overflows: frames are
# dropped as on a full wire) the connections recover all the same.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../vif/lib.sh"
source "$(dirname "$0")/../sockmig/lib.sh"

PORT=7520
dir=$LAB_DIR/shared/migrate-many
rm -rf "$dir"
mkdir -p "$dir"
key_new "$dir/key"
MANY="$PY $CRAK_SRC/selftests/migrate/many.py"

# migrate FROM TO: crak migrate of pod many from node FROM to crakd on TO.
migrate() {
	local out
	out=$(on "$1" crak migrate many --to "$(ip4 "$2"):7610" --key "$dir/key" 2>&1) ||
		fail "crak migrate from $1 to $2 failed: $out"
	echo "  $out"
	out=$(on "$2" crak ps)
	grep -q "^many: running " <<< "$out" ||
		fail "pod many does not run on $2: ${out:-no pod}; crakd: $(tail -n 3 "$dir/crakd-$2.log")"
	on "$1" "! test -e /run/crak/pods/many" || fail "pod many is still on $1"
}

declare -A crakd
for node in a b; do
	crakd[$node]=$(crakd_start $node "$(ip4 $node):7610" "$dir/key" "$dir/crakd-$node.log") ||
		fail "crakd did not start on $node"
done
# The pod hides the host's /tmp, where a checkout may live.
on a "mkdir -p /run/crak-selftests &&
	cp $CRAK_SRC/selftests/migrate/many.py $CRAK_SRC/selftests/sockmig/conv.py \
		$CRAK_SRC/selftests/opts.py $CRAK_SRC/selftests/socklite.py /run/crak-selftests/" ||
	fail "cannot copy many.py and conv.py"
on a "crak run --detach --name many --addr $POD_IP4/24 --link eth0 -- \
	$PY /run/crak-selftests/many.py server $POD_IP4 $PORT" || fail "crak run of pod many failed"
until_on a 30 ss -N many -Hltn "'sport = :$PORT'" > /dev/null || fail "nothing listens in the pod"

client=$(on_bg peer "$MANY client $POD_IP4 $PORT --conns 100 --rounds 5 --progress $dir/progress")
wait_rounds "$dir/progress" 5
[ "$(on a ss -N many -Htn state established | wc -l)" = 100 ] ||
	fail "the pod does not have 100 connections"
wire=$(capture_start peer eth0 "tcp port $PORT and $WIRE_FILTER" "$dir/wire.pcap")

rto=$(peer_timeouts)
migrate a b
echo "  the peer's retransmission timeouts over the move: $(($(peer_timeouts) - rto))"
# Datagrams a full socket buffer dropped in the pod (now on b).
overflow=$(on b "ip netns exec many nstat -az UdpRcvbufErrors Udp6RcvbufErrors" |
	awk '/RcvbufErrors/ { n += $2 } END { print n + 0 }')
wait_rounds "$dir/progress" $(($(rounds "$dir/progress") + 3))
touch "$dir/progress.udp-stop"

flood=$(on_bg peer "$MANY flood $POD_IP4 $((PORT + 1)) --until $dir/flood.stop")
sleep 2
migrate b a
touch "$dir/flood.stop"
echo "  $(wait_job "$flood")"
wait_rounds "$dir/progress" $(($(rounds "$dir/progress") + 3))

out=$(conv_end "$dir/progress" "$client") || fail "the client failed: $out"
echo "  client: $out"
capture_stop "$wire" "$dir/wire.pcap"
res=$(wire_check "$dir/wire.pcap") || fail "SYN or RST on the wire: $res"
pass "100 connections across two moves, the second under a flood: every byte in place, no SYN, no RST"

read -r sent got lost late < <(sed -n \
	's/.* udp sent=\([0-9]*\) answered=[0-9]* got=\([0-9]*\) lost=\([0-9]*\) late=\([0-9]*\)$/\1 \2 \3 \4/p' \
	<<< "$out")
[ -n "${late:-}" ] || fail "the client did not say its UDP counts: $out"
[ "$got" = "$sent" ] && [ "$lost" = 0 ] && [ "$late" = 0 ] ||
	fail "the server got $got of the $sent datagrams over the move ($lost lost, $late late;" \
		"$overflow dropped by its full socket buffer)"
pass "the UDP flow across a move: the server got all $sent datagrams, in order"

on a crak stop many > /dev/null || fail "crak stop many failed"
for node in a b; do
	kill_job "${crakd[$node]}" TERM
	wait_job "${crakd[$node]}" > /dev/null || fail "crakd on $node did not end cleanly"
done
rm -rf "$dir"
