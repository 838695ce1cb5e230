#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=240
#
# A listening socket moves too.  Dumped, it lets no SYN in (a client that
# connects meanwhile retries); restored into a new process, beside its
# original, it supersedes it, and the waiting client gets through: no RST,
# over IPv4 and IPv6.  A listening socket with connections waiting in its
# accept queue is not dumped: the error says so, and nothing is left frozen.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../vif/lib.sh"
source "$(dirname "$0")/lib.sh"

dir=$LAB_DIR/shared/sockmig-listen
rm -rf "$dir"
mkdir -p "$dir"
ECHO="$PY $VIF_DIR/tcp_echo.py"
pod_create a

# listener PORT: "PID FD" of the pod's listening socket on PORT.
listener() { pod_sock a -l sport = :"$1"; }

port=7350
for addr in "$POD_IP4" "[$POD_IP6]"; do
	wire=$(capture_start peer eth0 "tcp port $port and $RST_FILTER" \
		"$dir/rst.pcap")
	server=$(on_bg a "ip netns exec pod $ECHO server $addr:$port")
	wait_bound a tcp $port
	read -r pid fd <<< "$(listener $port)"
	[ -n "$fd" ] || fail "$addr: no listening socket"
	out=$(in_pod a crak sock dump --pid "$pid" --fd "$fd" -o "$dir/listen.img") ||
		fail "$addr: dump failed: $out"
	late=$(on_bg peer "$ECHO client $addr:$port --sport 45010 --count 5")
	sleep 1.5
	[ -z "$(on peer ss -Htn state established sport = :45010)" ] ||
		fail "$addr: a client got in while the listening socket was dumped"
	copy=$(on_bg a "ip netns exec pod crak sock restore $dir/listen.img --fd 3 -- \
		$ECHO serve-fd 3")
	out=$(wait_job "$late") || fail "$addr: the client that waited failed: $out"
	echo "  $addr: $out"
	wait_job "$server" > /dev/null 2>&1
	out=$(on peer "$ECHO client $addr:$port --sport 45011 --count 5") ||
		fail "$addr: a new client failed: $out"
	[ "$(in_pod a crak -j sock show)" = "[]" ] || fail "$addr: the original is still tracked"
	capture_stop "$wire" "$dir/rst.pcap"
	out=$(wire_check "$dir/rst.pcap" rst) || fail "$addr: RST on the wire: $out"
	kill_job "$copy"
	wait_job "$copy" > /dev/null 2>&1
	port=$((port + 1))
done
pass "a listening socket moves to a new process; a client that connected meanwhile gets through"

idle=$(on_bg a "ip netns exec pod $ECHO idle $POD_IP4:7352")
for _ in $(seq 100); do
	[ -n "$(listener 7352)" ] && break
	sleep 0.1
done
if [ -z "$(listener 7352)" ]; then
	kill_job "$idle"
	fail "the idle listener is not there: $(wait_job "$idle" 2>&1)"
fi
waiting=$(on_bg peer "$PY -c '
import socket, time
s = socket.create_connection((\"$POD_IP4\", 7352))
time.sleep(30)'")
until_on peer 30 ss -Htn state established "'dport = :7352'" > /dev/null
read -r pid fd <<< "$(listener 7352)"
out=$(in_pod a crak sock dump --pid "$pid" --fd "$fd" -o "$dir/busy.img" 2>&1) &&
	fail "a listening socket with a connection waiting was dumped"
echo "$out" | grep -q "accept queue" || fail "the refusal does not say why: $out"
[ "$(in_pod a crak -j sock show)" = "[]" ] || fail "the refused dump left the socket frozen"
echo "  $out"
kill_job "$waiting"
kill_job "$idle"
pass "a listening socket with connections waiting is refused, and left as it was"
rm -rf "$dir"
