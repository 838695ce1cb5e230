#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=300
#
# A frozen crakvif holds what the network sends it.  1000 TCP segments and
# 1000 UDP datagrams from the peer (IPv4, then 200 of each over IPv6; a
# fifth of that on the debug kernel) reach neither
# the pod's stack nor its taps, and nothing answers them: the peer sees no
# RST, ACK or ICMP, nothing at all from the pod.  Thaw delivers every one of
# them, in order, and then traffic flows as before.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"

dir=$LAB_DIR/shared/vif-freeze
mkdir -p "$dir"
pod_create a

hold_and_thaw() {
	local family=$1 dst=$2 src=$3 n=$4 sink wire tap out extra check status
	sink=$(on_bg a "ip netns exec pod $PY $VIF_DIR/udp_sink.py \
		--bind [$dst]:7000 --first $n --count $n --idle 300")
	wait_bound a udp 7000

	in_pod a crak vif freeze pod0 || fail "$family: freeze failed"
	wire=$(capture_start peer eth0 "ether host $POD_MAC" "$dir/wire-$family.pcap")
	# What the pod's stack receives (its taps see what it sends, too).
	tap=$(capture_start a pod:pod0 "" "$dir/tap-$family.pcap" "-Q in")
	send_frames peer --dst "$dst" --dmac "$POD_MAC" --src "$src" --proto tcp \
		--sport 40000 --dport 9 --first 0 --count "$n"
	send_frames peer --dst "$dst" --dmac "$POD_MAC" --src "$src" --proto udp \
		--sport 40001 --dport 7000 --first "$n" --count "$n"
	# Until all have crossed the segment (seconds, on a loaded host).  The
	# count includes whatever else the segment broadcast meanwhile (a frozen
	# device holds that too), so it can reach 2n before the peer's last
	# frames do: what is held is looked at until it is all there.
	for _ in $(seq 150); do
		[ "$(vif_field a held_packets)" -ge $((2 * n)) ] && break
		sleep 0.2
	done
	# What is held: the peer's frames in arrival order.
	for _ in $(seq 20); do
		# export without drop copies; the queue stays as it is.
		in_pod a crak vif export pod0 -o "$dir/held-$family.pcap" > /dev/null ||
			fail "$family: export failed"
		check=$(pcap_check "$dir/held-$family.pcap" seq any 0 $((2 * n)))
		status=$?
		[ $status = 0 ] && break
		sleep 0.5
	done
	echo "$check"
	[ $status = 0 ] || fail "$family: the held queue is not the peer's frames in order"
	extra=$(($(vif_field a held_packets) - 2 * n))
	[ $extra -ge 0 ] || fail "$family: fewer frames held than sent"
	[ $extra = 0 ] || echo "  (also held: $extra frames of the segment's own broadcast)"
	[ "$(pcap_check "$dir/tap-$family.pcap" count)" = 0 ] ||
		fail "$family: the pod's taps saw frames while frozen"
	capture_stop "$wire" "$dir/wire-$family.pcap"
	pcap_check "$dir/wire-$family.pcap" none-from "$dst" ||
		fail "$family: the frozen pod answered on the wire"
	[ "$(pcap_check "$dir/wire-$family.pcap" count)" = $((2 * n)) ] ||
		fail "$family: the peer's capture does not show exactly its $((2 * n)) frames"
	pass "$family: $((2 * n)) frames held, none delivered, none answered"

	out=$(in_pod a crak -j vif thaw pod0) || fail "$family: thaw failed"
	[ "$(echo "$out" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["delivered"])')" \
		-ge $((2 * n + extra)) ] || fail "$family: thaw did not deliver all it held: $out"
	wait_job "$sink" || fail "$family: the UDP receiver did not get every datagram in order"
	capture_stop "$tap" "$dir/tap-$family.pcap"
	pcap_check "$dir/tap-$family.pcap" seq any 0 $((2 * n)) ||
		fail "$family: the pod's stack did not get every frame once, in order"
	[ "$(vif_field a held_packets)" = 0 ] || fail "$family: frames left held after thaw"
	pass "$family: thaw delivered all $((2 * n)) in order"
}

# The debug kernel, ten times slower, holds fewer.
n4=1000 n6=200
[ "$LAB_KERNEL" = debug ] && n4=200 n6=100
hold_and_thaw ipv4 "$POD_IP4" "$(ip4 peer)" $n4
hold_and_thaw ipv6 "$POD_IP6" "$(ip6 peer)" $n6

# Flowing again: frames go straight through, nothing is held.
on peer ping -q -c 3 -i 0.2 -W 2 $POD_IP4 > /dev/null || fail "no traffic after thaw"
held=$(vif_field a stats.held)
[ "$held" -ge $((2 * (n4 + n6))) ] || fail "held count is $held, below $((2 * (n4 + n6)))"
[ "$(vif_field a stats.delivered)" = "$held" ] || fail "delivered count is not the held count"
pass "traffic flows after thaw; $held held and delivered in all"
rm -rf "$dir"
