#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=300 kernels=6.12,6.1
#
# A server process moves to another node mid-conversation, with its
# address and its connection, and its client sees nothing but a pause.  The
# server lives in a pod on node a and converses with a client on the peer.
# A pod is made ready on node b, frozen; the pod's crakvif on a is frozen,
# the process checkpointed and killed, the frames held for it exported and
# the pod deleted; on b the frames are imported, the process restarted with
# its PID, and the crakvif thawed.  The conversation completes byte-exact, the
# peer's capture shows no SYN and no RST, and the server on b ends well.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../vif/lib.sh"
source "$(dirname "$0")/../sockmig/lib.sh"
source "$(dirname "$0")/../ckpt/lib.sh"

dir=$LAB_DIR/shared/migrate-server
rm -rf "$dir"
mkdir -p "$dir"
pod_conversation 7502 20 "$dir"
wire=$(capture_start peer eth0 "tcp port 7502 and $WIRE_FILTER" \
	"$dir/wire.pcap")

pod_move a b "$pid" "$server" "$dir/img"
printf "  moved in %.1f s: %s\n" "$move_secs" "${move_ckpt%%; killed*}"
[ -z "$(on a ip netns list)" ] || fail "the pod is still on a"
out=$(conv_end "$dir/progress" "$client") || fail "the conversation broke: $out"
wait_job "$move_job" > /dev/null || fail "the server restarted on b failed: $(cat "$dir/server.out"; tail -3 "$dir/img.out")"
capture_stop "$wire" "$dir/wire.pcap"
out=$(wire_check "$dir/wire.pcap") || fail "SYN or RST on the wire: $out"
pass "a server moves from node a to node b with its connection: every round byte-exact, no SYN, no RST"
rm -rf "$dir"
