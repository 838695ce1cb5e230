#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=300
#
# What a frozen pod held travels with it.  The peer sends to a pod frozen on
# node a; the held frames are exported to a pcap file (tcpdump reads it) and
# dropped on a; the pod reappears on node b, same MAC and addresses, frozen;
# the file is imported there, and at thaw b announces the address (the peer
# captures a gratuitous ARP and an unsolicited neighbour advertisement) and
# delivers the imported frames first: the receiver on b gets all of them, in
# order, then what the peer sends next, which now reaches b.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"

dir=$LAB_DIR/shared/vif-migrate
mkdir -p "$dir"
p4=$(ip4 peer)
udp() { # udp FIRST COUNT
	send_frames peer --dst $POD_IP4 --dmac "$POD_MAC" --src "$p4" --proto udp \
		--sport 43000 --dport 7000 --first "$1" --count "$2"
}

pod_create a
on peer ping -q -c 1 -W 3 $POD_IP4 > /dev/null || fail "the peer cannot reach the pod on a"
in_pod a crak vif freeze pod0
udp 0 200
until_held a 200
out=$(in_pod a crak vif export pod0 -o "$dir/held.pcap" drop) || fail "export failed: $out"
echo "  $out"
[ "$(tcpdump -nr "$dir/held.pcap" 2> /dev/null | grep -c "43000 > $POD_IP4.7000")" = 200 ] ||
	fail "tcpdump does not read the 200 frames of the export"
[ "$(vif_field a held_packets) $(vif_field a stats.exported)" = "0 200" ] ||
	fail "export drop left frames on a"
pass "export writes the held frames to a pcap file tcpdump reads, and drops them"

# The pod moves: gone from a, back on b, frozen, with what a held.
on a "ip netns del pod"
pod_create_frozen b
sink=$(on_bg b "ip netns exec pod $PY $VIF_DIR/udp_sink.py --bind $POD_IP4:7000 \
	--count 300 --idle 300")
wait_bound b udp 7000
out=$(in_pod b crak vif import pod0 -i "$dir/held.pcap") || fail "import failed: $out"
echo "  $out"
[ "$(vif_field b held_packets) $(vif_field b stats.imported)" = "200 200" ] ||
	fail "b holds $(vif_field b held_packets) frames after the import"
pass "import queues the frames on b"

wire=$(capture_start peer eth0 "arp or icmp6" "$dir/announce.pcap")
in_pod b crak vif thaw pod0 > /dev/null || fail "thaw on b failed"
udp 200 100
wait_job "$sink" || fail "the receiver on b did not get all 300 datagrams in order"
capture_stop "$wire" "$dir/announce.pcap"
tcpdump -nr "$dir/announce.pcap" 2> /dev/null | sed 's/^/  /'
tcpdump -nr "$dir/announce.pcap" 2> /dev/null | grep -q "Request who-has $POD_IP4 tell $POD_IP4" ||
	fail "no gratuitous ARP at thaw"
tcpdump -nr "$dir/announce.pcap" 2> /dev/null |
	grep -q "$POD_IP6 > ff02::1: ICMP6, neighbor advertisement, tgt is $POD_IP6" ||
	fail "no unsolicited neighbour advertisement at thaw"
pass "thaw after import announces the address and delivers the imported frames first"
rm -rf "$dir"
