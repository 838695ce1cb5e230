#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The held queue is bounded.  A new device holds up to 10000 frames and
# 16 MiB; past a limit, new frames are dropped (tail drop), counted exactly
# (overflow, and rx_dropped in ip -s), and the first drop after a freeze is
# announced once on the events group.  Thaw with drop discards what is held:
# nothing reaches the pod.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"

dir=$LAB_DIR/shared/vif-limits
mkdir -p "$dir"
pod_create a
p4=$(ip4 peer)
udp() { # udp FIRST COUNT
	send_frames peer --dst $POD_IP4 --dmac "$POD_MAC" --src "$p4" --proto udp \
		--sport 42000 --dport 7000 --first "$1" --count "$2"
}
# crossed N: until the frames the device held and dropped (overflow, since
# its creation) are N: what the peer sent crosses the segment in its own
# time, seconds on a loaded host.
crossed() {
	for _ in $(seq $((100 * WAIT_SCALE))); do
		[ $(($(vif_field a held_packets) + $(vif_field a stats.overflow))) -ge "$1" ] && return 0
		sleep 0.2
	done
}
rx_dropped() {
	in_pod a ip -s -j link show pod0 | /usr/bin/python3 -c \
		'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["dropped"])'
}

[ "$(vif_field a limit_packets) $(vif_field a limit_bytes)" = "10000 16777216" ] ||
	fail "a new device's limits are not 10000 frames and 16 MiB"
pass "a new device holds up to 10000 frames and 16 MiB"

# Packets: 150 sent, the first 100 held, 50 dropped, one overflow event.
mon=$(on_bg a "ip netns exec pod crak vif monitor")
sleep 1
in_pod a crak vif set pod0 limit-packets 100
in_pod a crak vif freeze pod0
drop0=$(rx_dropped)
udp 0 150
crossed 150
in_pod a crak vif export pod0 -o "$dir/held.pcap" > /dev/null
pcap_check "$dir/held.pcap" seq udp 0 100 || fail "the first 100 frames are not what is held"
[ "$(vif_field a held_packets)" = 100 ] || fail "$(vif_field a held_packets) held, not 100"
[ "$(vif_field a stats.overflow)" = 50 ] || fail "overflow is $(vif_field a stats.overflow), not 50"
[ $(($(rx_dropped) - drop0)) = 50 ] || fail "rx_dropped grew by $(($(rx_dropped) - drop0)), not 50"
udp 150 10
crossed 160
[ "$(vif_field a stats.overflow)" = 60 ] || fail "overflow did not count on"
pass "past limit-packets: tail drop, counted exactly (overflow, rx_dropped)"

# Bytes: each frame is 55 bytes; room for 20 of them.
in_pod a crak vif thaw pod0 drop > /dev/null
in_pod a crak vif set pod0 limit-packets 10000 limit-bytes 1100
in_pod a crak vif freeze pod0
udp 0 30
crossed 90
[ "$(vif_field a held_packets) $(vif_field a held_bytes)" = "20 1100" ] ||
	fail "limit-bytes 1100 holds $(vif_field a held_packets) frames, $(vif_field a held_bytes) bytes"
[ "$(vif_field a stats.overflow)" = 70 ] || fail "overflow is $(vif_field a stats.overflow), not 70"
pass "past limit-bytes: tail drop, counted exactly"

# Thaw with drop: nothing delivered.
sink=$(on_bg a "ip netns exec pod $PY $VIF_DIR/udp_sink.py --bind $POD_IP4:7000 \
	--count 1 --idle 3")
wait_bound a udp 7000
out=$(in_pod a crak vif thaw pod0 drop)
echo "$out" | grep -q "0 delivered, 20 dropped" || fail "thaw drop said: $out"
wait_job "$sink" > /dev/null && fail "a dropped frame reached the pod"
[ "$(vif_field a held_packets)" = 0 ] || fail "frames left after thaw drop"
pass "thaw drop discards the held frames"

kill_job "$mon" INT
events=$(wait_job "$mon")
echo "$events" | sed 's/^/  event: /'
[ "$(echo "$events" | grep -c '^overflow pod0')" = 2 ] ||
	fail "not one overflow event per freeze"
echo "$events" | grep -q "^overflow pod0 held 100 packets 5500 bytes" ||
	fail "the first overflow event does not say what was held"
[ "$(echo "$events" | grep -c '^freeze pod0$')" = 2 ] || fail "freeze events missing"
echo "$events" | grep -q "^thaw pod0 delivered 0 dropped 20" || fail "thaw event missing"
pass "one overflow event per freeze, with freeze and thaw events"
rm -rf "$dir"
