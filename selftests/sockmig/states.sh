#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=420
#
# A connection past a FIN moves too: CLOSE_WAIT, FIN_WAIT1, FIN_WAIT2,
# LAST_ACK and CLOSING, over IPv4 and IPv6.  A server in a pod on node a and
# a client in a pod on node b (endpoint.py, driven step by step) bring the
# connection to the state; the server's is dumped, its owner exits, and the
# image is restored into a new process on a, which must be in that state
# and carry on: every byte in its place, each end of stream where it was
# due, no RST.  To leave a FIN (or the ACK of one) unacknowledged, the
# client's pod drops what the server sends until the restore is done.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../vif/lib.sh"
source "$(dirname "$0")/lib.sh"

dir=$LAB_DIR/shared/sockmig-states
rm -rf "$dir"
mkdir -p "$dir"
pod_create a
pod_create_in b podb 02:c0:00:00:01:01 192.0.2.101 2001:db8::101
wire=$(capture_start a eth0 "tcp portrange 7310-7329 and $RST_FILTER" "$dir/rst.pcap")

# runs NAME: whether this kernel runs the case (and notes it in $ran); the
# debug kernel, ten times slower, moves each state once: IPv4 takes each
# FIN path (CLOSE_WAIT: the peer's; FIN_WAIT2: ours, acknowledged;
# FIN_WAIT1: ours, not yet), IPv6 the states with both FINs out (LAST_ACK,
# CLOSING).
runs() {
	if [ "$LAB_KERNEL" = debug ]; then
		case $family-$1 in
		4-close-wait | 4-fin-wait-2 | 4-fin-wait-1 | 6-last-ack | 6-closing) ;;
		*) return 1 ;;
		esac
	fi
	ran+="${ran:+, }$1"
}

for family in 4 6; do
	ran=
	if [ $family = 4 ]; then
		saddr=$POD_IP4 caddr=192.0.2.101 base=7310
	else
		saddr=$POD_IP6 caddr=2001:db8::101 base=7320
	fi

	# The client closed its side; the server has not read it all.
	if runs close-wait; then
		name=close-wait-v$family
		start $base "$saddr" "$caddr"
		step client "send 1000; shut"
		server_state $base close-wait
		move $base close-wait
		step server "recv 1000; eof; send 500; shut"
		step client "recv 500; eof"
		finish
	fi

	# The server closed its side and the client acknowledged it.
	if runs fin-wait-2; then
		name=fin-wait-2-v$family
		start $((base + 1)) "$saddr" "$caddr"
		step server "send 500; shut"
		server_state $((base + 1)) fin-wait-2
		move $((base + 1)) fin-wait-2
		step client "send 700; recv 500; eof; shut"
		step server "recv 700; eof"
		finish
	fi

	# The server closed its side; the client has not seen it yet.
	if runs fin-wait-1; then
		name=fin-wait-1-v$family
		start $((base + 2)) "$saddr" "$caddr"
		deaf_client on
		step server sendshut 300
		server_state $((base + 2)) fin-wait-1
		move $((base + 2)) fin-wait-1
		deaf_client off
		step client "recv 300; eof; send 200; shut"
		step server "recv 200; eof"
		finish
	fi

	# Both closed, the client first; the server's FIN is not acknowledged.
	if runs last-ack; then
		name=last-ack-v$family
		start $((base + 3)) "$saddr" "$caddr"
		step client "send 100; shut"
		step server "recv 100; eof"
		deaf_client on
		step server sendshut 50
		server_state $((base + 3)) last-ack
		move $((base + 3)) last-ack
		deaf_client off
		step client "recv 50; eof"
		finish
	fi

	# Both closed at once: each FIN crossed the other.
	if runs closing; then
		name=closing-v$family
		start $((base + 4)) "$saddr" "$caddr"
		deaf_client on
		step server sendshut 80
		step client sendshut 60
		server_state $((base + 4)) closing
		step server "recv 60; eof"
		move $((base + 4)) closing
		deaf_client off
		step client "recv 80; eof"
		finish
	fi
	pass "IPv$family: $ran: moved, each byte in place, EOF where due"
done

capture_stop "$wire" "$dir/rst.pcap"
out=$(wire_check "$dir/rst.pcap" rst) || fail "RST on the wire: $out"
[ "$(in_pod a crak -j sock show)" = "[]" ] || fail "the module still tracks a socket"
pass "no RST on the wire, nothing left tracked"
rm -rf "$dir"
