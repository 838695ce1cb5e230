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

# A forking server (conv.py fork-server): its listener in the parent and in
# each child serving a connection, the connection in both and twice in the
# child.  The tree is checkpointed, killed and restarted in the pod; each
# socket comes back once, held where it was: the conversation completes
# byte-exact, and the listener, restarted listening, takes a new client.
# Before, a checkpoint of the child alone, or of its tree, is refused (its
# parent holds its sockets too) and leaves it serving.
wire=$(capture_start peer eth0 "tcp port 7502 and $RST_FILTER" "$dir/fork.pcap")
fserver=$(on_bg a "ip netns exec pod $CONV fork-server $POD_IP4 7502 > $dir/fork.out 2>&1 < /dev/null")
wait_bound a tcp 7502
client=$(conv_client 20 7502 "$dir/fork.progress" --interval 0.05)
wait_rounds "$dir/fork.progress" 5
fpid=$(on a "pgrep -of 'conv.py fork-server'") || fail "no forking server on a"
[ "$(in_pod a ss -Htnp state established "'sport = :7502'" | grep -o 'pid=' | wc -l)" = 3 ] ||
	fail "the connection is not held by the server and twice by its child: $(in_pod a ss -Htnp)"
# Its child alone, or as a tree, is refused: the parent holds its sockets too.
cpid=$(on a "pgrep -nf 'conv.py fork-server'")
for how in "" --tree; do
	out=$(in_pod a crak checkpoint $how "$cpid" -o "$dir/child.img" 2>&1) &&
		fail "checkpoint $how of the forking server's child was taken, its sockets its parent's too"
	case $out in
	*"is held by process $fpid too"*) ;;
	*) fail "checkpoint $how of the forking server's child: not the refusal expected: $out" ;;
	esac
done
echo "  $out"
out=$(in_pod a crak checkpoint --tree "$fpid" -o "$dir/fork.img" 2>&1) ||
	fail "checkpoint of the forking server's tree failed: $out"
wait_job "$fserver" > /dev/null 2>&1
# The child, killed too, may wait a moment for its reaping: its PID comes back.
until_on a 30 "[ -e /proc/$cpid ] || echo gone" > /dev/null || fail "the forking server's child outlived its checkpoint"
job=$(on_bg a "ip netns exec pod crak restart $dir/fork.img")
out=$(conv_end "$dir/fork.progress" "$client") ||
	fail "the forking server's conversation broke: $out $(kill_job "$job"; wait_job "$job" 2>&1 | tail -3)"
out=$(on peer "$CONV client $POD_IP4 7502 --rounds 3 --timeout 60" 2>&1) ||
	fail "the restarted forking server takes no new client: $out"
kill_job "$job"
wait_job "$job" > /dev/null 2>&1
capture_stop "$wire" "$dir/fork.pcap"
out=$(wire_check "$dir/fork.pcap" rst) || fail "RST on the wire: $out"
pass "a forking server's tree, its listener and connection in parent and child, restarted: the conversation byte-exact, a new client served, no RST; its child alone refused"
rm -rf "$dir"
