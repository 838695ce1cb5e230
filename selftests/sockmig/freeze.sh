#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=240
#
# Freezing one connection stalls it without a trace on the wire, and thawing
# it resumes it with nothing lost or repeated.  A peer converses with a
# server in a pod on node a.  While the server's connection is frozen the
# peer keeps sending (its segments are held on the pod's crakvif), the pod
# sends nothing at all, and the conversation stalls; after the thaw it
# completes every round, byte-exact, and no SYN or RST ever crossed.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../vif/lib.sh"
source "$(dirname "$0")/lib.sh"

dir=$LAB_DIR/shared/sockmig-freeze
mkdir -p "$dir"
pod_create a
server=$(conv_server a 7300) || exit 1
client=$(conv_client 20 7300 "$dir/progress" --interval 0.05)
wait_rounds "$dir/progress" 5
read -r pid fd <<< "$(server_sock a 7300)"
[ -n "$fd" ] || fail "no established server socket in the pod"

out=$(in_pod a crak sock freeze --pid "$pid" --fd "$fd") || fail "freeze failed: $out"
echo "$out" | sed 's/^/  /'
echo "$out" | grep -q "held on pod0" || fail "freeze did not hold the flow on pod0"
wire=$(capture_start peer eth0 "tcp port 7300 and (src $POD_IP4 or tcp[tcpflags] & (tcp-syn|tcp-rst) != 0)" \
	"$dir/wire.pcap")
before=$(rounds "$dir/progress")
sleep 3
after=$(rounds "$dir/progress")
[ "$after" -le $((before + 1)) ] || fail "the conversation went on while frozen ($before -> $after)"
capture_stop "$wire" "$dir/wire.pcap"
sent=$(tcpdump -nr "$dir/wire.pcap" 2> /dev/null | wc -l)
[ "$sent" = 0 ] || fail "the frozen connection put $sent packets on the wire"
pass "a frozen connection stalls and sends nothing"

wire=$(capture_start peer eth0 "tcp port 7300 and $WIRE_FILTER" "$dir/wire.pcap")
out=$(in_pod a crak sock thaw --pid "$pid" --fd "$fd") || fail "thaw failed: $out"
conv_end "$dir/progress" "$client" > /dev/null || fail "the conversation broke after the thaw"
capture_stop "$wire" "$dir/wire.pcap"
out=$(wire_check "$dir/wire.pcap") || fail "SYN or RST on the wire: $out"
wait_job "$server" || fail "the server failed"
[ "$(in_pod a crak -j sock show)" = "[]" ] || fail "the module still tracks a socket after the thaw"
pass "after the thaw every round completes, byte-exact, without SYN or RST"
rm -rf "$dir"
