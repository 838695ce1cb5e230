#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=300
#
# crak sock move re-homes a live connection in another process: a server in
# a pod on node a converses with a client on the peer; mid-conversation its
# connection moves to another process of the pod, which gets a new
# descriptor of it (the number crak prints) and carries the conversation on
# byte-exact; the old server's calls fail; the peer sees no SYN and no RST.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../vif/lib.sh"
source "$(dirname "$0")/lib.sh"

dir=$LAB_DIR/shared/sockmig-move
rm -rf "$dir"
mkdir -p "$dir"
pod_create a
server=$(conv_server a 7303) || exit 1
# The heir is ready before the conversation starts.  (pgrep's own shell
# matches its pattern too: the heir is the python process.)
heir=$(on_bg a "ip netns exec pod $CONV adopt > $dir/heir.out 2>&1; echo \$? >> $dir/heir.out")
hpid=$(until_on a 30 "pgrep -f '^$PY .*conv.py adopt'") || fail "the heir did not start"
client=$(conv_client 20 7303 "$dir/progress" --interval 0.05)
wait_rounds "$dir/progress" 5
read -r pid fd <<< "$(server_sock a 7303)"
[ -n "$fd" ] || fail "no established server socket in the pod"
wire=$(capture_start peer eth0 "tcp port 7303 and $WIRE_FILTER" "$dir/wire.pcap")

out=$(in_pod a crak sock move --pid "$pid" --fd "$fd" --to-pid "$hpid" 2>&1) ||
	fail "move failed: $out"
newfd=$out
for _ in $(seq $((300 * WAIT_SCALE))); do
	grep -q adopted "$dir/heir.out" 2> /dev/null && break
	sleep 0.1
done
[ "$(sed -n 's/^adopted //p' "$dir/heir.out")" = "$newfd" ] ||
	fail "the heir did not get descriptor $newfd: $(cat "$dir/heir.out")"
out=$(conv_end "$dir/progress" "$client") || fail "the conversation broke: $out"
wait_job "$heir" > /dev/null
[ "$(tail -1 "$dir/heir.out")" = 0 ] || fail "the heir failed: $(cat "$dir/heir.out")"
out=$(wait_job "$server" 2>&1) && fail "the old server carried on after the move: $out"
capture_stop "$wire" "$dir/wire.pcap"
out=$(wire_check "$dir/wire.pcap") || fail "SYN or RST on the wire: $out"
pass "a connection moved to another process (descriptor $newfd there): byte-exact, no SYN, no RST"
rm -rf "$dir"
