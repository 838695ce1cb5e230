#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab: timeout=300 kernels=6.12,6.1
#
# crak migrate moves a pod to crakd on another node over TCP, with no
# shared file: a server's conversation with a client on the peer goes on
# across the move (every round byte-exact, no SYN, no RST, and no
# retransmission timeout: the peer is told to wait), the pod runs on
# node b and nothing of it is left on node a, and crak migrate says the
# downtime.  Every failure before crakd has the process leaves the pod
# running on node a, unfrozen, and says why in one line: a sender with
# another key (crakd refuses it before reading anything else), no crakd at
# the address, a restore that fails there (a pod of that name exists).
# Connections that prove no key take no migration's place.  crakd ends
# cleanly on SIGTERM.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../vif/lib.sh"
source "$(dirname "$0")/../sockmig/lib.sh"

PORT=7506
CRAKD=192.0.2.2:7600
dir=$LAB_DIR/shared/migrate-crakd
rm -rf "$dir"
mkdir -p "$dir"
key_new "$dir/key"
key_new "$dir/other"

# refused MESSAGE CMD: CMD fails on node a with one error line saying MESSAGE.
refused() {
	local msg=$1 out
	shift
	out=$(on a "$* 2>&1 > /dev/null") && fail "'$*' worked"
	[ "$(grep -c '^crak: ' <<< "$out")" = 1 ] || fail "'$*' said more than one error: $out"
	grep -qF -- "$msg" <<< "$out" || fail "'$*' said '$out', not '$msg'"
}

# running NODE NAME: pod NAME runs on NODE, its crakvif not frozen.
running() {
	on "$1" crak ps | grep -q "^$2: running " || fail "pod $2 is not running on $1: $(on "$1" crak ps)"
}

crakd=$(crakd_start b "$CRAKD" "$dir/key" "$dir/crakd.log") || fail "crakd did not start"

on a "crak run --detach --name s --addr 198.51.100.10/24 --link eth0 -- sleep 1000" ||
	fail "crak run of pod s failed"
refused "crakd refused us" crak migrate s --to $CRAKD --key "$dir/other"
running a s
grep -q "refused: it does not hold our key" "$dir/crakd.log" ||
	fail "crakd did not log the refusal: $(cat "$dir/crakd.log")"
refused "Connection refused" crak migrate s --to 192.0.2.2:7601 --key "$dir/key"
running a s
on b "crak run --detach --name s --addr 198.51.100.11/24 --link eth0 -- sleep 1000" ||
	fail "crak run of pod s on b failed"
refused "pod 's' exists" crak migrate s --to $CRAKD --key "$dir/key"
running a s
on a crak stop s > /dev/null && on b crak stop s > /dev/null || fail "crak stop s failed"
pass "a sender with another key, no crakd, a restore that fails there: refused in one line, the pod runs on"

# Connections that do not prove the key (nine: more than the eight
# migrations crakd makes at once) take no migration's place.
rm -f "$dir/idle"
idle=$(on_bg peer "$PY -c '
import socket, sys, time
conns = [socket.create_connection((\"${CRAKD%:*}\", ${CRAKD#*:})) for _ in range(9)]
open(sys.argv[1], \"w\").close()
time.sleep(12)' $dir/idle")
wait_file "$dir/idle" 30 || fail "the peer did not open its connections: $(wait_job "$idle" 2>&1)"
on a "crak run --detach --name s --addr 198.51.100.10/24 --link eth0 -- sleep 1000" ||
	fail "crak run of pod s failed"
out=$(on a crak migrate s --to $CRAKD --key "$dir/key" 2>&1) ||
	fail "crak migrate failed beside nine connections that proved no key: $out"
running b s
on b crak stop s > /dev/null || fail "crak stop s on b failed"
kill_job "$idle" 2> /dev/null
wait_job "$idle" > /dev/null 2>&1
pass "nine connections that prove no key do not keep a migration out"

pod_conv a
on a "crak run --detach --name web --addr $POD_IP4/24,$POD_IP6/64 --link eth0 -- $POD_CONV server $POD_IP4 $PORT" ||
	fail "crak run of the server's pod failed"
until_on a 30 ss -N web -Hltn "'sport = :$PORT'" > /dev/null || fail "nothing listens in the pod"
client=$(conv_client 20 "$PORT" "$dir/progress" --interval 0.05)
wait_rounds "$dir/progress" 5
wire=$(capture_start peer eth0 "tcp port $PORT and $WIRE_FILTER" "$dir/wire.pcap")
rto=$(peer_timeouts)
out=$(on a crak migrate web --to $CRAKD --key "$dir/key" 2>&1) || fail "crak migrate failed: $out"
rto=$(($(peer_timeouts) - rto))
echo "  $out"
echo "  the peer counted $rto retransmission timeouts over the move"
grep -q "^migrated pod web to $CRAKD: downtime [0-9.]* s" <<< "$out" ||
	fail "crak migrate did not say the downtime: $out"
running b web
on a "! test -e /run/netns/web && ! test -e /run/crak/pods/web" || fail "pod web is still on node a"
out=$(conv_end "$dir/progress" "$client") || fail "the conversation broke: $out"
capture_stop "$wire" "$dir/wire.pcap"
out=$(wire_check "$dir/wire.pcap") || fail "SYN or RST on the wire: $out"
[ "$rto" = 0 ] || fail "the peer timed out $rto times: it was not told to wait"
on b crak stop web > /dev/null || fail "crak stop web on b failed"
pass "crak migrate moves a pod to crakd on node b: its conversation goes on, no SYN, no RST, no timeout"

kill_job "$crakd" TERM
wait_job "$crakd" > /dev/null || fail "crakd did not end cleanly on SIGTERM: $(tail -3 "$dir/crakd.log")"
grep -q "crakd: stopped" "$dir/crakd.log" || fail "crakd did not say it stopped"
pass "crakd ends cleanly on SIGTERM"
rm -rf "$dir"
