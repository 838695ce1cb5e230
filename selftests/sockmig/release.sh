#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=240
#
# The original socket of a dumped connection goes quietly.  When its owner
# exits, it closes without a FIN or RST and the module forgets it; restoring
# the image on the same node then carries the conversation on.  Restoring a
# connection where its original still lives supersedes the original, which
# closes silently too; the restore delivers what the pod's crakvif held
# meanwhile.  Either way the peer sees every round byte-exact (a FIN from an
# original would end it early) and no SYN or RST.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../vif/lib.sh"
source "$(dirname "$0")/lib.sh"

dir=$LAB_DIR/shared/sockmig-release
mkdir -p "$dir"
pod_create a

# restored NODE PORT: until the pod of NODE has the restored connection.
restored() {
	wait_established "$1" "$2" || fail "no restored connection on port $2"
}

# wire PORT: a capture of the SYNs and RSTs of the connection on PORT, once
# it is established.
wire() {
	capture_start peer eth0 "tcp port $1 and $WIRE_FILTER" \
		"$dir/wire-$1.pcap"
}
# wire_clean HANDLE PORT: the capture saw nothing.
wire_clean() {
	capture_stop "$1" "$dir/wire-$2.pcap"
	local out
	out=$(wire_check "$dir/wire-$2.pcap") || fail "SYN or RST on the wire: $out"
}

# The owner exits after the dump.
server=$(conv_server a 7302) || exit 1
client=$(conv_client 20 7302 "$dir/progress1" --interval 0.05)
wait_rounds "$dir/progress1" 5
wire=$(wire 7302)
read -r pid fd <<< "$(server_sock a 7302)"
[ -n "$fd" ] || fail "no established server socket in the pod"
out=$(in_pod a crak sock dump --pid "$pid" --fd "$fd" -o "$dir/conn1.img") || fail "dump failed: $out"
on a kill "$pid"
wait_job "$server" > /dev/null 2>&1
until_on a 10 "ip netns exec pod crak -j sock show | grep -x '\[\]'" > /dev/null ||
	fail "the module still tracks the dumped socket its owner closed: $(in_pod a crak sock show)"
pass "a dumped socket whose owner exits is forgotten"
server=$(on_bg a "ip netns exec pod crak sock restore $dir/conn1.img --fd 3 -- $CONV serve-fd 3")
restored a 7302
out=$(conv_end "$dir/progress1" "$client") || fail "the conversation broke: $out"
wait_job "$server" || fail "the restored server failed"
wire_clean "$wire" 7302
pass "restored on the same node, the conversation carries on byte-exact, no SYN or RST"

# The owner still holds the original when the copy is restored.
server=$(conv_server a 7303) || exit 1
client=$(conv_client 20 7303 "$dir/progress2" --interval 0.05)
wait_rounds "$dir/progress2" 5
wire=$(wire 7303)
read -r pid fd <<< "$(server_sock a 7303)"
[ -n "$fd" ] || fail "no established server socket in the pod"
out=$(in_pod a crak sock dump --pid "$pid" --fd "$fd" -o "$dir/conn2.img") || fail "dump failed: $out"
echo "$out" | grep -q "held on pod0" || fail "the dump did not hold the flow on pod0: $out"
sleep 1
copy=$(on_bg a "ip netns exec pod crak sock restore $dir/conn2.img --fd 3 -- $CONV serve-fd 3")
restored a 7303
out=$(conv_end "$dir/progress2" "$client") || fail "the conversation broke: $out"
wait_job "$copy" || fail "the restored server failed"
[ "$(in_pod a crak -j sock show)" = "[]" ] || fail "the superseded original is still tracked"
wait_job "$server" > /dev/null 2>&1
[ "$(vif_field a flows)" = 0 ] || fail "pod0 still holds a frozen flow after the restore"

wire_clean "$wire" 7303
pass "restored beside its original, it supersedes it: byte-exact, no SYN or RST"
rm -rf "$dir"
