#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=300
#
# A restarted process keeps its UDP sockets and the datagrams queued on
# them: a holder in a pod on node a has datagrams from the peer waiting
# unread on a bound IPv4 socket; it is checkpointed (the socket through
# crak_sockmig, what the peer sends meanwhile held on the pod's crakvif),
# killed, and restarted in the pod; the peer sends more, and the restarted
# holder reads every datagram once, in order: those it had, those held,
# those sent after.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../vif/lib.sh"
source "$(dirname "$0")/../sockmig/lib.sh"
source "$(dirname "$0")/lib.sh"

dir=$CKPT_DIR/udp
rm -rf "$dir"
mkdir -p "$dir"
pod_create a
on a "echo \$((10000 + RANDOM % 20000)) > /proc/sys/kernel/ns_last_pid"
holder=$(on_bg a "ip netns exec pod $UDP hold $POD_IP4 7550 $dir/ready --expect 40 \
	> $dir/holder.out 2>&1 < /dev/null")
wait_file "$dir/ready" 30 || fail "the holder did not start: $(wait_job "$holder" 2>&1)"
pid=$(cat "$dir/ready")
udp_send $POD_IP4 7550 1 20 || fail "the peer cannot send"
sleep 0.5

out=$(in_pod a crak checkpoint "$pid" -o "$dir/img" 2>&1) || fail "checkpoint failed: $out"
wait_job "$holder" > /dev/null 2>&1
udp_send $POD_IP4 7550 21 30 || fail "the peer cannot send"
on a "crak image show $dir/img" | grep -i "socket" | sed 's/^/  /'
job=$(on_bg a "ip netns exec pod crak restart $dir/img --pidfile $dir/pid")
wait_file -s "$dir/pid" 30 || fail "the restart failed: $(wait_job "$job" 2>&1 | tail -3)"
udp_send $POD_IP4 7550 31 40 || fail "the peer cannot send"
sleep 0.5
on a kill -USR1 "$pid"
wait_job "$job" > /dev/null 2>&1 || fail "the restarted holder failed: $(cat "$dir/holder.out")"
grep -q "^ok 40 from $(ip4 peer)" "$dir/holder.out" ||
	fail "the restarted holder did not read every datagram in order: $(cat "$dir/holder.out")"
pass "a restarted process keeps its UDP socket: 20 queued, 10 held, 10 after, in order"
rm -rf "$dir"
