#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=300 kernels=6.12,6.1
#
# A bulk TCP stream survives a freeze.  The peer sends 16 MiB to a pod in
# two halves 3 s apart, and the pod is frozen for 4 s across the start of the
# second: what arrives in GRO aggregates meanwhile is held as the segments it
# was on the wire (no held frame exceeds the link's MTU); the receiver gets
# every byte (same SHA-256), with no reset on the wire.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"

dir=$LAB_DIR/shared/vif-stream
mkdir -p "$dir"
pod_create a
on peer "head -c 16M /dev/urandom > /tmp/stream && sha256sum < /tmp/stream &&
	split -n 2 /tmp/stream /tmp/stream." > "$dir/sent"
recv=$(on_bg a "ip netns exec pod socat -u TCP-LISTEN:7200,reuseaddr - | sha256sum")
wait_bound a tcp 7200
wire=$(capture_start peer eth0 "$RST_FILTER and host $POD_IP4" "$dir/rst.pcap")
send=$(on_bg peer "{ cat /tmp/stream.aa; sleep 3; cat /tmp/stream.ab; } | socat -u - TCP:$POD_IP4:7200")
until_on a 30 ss -N pod -Htn state established "'sport = :7200'" > /dev/null
in_pod a crak vif freeze pod0 || fail "freeze failed"
sleep 4
in_pod a crak vif export pod0 -o "$dir/held.pcap" > /dev/null || fail "export failed"
in_pod a crak vif thaw pod0 > /dev/null || fail "thaw failed"
wait_job "$send" || fail "the sender failed"
wait_job "$recv" > "$dir/received" || fail "the receiver failed"
capture_stop "$wire" "$dir/rst.pcap"
cmp -s "$dir/sent" "$dir/received" || fail "the stream arrived damaged: $(cat "$dir/received")"
out=$(wire_check "$dir/rst.pcap" rst) || fail "resets on the wire: $out"
pass "16 MiB arrive intact across a freeze, no reset"

held=$(cat "$dir"/held.pcap | wc -c)
big=$(for f in "$dir"/held.pcap; do tcpdump -enr "$f" 2> /dev/null; done |
	awk '{ for (i = 1; i < NF; i++) if ($i == "length") { sub(":", "", $(i + 1)); print $(i + 1); break } }' |
	awk '$1 > 1514' | wc -l)
frames=$(for f in "$dir"/held.pcap; do tcpdump -nr "$f" 2> /dev/null; done | wc -l)
[ "$frames" -gt 0 ] || fail "nothing was held while the stream ran"
[ "$big" = 0 ] || fail "$big held frames are larger than the link's MTU"
pass "$frames frames held mid-stream, each of link size"
rm -rf "$dir"
