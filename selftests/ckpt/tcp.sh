#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=300
#
# A restarted server keeps its connection: a server in a pod on node a
# converses with a client on the peer; a checkpoint with --leave-running
# lets it talk on; then it is checkpointed (its connection
# through crak_sockmig, its flow held on the pod's crakvif), killed, and
# restarted in the pod, and the conversation completes byte-exact, with no
# SYN and no RST on the wire.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../vif/lib.sh"
source "$(dirname "$0")/../sockmig/lib.sh"
source "$(dirname "$0")/lib.sh"

dir=$CKPT_DIR/tcp
rm -rf "$dir"
mkdir -p "$dir"
pod_conversation 7501 20 "$dir"
wire=$(capture_start peer eth0 "tcp port 7501 and $WIRE_FILTER" "$dir/wire.pcap")

out=$(in_pod a crak checkpoint "$pid" -o "$dir/snap.img" --leave-running 2>&1) ||
	fail "checkpoint --leave-running failed: $out"
echo "  $out"
wait_rounds "$dir/progress" $(($(rounds "$dir/progress") + 3))
on a "crak image show $dir/snap.img" | grep -q "inet socket" ||
	fail "the --leave-running image has no inet socket: $(on a "crak image show $dir/snap.img" 2>&1 | tail -5)"
pass "a server checkpointed with --leave-running talks on over its connection; its image has it"

out=$(in_pod a crak checkpoint "$pid" -o "$dir/img" 2>&1) || fail "checkpoint failed: $out"
echo "  $out"
wait_job "$server" > /dev/null 2>&1
on a "crak image show $dir/img" | grep "inet socket" | sed 's/^/  /'
job=$(on_bg a "ip netns exec pod crak restart $dir/img")
out=$(conv_end "$dir/progress" "$client") || fail "the conversation broke: $out $(wait_job "$job" 2>&1 | tail -3)"
wait_job "$job" > /dev/null || fail "the restarted server failed: $(cat "$dir/server.out")"
capture_stop "$wire" "$dir/wire.pcap"
out=$(wire_check "$dir/wire.pcap") || fail "SYN or RST on the wire: $out"
pass "a restarted server keeps its connection: every round byte-exact, no SYN, no RST"
rm -rf "$dir"
