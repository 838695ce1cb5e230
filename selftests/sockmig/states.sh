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
EP="/usr/bin/python3 $SOCK_DIR/endpoint.py"
pod_create a
pod_create_in b podb 02:c0:00:00:01:01 192.0.2.101 2001:db8::101
wire=$(capture_start a eth0 "tcp portrange 7310-7329 and tcp[tcpflags] & tcp-rst != 0" \
	"$dir/rst.pcap")

# step END COMMAND: END (client, server) runs COMMAND; fails unless "ok".
declare -A next=()
step() {
	local end=$1 n answer
	shift
	n=$((${next[$end]:-0} + 1))
	next[$end]=$n
	echo "$*" > "$ctl/$end/cmd.$n"
	for _ in $(seq 300); do
		[ -e "$ctl/$end/done.$n" ] && break
		sleep 0.1
	done
	answer=$(cat "$ctl/$end/done.$n" 2> /dev/null)
	[ "$answer" = ok ] || fail "$name: $end: $*: ${answer:-no answer}"
}

# server_state PORT STATE: until the pod's socket on PORT is in STATE (ss).
server_state() {
	for _ in $(seq 100); do
		[ -n "$(in_pod a ss -Htn state "$2" sport = :"$1")" ] && return 0
		sleep 0.1
	done
	fail "$name: the server's connection is not $2: $(in_pod a ss -Htn sport = :"$1");" \
		"the client's: $(on b ip netns exec podb ss -Htni dport = :"$1")"
}

# deaf_client on|off: the client's pod drops all that comes to it (tc), and
# still sends; what it missed, the server retransmits after.
deaf_client() {
	if [ "$1" = on ]; then
		on b "ip -n podb neigh replace $POD_IP4 lladdr $POD_MAC dev podb0 nud permanent &&
			ip -n podb neigh replace $POD_IP6 lladdr $POD_MAC dev podb0 nud permanent &&
			tc -n podb qdisc add dev podb0 ingress &&
			tc -n podb filter add dev podb0 ingress protocol all u32 match u32 0 0 action drop" ||
			fail "$name: cannot make the client deaf"
	else
		on b "tc -n podb qdisc del dev podb0 ingress" || fail "$name: the client stays deaf"
	fi
}

# start PORT ADDR CADDR: a server in the pod on a, its client in podb on b.
start() {
	ctl=$dir/$name
	next=()
	mkdir -p "$ctl/server" "$ctl/client"
	server=$(on_bg a "ip netns exec pod $EP listen $2 $1 --ctl $ctl/server")
	wait_bound a tcp "$1"
	client=$(on_bg b "ip netns exec podb $EP connect $2 $1 --bind $3 --ctl $ctl/client")
	for _ in $(seq 100); do
		[ -e "$ctl/server/state" ] && break
		sleep 0.1
	done
	[ -e "$ctl/server/state" ] || fail "$name: no connection"
}

# move PORT STATE: dump the server's connection, end its owner, restore it
# into a new server process, which must be in STATE.
move() {
	local pid fd out
	read -r pid fd <<< "$(in_pod a ss -Htnp sport = :"$1" |
		sed -n 's/.*pid=\([0-9]*\),fd=\([0-9]*\).*/\1 \2/p' | head -1)"
	[ -n "$fd" ] || fail "$name: no server socket"
	out=$(in_pod a crak sock dump --pid "$pid" --fd "$fd" -o "$ctl/conn.img") ||
		fail "$name: dump failed: $out"
	on a kill "$pid"
	wait_job "$server" > /dev/null 2>&1
	server=$(on_bg a "ip netns exec pod crak sock restore $ctl/conn.img --fd 3 -- \
		$EP fd 3 --ctl $ctl/server")
	server_state "$1" "$2"
}

# finish: both ends exit; each must have done every step.
finish() {
	step client exit
	step server exit
	wait_job "$client" || fail "$name: the client failed"
	wait_job "$server" || fail "$name: the restored server failed"
}

for family in 4 6; do
	if [ $family = 4 ]; then
		saddr=$POD_IP4 caddr=192.0.2.101 base=7310
	else
		saddr=$POD_IP6 caddr=2001:db8::101 base=7320
	fi

	# The client closed its side; the server has not read it all.
	name=close-wait-v$family
	start $base "$saddr" "$caddr"
	step client send 1000
	step client shut
	server_state $base close-wait
	move $base close-wait
	step server recv 1000
	step server eof
	step server send 500
	step server shut
	step client recv 500
	step client eof
	finish

	# The server closed its side and the client acknowledged it.
	name=fin-wait-2-v$family
	start $((base + 1)) "$saddr" "$caddr"
	step server send 500
	step server shut
	server_state $((base + 1)) fin-wait-2
	move $((base + 1)) fin-wait-2
	step client send 700
	step client recv 500
	step client eof
	step client shut
	step server recv 700
	step server eof
	finish

	# The server closed its side; the client has not seen it yet.
	name=fin-wait-1-v$family
	start $((base + 2)) "$saddr" "$caddr"
	deaf_client on
	step server send 300
	step server shut
	server_state $((base + 2)) fin-wait-1
	move $((base + 2)) fin-wait-1
	deaf_client off
	step client recv 300
	step client eof
	step client send 200
	step client shut
	step server recv 200
	step server eof
	finish

	# Both closed, the client first; the server's FIN is not acknowledged.
	name=last-ack-v$family
	start $((base + 3)) "$saddr" "$caddr"
	step client send 100
	step client shut
	step server recv 100
	step server eof
	deaf_client on
	step server send 50
	step server shut
	server_state $((base + 3)) last-ack
	move $((base + 3)) last-ack
	deaf_client off
	step client recv 50
	step client eof
	finish

	# Both closed at once: each FIN crossed the other.
	name=closing-v$family
	start $((base + 4)) "$saddr" "$caddr"
	deaf_client on
	step server send 80
	step server shut
	step client send 60
	step client shut
	server_state $((base + 4)) closing
	step server recv 60
	step server eof
	move $((base + 4)) closing
	deaf_client off
	step client recv 80
	step client eof
	finish
	pass "IPv$family: CLOSE_WAIT, FIN_WAIT2, FIN_WAIT1, LAST_ACK, CLOSING move, each byte in place, EOF where due"
done

capture_stop "$wire" "$dir/rst.pcap"
[ "$(tcpdump -nr "$dir/rst.pcap" 2> /dev/null | wc -l)" = 0 ] ||
	fail "RST on the wire: $(tcpdump -nr "$dir/rst.pcap" 2> /dev/null | head -3)"
[ "$(in_pod a crak -j sock show)" = "[]" ] || fail "the module still tracks a socket"
pass "no RST on the wire, nothing left tracked"
rm -rf "$dir"
