#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Announcing moves an address on the segment.  The peer knows the pod's
# addresses at one MAC on node a; the pod comes back on node b with another
# MAC, and "crak vif announce" there updates the peer's neighbour cache for
# both addresses (IPv4 and IPv6) without the peer sending anything.  An
# announcement leaves even a frozen device (nothing else does, but, once it
# announced, its neighbour requests), and a device that is down says so.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"

new_mac=02:c0:00:00:02:00
neigh() { # neigh ADDR: the peer's MAC for ADDR
	on peer "ip neigh show $1 dev eth0" | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }'
}

pod_create a
on peer "ping -q -c 1 -W 3 $POD_IP4 && ping -q -c 1 -W 3 $POD_IP6" > /dev/null ||
	fail "the peer cannot reach the pod on a"
[ "$(neigh $POD_IP4) $(neigh $POD_IP6)" = "$POD_MAC $POD_MAC" ] ||
	fail "the peer did not learn the pod's MAC"

on a "ip netns del pod"
pod_create b "$new_mac"
in_pod b crak vif freeze pod0
in_pod b crak vif announce pod0 || fail "announce failed"
for _ in $(seq 30); do
	[ "$(neigh $POD_IP4) $(neigh $POD_IP6)" = "$new_mac $new_mac" ] && break
	sleep 0.1
done
[ "$(neigh $POD_IP4) $(neigh $POD_IP6)" = "$new_mac $new_mac" ] ||
	fail "the peer still has $(neigh $POD_IP4) and $(neigh $POD_IP6)"
pass "announce from a frozen device moves both addresses in the peer's cache"

# Nothing else leaves the frozen device (the peer's MAC is known, so that
# the pings themselves reach it rather than wait for ARP).
in_pod b "ip neigh replace $(ip4 peer) lladdr $(mac peer) dev pod0 nud permanent"
before=$(vif_field b stats.tx_frozen)
in_pod b "ping -q -c 3 -i 0.2 -W 1 $(ip4 peer)" > /dev/null && fail "a frozen pod's ping got out"
[ $(($(vif_field b stats.tx_frozen) - before)) -ge 3 ] || fail "the frozen pod's pings were not dropped"
pass "a frozen device sends nothing but announcements"

# Having announced (a move's destination claims the addresses before its
# process runs), it may ask for its neighbours: the ARP request leaves (the
# peer sees it before the thaw), and the answer is held for the thaw.
dir=$LAB_DIR/shared/vif-announce
mkdir -p "$dir"
in_pod b "ip neigh del $(ip4 peer) dev pod0"
cap=$(capture_start peer eth0 "arp src host $POD_IP4 and arp dst host $(ip4 peer)" "$dir/ask.pcap")
job=$(on_bg b "ip netns exec pod ping -q -c 1 -w 60 $(ip4 peer)")
for _ in $(seq $((300 * WAIT_SCALE))); do
	[ "$(stat -c %s "$dir/ask.pcap")" -gt 24 ] && break
	sleep 0.1
done
capture_stop "$cap" "$dir/ask.pcap"
[ "$(stat -c %s "$dir/ask.pcap")" -gt 24 ] || fail "the announced frozen device kept its ARP request"
kill_job "$job" > /dev/null 2>&1
wait_job "$job" > /dev/null 2>&1
in_pod b crak vif thaw pod0 > /dev/null
in_pod b "ping -q -c 1 -w 10 $(ip4 peer)" > /dev/null || fail "the thawed pod does not reach the peer"
pass "an announced frozen device asks for its neighbours"
rm -rf "$dir"

in_pod b ip link set pod0 down
out=$(in_pod b crak vif announce pod0 2>&1) && fail "announce on a down device succeeded"
echo "$out" | grep -q "device is down" || fail "announce on a down device said: $out"
pass "announce on a down device says it is down"
